#!/usr/bin/env bash
# Run one stage of `make test` and append its wall time to reports/stage_times.tsv (stage, seconds, exit code, start
# in seconds since the epoch), so a run says where its time went; `scripts/timed.sh --report` prints the table, with
# each stage's start from the run's, and the audit's verdict. Stages may overlap: the total is the run's wall time
# (first start to last end), not the sum.
set -uo pipefail

TIMES=${STAGE_TIMES:-reports/stage_times.tsv}

if [[ ${1:-} == "--report" ]]; then
    [[ -f $TIMES ]] || exit 0
    awk -F'\t' '
        NR == 1 || $4 < first { first = $4 }
        $4 + $2 > last { last = $4 + $2 }
        { stage[NR] = $1; seconds[NR] = $2; code[NR] = $3; start[NR] = $4 }
        END {
            printf "%-22s %6s   %s\n", "stage", "wall", "from start"
            for (i = 1; i <= NR; i++)
                printf "%-22s %6d s  +%4d s%s\n", stage[i], seconds[i], start[i] - first, (code[i] == 0 ? "" : "  (failed)")
            printf "%-22s %6d s (%.1f min)\n", "total (wall)", last - first, (last - first) / 60
        }' "$TIMES"
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
printf '%s\t%d\t%d\t%d\n' "$stage" $(($(date +%s) - started)) "$code" "$started" >>"$TIMES"
exit "$code"
