#!/usr/bin/env bash
# Run one stage of `make test` and append its wall time to reports/stage_times.tsv (stage, seconds, exit code),
# so a run says where its time went; `scripts/timed.sh --report` prints the table.
set -uo pipefail

TIMES=${STAGE_TIMES:-reports/stage_times.tsv}

if [[ ${1:-} == "--report" ]]; then
    [[ -f $TIMES ]] || exit 0
    awk -F'\t' '{ total += $2; printf "%-22s %6d s%s\n", $1, $2, ($3 == 0 ? "" : "  (failed)") }
        END { printf "%-22s %6d s (%.1f min)\n", "total", total, total / 60 }' "$TIMES"
    exit 0
fi

stage=$1
shift
mkdir -p "$(dirname "$TIMES")"
started=$(date +%s)
"$@"
code=$?
printf '%s\t%d\t%d\n' "$stage" $(($(date +%s) - started)) "$code" >>"$TIMES"
exit "$code"
