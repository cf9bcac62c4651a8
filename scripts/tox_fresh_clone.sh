#!/usr/bin/env bash
# The tox environments as a new contributor meets them: a fresh clone of HEAD (nothing installed in it, no build/),
# each environment run in turn. Usage: scripts/tox_fresh_clone.sh [ENV...] (default: unit local). TOX overrides the
# tox to use (default: this checkout's .venv/bin/tox). The clone is removed afterwards.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tox="${TOX:-$root/.venv/bin/tox}"
[[ -x "$tox" ]] || { echo "tox_fresh_clone: no tox at $tox: run \`make install\` (or set TOX)" >&2; exit 1; }
envs=("$@")
[[ ${#envs[@]} -gt 0 ]] || envs=(unit local)

clone="$(mktemp -d "${TMPDIR:-/tmp}/garch-fresh-clone-XXXXXX")"
trap 'rm -rf "$clone"' EXIT
git clone --quiet "$root" "$clone"
cd "$clone"
for env in "${envs[@]}"; do
    echo "tox_fresh_clone: tox -e $env in $clone ($(git rev-parse --short HEAD))" >&2
    "$tox" -e "$env"
done
