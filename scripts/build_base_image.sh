#!/usr/bin/env bash
# Build a local Python 3.11 base image (Debian bookworm + python3) for hosts that cannot pull python:3.11-slim:
# debootstrap a minimal root filesystem, import it as an image, then install python3 on it (scripts/base-image.Dockerfile).
# Needs root (debootstrap) and a reachable Debian mirror; no container registry.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_TAG="${BASE_TAG:-garch-mlops/python-base:3.11-bookworm}"
DEBIAN_IMAGE="${DEBIAN_IMAGE:-debian-local:bookworm}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
export DEBIAN_FRONTEND=noninteractive

if docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
    echo "build_base_image: $BASE_TAG already present"
    exit 0
fi
# One build at a time (parallel test workers may all find the image missing); then look again.
exec 9>"${TMPDIR:-/tmp}/garch-mlops-base-image.lock"
flock 9
if docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
    echo "build_base_image: $BASE_TAG already present"
    exit 0
fi

if ! docker image inspect "$DEBIAN_IMAGE" >/dev/null 2>&1; then
    [[ "$(id -u)" == 0 ]] || { echo "build_base_image: debootstrap needs root (run as root or provide $DEBIAN_IMAGE)" >&2; exit 1; }
    if ! command -v debootstrap >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 || { echo "build_base_image: debootstrap missing and no apt-get to install it" >&2; exit 1; }
        apt-get update -qq
        apt-get install -y -qq debootstrap >/dev/null
    fi
    ROOTFS="$(mktemp -d "${TMPDIR:-/var/tmp}/bookworm-rootfs.XXXXXX")"
    cleanup() {
        # debootstrap unmounts its /proc, /sys and /dev mounts itself; should it die early, never recurse into them.
        grep -o " $ROOTFS/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        rm -rf --one-file-system "$ROOTFS" "$ROOTFS.log"
    }
    trap cleanup EXIT
    echo "build_base_image: debootstrap bookworm into $ROOTFS"
    debootstrap --variant=minbase bookworm "$ROOTFS" "$DEBIAN_MIRROR" >"$ROOTFS.log" 2>&1 \
        || { tail -n 20 "$ROOTFS.log" >&2; echo "build_base_image: debootstrap failed (mirror $DEBIAN_MIRROR)" >&2; exit 1; }
    # Package caches are not needed in the image.
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
    tar -C "$ROOTFS" -c . | docker import - "$DEBIAN_IMAGE" >/dev/null
fi

# No build context is needed: the Dockerfile comes on stdin.
docker build --build-arg DEBIAN_IMAGE="$DEBIAN_IMAGE" --build-arg DEBIAN_MIRROR="$DEBIAN_MIRROR" \
    -t "$BASE_TAG" - <"$ROOT/scripts/base-image.Dockerfile"
echo "build_base_image: built $BASE_TAG"
