#!/usr/bin/env bash
# Azurite, Microsoft's storage emulator, into build/node for the Blob model store tests (npm registry; Node.js 18+).
# The one place its version is named: `make install` and the tox environments both run this. Installs only if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

AZURITE_VERSION=3.35.0
[[ -x build/node/node_modules/.bin/azurite-blob ]] && exit 0
command -v npm >/dev/null 2>&1 \
    || { echo "install_azurite: npm is missing; install Node.js 18+ and npm (Debian: apt-get install nodejs npm)" >&2; exit 1; }
npm install --prefix build/node --no-audit --no-fund --loglevel=error "azurite@${AZURITE_VERSION}" </dev/null
