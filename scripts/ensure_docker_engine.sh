#!/usr/bin/env bash
# Make sure a Docker engine answers. On a Debian host (as root) install Debian's docker.io and start dockerd
# detached when none runs; elsewhere only report that the engine is missing.
set -euo pipefail

DEADLINE_SECONDS="${DOCKER_START_TIMEOUT:-60}"
export DEBIAN_FRONTEND=noninteractive

engine_answers() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_answers; then
    exit 0
fi
[[ "$(id -u)" == 0 ]] || { echo "ensure_docker_engine: no Docker engine answers and not root: start one (or join the docker group)" >&2; exit 1; }

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || { echo "ensure_docker_engine: dockerd missing and no apt-get to install docker.io" >&2; exit 1; }
    # Refresh the package lists only if there are none or docker.io is unknown to them.
    if ! apt-cache show docker.io >/dev/null 2>&1; then
        apt-get update -qq </dev/null
    fi
    apt-get install -y -qq docker.io </dev/null >/dev/null
fi

dockerd_pid=""
if ! pidof dockerd >/dev/null 2>&1; then
    # Detached from this shell, so the engine outlives the script (there may be no init system to start it).
    setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &
    dockerd_pid=$!
fi

deadline=$((SECONDS + DEADLINE_SECONDS))
until engine_answers; do
    if [[ -n "$dockerd_pid" ]] && ! kill -0 "$dockerd_pid" 2>/dev/null; then
        reason="$(grep -h 'failed to start daemon' /var/log/dockerd.log | tail -n 1 || true)"
        echo "ensure_docker_engine: dockerd exited: ${reason:-see /var/log/dockerd.log}" >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "ensure_docker_engine: dockerd did not answer within ${DEADLINE_SECONDS}s (see /var/log/dockerd.log)" >&2
        exit 1
    fi
    sleep 0.5
done
echo "ensure_docker_engine: engine $(docker version --format '{{.Server.Version}}') is up"
