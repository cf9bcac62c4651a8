#!/usr/bin/env bash
# Run one stage of `make test` and append its wall time to reports/stage_times.tsv (stage, seconds, exit code),
# so a run says where its time went; `scripts/timed.sh --report` prints the table, and the audit's verdict.
set -uo pipefail

TIMES=${STAGE_TIMES:-reports/stage_times.tsv}

if [[ ${1:-} == "--report" ]]; then
    [[ -f $TIMES ]] || exit 0
    awk -F'\t' '{ total += $2; printf "%-22s %6d s%s\n", $1, $2, ($3 == 0 ? "" : "  (failed)") }
        END { printf "%-22s %6d s (%.1f min)\n", "total", total, total / 60 }' "$TIMES"
    # The known-vulnerability gate's verdict beside the times: passed, findings, or not run and why.
    audit="$(dirname "$TIMES")/audit.json"
    [[ -f $audit ]] && sed -n 's/^ *"summary": "\(.*\)",\{0,1\}$/supply-chain: \1/p' "$audit" | head -n 1
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
