#!/usr/bin/env bash
# Ingest benchmark: cascade inspect --export (CSV tables only, then with Parquet) vs the polars+orjson and DuckDB peers, side by side.
#
# Sets up ../shared/bench (venv + data) when missing, builds release, then for spans_100k and
# spans_1m prints wall time and peak RSS (/usr/bin/time -v) of each tool and checks that
# cascade's edges.csv and service_rates.csv agree with DuckDB's (compare_edges.py).
#
# Usage: benches/ingest.sh [100k] [1m]        (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH=$(cd ../shared/bench && pwd)
PY=$BENCH/.venv/bin/python
OUT=${OUT:-/tmp/cascade-bench-ingest}
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100k 1m)

setup() {
  if [ ! -x "$PY" ]; then
    (cd "$BENCH" && python3 -m venv .venv && .venv/bin/pip install -q -r requirements.txt)
  fi
  mkdir -p "$BENCH/data"
  for s in "${sizes[@]}"; do
    local n=100000; [ "$s" = 1m ] && n=1000000
    if [ ! -f "$BENCH/data/spans_$s.jsonl" ]; then
      (cd "$BENCH" && .venv/bin/python gen_otlp.py --spans $n --format jsonl --seed 42 \
        --out "data/spans_$s.jsonl" --logs "data/logs_$s.jsonl")
    fi
  done
}

# timed LABEL CMD... : runs CMD under /usr/bin/time -v, prints "LABEL wall_s rss_mb".
timed() {
  local label=$1; shift
  local log="$OUT/time-$label.txt"
  /usr/bin/time -v "$@" >"$OUT/out-$label.txt" 2>"$log" || { cat "$log"; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
  printf '%-28s %8.2f s %8s MB\n' "$label" "$wall" "$rss"
}

setup
[ -x /usr/bin/time ] || apt-get install -y -q time >/dev/null
cargo build --release -q
mkdir -p "$OUT"
for s in "${sizes[@]}"; do
  in="$BENCH/data/spans_$s.jsonl"
  echo "== spans_$s.jsonl ($(du -m "$in" | cut -f1) MB)"
  rm -rf "$OUT/cascade-$s" "$OUT/cascade-parquet-$s"
  # Like for like with the peers: frames in memory + edges.csv + service_rates.csv.
  timed "cascade-tables-$s" "$ROOT/target/release/cascade" inspect "$in" --export "$OUT/cascade-$s" --tables-only
  # Everything --export writes (also the four frames as Parquet).
  timed "cascade-export-parquet-$s" "$ROOT/target/release/cascade" inspect "$in" --export "$OUT/cascade-parquet-$s"
  timed "polars+orjson-$s" "$PY" "$BENCH/peer_polars.py" "$in" --loader orjson \
    --edges-out "$OUT/edges_polars_$s.csv" --persec-out "$OUT/persec_polars_$s.csv"
  timed "duckdb-$s" "$PY" "$BENCH/peer_duckdb.py" "$in" \
    --edges-out "$OUT/edges_duckdb_$s.csv" --persec-out "$OUT/persec_duckdb_$s.csv"
  "$PY" "$BENCH/compare_edges.py" "$OUT/edges_duckdb_$s.csv" "$OUT/cascade-$s/edges.csv" \
    --persec "$OUT/persec_duckdb_$s.csv" "$OUT/cascade-$s/service_rates.csv"
done
