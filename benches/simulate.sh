#!/usr/bin/env bash
# Side-by-side replay benchmark: `cascade simulate` vs the SimPy peer (peer_simpy.py) on the
# three scenarios of shared/bench. Reports model events, process wall time, simulation-loop
# events/s and peak RSS (from /usr/bin/time -v), one run each (REPS=3 for medians by hand).
#
# Usage: benches/simulate.sh [CASCADE_BIN] [SCENARIO...]
#   CASCADE_BIN defaults to target/release/cascade; scenarios default to small retry_storm large.
#   SKIP_PEER=1 skips SimPy (large takes ~5 minutes there).
set -euo pipefail

BENCH=${BENCH:-$(cd "$(dirname "$0")/../../shared/bench" && pwd)}
PY=${PY:-$BENCH/.venv/bin/python}
BIN=${1:-target/release/cascade}
shift || true
SCENARIOS=("${@:-small retry_storm large}")
# shellcheck disable=SC2206
SCENARIOS=(${SCENARIOS[@]})
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# measure NAME CMD... -> prints "NAME wall_s rss_mb" and keeps stdout/stderr in $OUT/NAME.*
measure() {
    local name=$1
    shift
    /usr/bin/time -v "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$OUT/$name.err" |
        awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$OUT/$name.err")
    echo "$wall $rss"
}

printf "%-12s %-8s %12s %10s %14s %10s\n" scenario impl events wall_s events_per_s rss_mb
for s in "${SCENARIOS[@]}"; do
    model="$BENCH/scenarios/$s.json"
    read -r wall rss < <(measure "cascade_$s" "$BIN" simulate "$model")
    line=$(grep -o 'events=[0-9]* sim_wall_s=[0-9.]* events_per_s=[0-9]*' "$OUT/cascade_$s.err" | head -1)
    ev=$(sed -E 's/.*events=([0-9]+).*/\1/' <<<"$line")
    eps=$(sed -E 's/.*events_per_s=([0-9]+).*/\1/' <<<"$line")
    printf "%-12s %-8s %12s %10s %14s %10s\n" "$s" cascade "$ev" "$wall" "$eps" "$rss"
    c_eps=$eps c_wall=$wall
    if [[ -z "${SKIP_PEER:-}" ]]; then
        read -r wall rss < <(measure "simpy_$s" "$PY" "$BENCH/peer_simpy.py" "$model" --quiet)
        json=$(tail -1 "$OUT/simpy_$s.out")
        ev=$(sed -E 's/.*"events": ([0-9]+).*/\1/' <<<"$json")
        eps=$(sed -E 's/.*"events_per_s": ([0-9]+).*/\1/' <<<"$json")
        printf "%-12s %-8s %12s %10s %14s %10s\n" "$s" simpy "$ev" "$wall" "$eps" "$rss"
        awk -v a="$c_eps" -v b="$eps" -v wa="$c_wall" -v wb="$wall" -v s="$s" 'BEGIN {
            printf "%-12s ratio    events/s x%.0f, process wall x%.0f\n", s, a / b, (wa > 0 ? wb / wa : 0) }'
    fi
done
