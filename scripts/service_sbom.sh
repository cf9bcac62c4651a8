#!/usr/bin/env bash
# The SBOM the image carries: CycloneDX JSON of requirements/service.lock, reproducible (no timestamp, no random
# serial), so an unchanged lock leaves the image's layers cached. It is made again only when the lock or the
# cyclonedx-bom version changed: a test session builds the image many times, and each SBOM cost seconds of CPU.
# Env: LOCK (default requirements/service.lock), SBOM (default build/sbom/service.cdx.json),
# SBOM_PYTHON (an interpreter with cyclonedx-bom; default the project's .venv, else python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK="${LOCK:-$ROOT/requirements/service.lock}"
SBOM="${SBOM:-$ROOT/build/sbom/service.cdx.json}"
SBOM_PYTHON="${SBOM_PYTHON:-$([[ -x "$ROOT/.venv/bin/python" ]] && echo "$ROOT/.venv/bin/python" || echo python3)}"

[[ -f "$LOCK" ]] || { echo "service_sbom: $LOCK not found (run scripts/lock_service_deps.sh)" >&2; exit 1; }
mkdir -p "$(dirname "$SBOM")"
# One writer at a time: image builds of parallel sessions call this at once.
exec 9>"$SBOM.lock"
flock 9

tool="$("$SBOM_PYTHON" -c 'from importlib.metadata import version; print(version("cyclonedx-bom"))' 2>/dev/null)" \
    || { echo "service_sbom: $SBOM_PYTHON has no cyclonedx-bom (make install puts it in .venv)" >&2; exit 1; }
key="$(sha256sum "$LOCK" | cut -d' ' -f1) cyclonedx-bom $tool"
if [[ -s "$SBOM" && "$(cat "$SBOM.key" 2>/dev/null)" == "$key" ]]; then
    echo "service_sbom: $SBOM is up to date with $LOCK" >&2
    exit 0
fi
"$SBOM_PYTHON" -m cyclonedx_py requirements "$LOCK" --output-reproducible --output-format JSON -o "$SBOM.new" \
    >"$SBOM.log" 2>&1 || { echo "service_sbom: no SBOM of $LOCK: $(tail -n 1 "$SBOM.log")" >&2; exit 1; }
mv "$SBOM.new" "$SBOM"
echo "$key" >"$SBOM.key"
echo "service_sbom: wrote $SBOM" >&2
