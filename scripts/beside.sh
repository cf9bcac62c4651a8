#!/usr/bin/env bash
# Usage: scripts/beside.sh 'BESIDE COMMAND' MAIN COMMAND...
#
# Run MAIN COMMAND with BESIDE COMMAND (a shell string; empty for none) running at the same time, and fail if
# either fails: make test's way of putting another Python's unit suite beside a live stage. Both are started here,
# by the shell, at once: a `make -j 2` of the two left the start of one to make's job server, which in some runs
# held it back until the other had ended. Ctrl-C and SIGTERM reach both (each in its own process group, so a
# background job does not ignore SIGINT), and the exit code is the main command's, or else the other's.
set -uo pipefail

beside=${1?usage: beside.sh 'BESIDE COMMAND' MAIN COMMAND...}
shift
(($# > 0)) || { echo "beside.sh: no main command given" >&2; exit 2; }
[[ -n ${beside// /} ]] || exec "$@"

# Set before either starts; a signal that comes before both have started is passed on once they have.
main_pid=
beside_pid=
signal_received=
relay() {
    signal_received=$1
    kill "-$1" -- ${main_pid:+"-$main_pid"} ${beside_pid:+"-$beside_pid"} 2>/dev/null
}
trap 'relay INT' INT
trap 'relay TERM' TERM
trap 'relay HUP' HUP

# Neither reads a terminal: in their own process groups, a read would stop them (SIGTTIN).
set -m
bash -c "$beside" </dev/null &
beside_pid=$!
"$@" </dev/null &
main_pid=$!
set +m
[[ -z $signal_received ]] || relay "$signal_received"

# A trap interrupts `wait`: wait again until the process has ended, so the code returned is its own.
wait_for() {
    while kill -0 "$1" 2>/dev/null; do
        wait "$1"
    done
    wait "$1"
}

wait_for "$main_pid"
main_code=$?
wait_for "$beside_pid"
beside_code=$?
((beside_code == 0)) || echo "beside.sh: '$beside' failed (exit $beside_code)" >&2
((main_code != 0)) && exit "$main_code"
exit "$beside_code"
