#!/usr/bin/env bash
# Make sure wrk (the benchmarks' HTTP load generator) is on PATH: install Debian's package as root when missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

command -v wrk >/dev/null 2>&1 && exit 0
[[ "$(id -u)" == 0 ]] || { echo "ensure_wrk: wrk is missing and not root: apt-get install wrk" >&2; exit 1; }
command -v apt-get >/dev/null 2>&1 || { echo "ensure_wrk: wrk is missing and there is no apt-get to install it" >&2; exit 1; }
# Refresh the package lists only if there are none or wrk is unknown to them.
if ! apt-cache show wrk >/dev/null 2>&1; then
    apt-get update -qq </dev/null
fi
apt-get install -y -qq --no-install-recommends wrk </dev/null >/dev/null
echo "ensure_wrk: $(wrk --version 2>&1 | head -n 1)"
