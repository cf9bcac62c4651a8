#!/usr/bin/env bash
# Fill build/wheels with the cp311 manylinux wheels pinned in requirements/service.lock. The image build installs
# from this directory only (pip inside the build needs no index), so it also builds with `--network none`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
LOCK="${LOCK:-$ROOT/requirements/service.lock}"
WHEELS="${WHEELS:-$ROOT/build/wheels}"

[[ -f "$LOCK" ]] || { echo "build_wheelhouse: $LOCK not found (run scripts/lock_service_deps.sh)" >&2; exit 1; }
mkdir -p "$WHEELS"
# One writer at a time: parallel test workers or builds may call this at once.
exec 9>"$WHEELS/.lock"
flock 9

# Prints the pins of the lock file that have no wheel in the wheelhouse; with --prune also deletes wheels the lock
# no longer pins, so a changed lock does not leave stale wheels in the build context.
check_wheelhouse() {
    "$PYTHON" - "$LOCK" "$WHEELS" "$@" <<'PY'
import pathlib, re, sys

def norm(name):
    return re.sub(r"[-_.]+", "_", name).lower()

lock, wheels = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
pins = set()
for line in lock.read_text().splitlines():
    line = line.split("#", 1)[0].strip()
    if line:
        name, _, version = line.partition("==")
        pins.add((norm(name), version.strip().lower()))
present = {}
for wheel in wheels.glob("*.whl"):
    name, version = wheel.name.split("-")[:2]
    present[(norm(name), version.lower())] = wheel
for name, version in sorted(pins - present.keys()):
    print(f"{name}=={version}")
if "--prune" in sys.argv[3:]:
    for key in present.keys() - pins:
        present[key].unlink()
PY
}

missing="$(check_wheelhouse)"
if [[ -z "$missing" ]]; then
    echo "build_wheelhouse: all pinned wheels present in $WHEELS"
else
    # Both manylinux tags: given manylinux_2_28 alone, pip can fall back to old releases with manylinux2014-only wheels.
    "$PYTHON" -m pip download --quiet --disable-pip-version-check \
        --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 \
        --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
        -r "$LOCK" -d "$WHEELS" \
        || { echo "build_wheelhouse: pip download of the pinned cp311 manylinux wheels failed (see above)" >&2; exit 1; }
    missing="$(check_wheelhouse)"
    [[ -z "$missing" ]] || { echo "build_wheelhouse: no wheel downloaded for: ${missing//$'\n'/ }" >&2; exit 1; }
fi
check_wheelhouse --prune >/dev/null
echo "build_wheelhouse: $(find "$WHEELS" -maxdepth 1 -name '*.whl' | wc -l) wheels in $WHEELS"
