#!/usr/bin/env bash
# Run a command with no network but loopback and no Docker engine in reach: a new network namespace (only `lo`,
# brought up) and a new mount namespace with an empty /run, which hides the engine's socket. This is how
# `make test-unit` proves the unit suite needs neither. Needs root (CI runs as root); elsewhere it says so and
# runs the command as it is.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: scripts/isolated.sh COMMAND [ARG...]" >&2
    exit 2
fi

if [[ $(id -u) -ne 0 ]] || ! command -v unshare >/dev/null; then
    echo "isolated.sh: not root (or no unshare): running without isolation" >&2
    exec "$@"
fi

exec unshare --net --mount -- bash -c '
    set -euo pipefail
    ip link set lo up 2>/dev/null || ifconfig lo up
    mount -t tmpfs -o size=16m tmpfs /run
    unset DOCKER_HOST
    if curl -s --max-time 3 -o /dev/null https://pypi.org 2>/dev/null; then
        echo "isolated.sh: the network is still reachable" >&2; exit 1
    fi
    if [[ -S /var/run/docker.sock ]]; then echo "isolated.sh: the Docker socket is still visible" >&2; exit 1; fi
    echo "isolated.sh: no network but loopback, no Docker engine in reach" >&2
    exec "$@"
' isolated "$@"
