#!/usr/bin/env bash
# Build the service image: make sure an engine runs, fill the wheelhouse, choose a base image, `docker build`.
# Progress goes to stderr; the only line on stdout is the image reference built.
# Env: IMAGE (default garch-mlops), BASE_IMAGE (skip the choice), PYTHON (host interpreter for pip download),
# SBOM_PYTHON (an interpreter with cyclonedx-bom, for scripts/service_sbom.sh),
# DOCKER_BUILD_ARGS (extra `docker build` arguments, e.g. "--network none --no-cache"),
# BUILD_LOCK_WAIT_S (how long to wait for another build of the same IMAGE on this machine; default 900).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${IMAGE:-garch-mlops}"
PYTHON="${PYTHON:-python3}"
SLIM_IMAGE="python:3.11-slim"
LOCAL_BASE_IMAGE="${LOCAL_BASE_IMAGE:-garch-mlops/python-base:3.11-bookworm}"
cd "$ROOT"

# One build of an image name at a time on this machine: BuildKit exporting the same tag from two builds at once fails
# one of them ("image ... already exists", moby/buildkit#6477), and test workers and sessions build side by side.
BUILD_LOCK="${TMPDIR:-/tmp}/garch-mlops-build-${IMAGE//\//_}.lock"
BUILD_LOCK_WAIT_S="${BUILD_LOCK_WAIT_S:-900}"
exec 9>"$BUILD_LOCK"
flock -w "$BUILD_LOCK_WAIT_S" 9 || {
    echo "build_image: another build of $IMAGE held $BUILD_LOCK for ${BUILD_LOCK_WAIT_S}s" >&2
    exit 1
}

# Without the lock's descriptor: a dockerd started here would hold it, and the lock, for as long as it runs.
"$ROOT/scripts/ensure_docker_engine.sh" >&2 9>&-
PYTHON="$PYTHON" "$ROOT/scripts/build_wheelhouse.sh" >&2

# The SBOM the image carries (/usr/share/garch-mlops/sbom.cdx.json), made again only when the lock changed.
"$ROOT/scripts/service_sbom.sh"

if [[ -z "${BASE_IMAGE:-}" ]]; then
    # Use python:3.11-slim only if it is already local: a pull can hang where no registry is reachable.
    if docker image inspect "$SLIM_IMAGE" >/dev/null 2>&1; then
        BASE_IMAGE="$SLIM_IMAGE"
    else
        BASE_TAG="$LOCAL_BASE_IMAGE" "$ROOT/scripts/build_base_image.sh" >&2
        BASE_IMAGE="$LOCAL_BASE_IMAGE"
    fi
fi

# The version of pyproject.toml's [project] table (awk: no TOML parser needed on the host).
VERSION="$(awk '/^\[/ { in_project = ($0 == "[project]") } in_project && /^version *=/ { gsub(/.*= *"|".*/, ""); print; exit }' pyproject.toml)"
[[ -n "$VERSION" ]] || { echo "build_image: no version in the [project] table of pyproject.toml" >&2; exit 1; }
REVISION="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"

echo "build_image: building $IMAGE:$VERSION (revision $REVISION) on $BASE_IMAGE" >&2
# shellcheck disable=SC2086  # DOCKER_BUILD_ARGS is a list of words on purpose
docker build ${DOCKER_BUILD_ARGS:-} \
    --build-arg BASE_IMAGE="$BASE_IMAGE" \
    --build-arg VERSION="$VERSION" \
    --build-arg REVISION="$REVISION" \
    -t "$IMAGE:$VERSION" -t "$IMAGE:latest" \
    "$ROOT" >&2 \
    || { echo "build_image: docker build of $IMAGE:$VERSION failed" >&2; exit 1; }
echo "$IMAGE:$VERSION"
