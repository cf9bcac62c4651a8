#!/usr/bin/env bash
# Debian packages the suites use: Prometheus and Alertmanager (alert rules fire for real), the image registry that
# stands in for Azure Container Registry in the ARM rehearsal, wrk (the benchmarks' load generator) and iproute2
# (scripts/isolated.sh brings up loopback in an empty network namespace). Installs only what is missing;
# needs root on Debian (elsewhere it names what to install and fails).
set -euo pipefail

declare -A PACKAGE_OF=(
    [prometheus]=prometheus
    [prometheus-alertmanager]=prometheus-alertmanager
    [promtool]=prometheus
    [amtool]=prometheus-alertmanager
    [docker-registry]=docker-registry
    [wrk]=wrk
    [ip]=iproute2
)
missing=()
for command in "${!PACKAGE_OF[@]}"; do
    command -v "$command" >/dev/null 2>&1 || missing+=("${PACKAGE_OF[$command]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install_system_packages: missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]})" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null \
    || { echo "install_system_packages: apt-get install ${missing[*]} failed" >&2; exit 1; }
echo "install_system_packages: installed ${missing[*]}" >&2
