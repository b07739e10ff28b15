#!/usr/bin/env bash
# Sets the lab up from the package registries (pinned versions, into lab/.deps) and records
# every case into lab/cases/<case>/. Usage: lab/record.sh [CASE...]   (default: all cases)
# Env: LAB_SKIP_SETUP=1 reuses lab/.deps; LAB_BASE_S / LAB_FAULT_S / LAB_AFTER_S change the
# timeline (seconds of baseline, fault, recovery).
set -euo pipefail
LAB="$(cd "$(dirname "$0")" && pwd)"
DEPS="$LAB/.deps"
BASE_S="${LAB_BASE_S:-50}"; FAULT_S="${LAB_FAULT_S:-30}"; AFTER_S="${LAB_AFTER_S:-15}"
PORTS="4318 7000 7001 8081 8082 8090 8091 8000 3000"
ALL_CASES="control cpu-leaf cpu-mid network-delay network-delay-kv errors silent-errors pool-exhaustion lock-contention slow-consumer load-surge retry-storm instance-cpu"
CASES="${*:-$ALL_CASES}"
PIDS=()

# The whole recording is bounded: the script re-runs itself under `timeout`.
if [ -z "${LAB_UNDER_TIMEOUT:-}" ]; then
  export LAB_UNDER_TIMEOUT=1
  exec timeout --signal=TERM --kill-after=20 2100 "$0" "$@"
fi

stop_all() {
  local pid
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap stop_all EXIT

setup() {
  mkdir -p "$DEPS"
  [ -x "$DEPS/venv/bin/python" ] || python3 -m venv "$DEPS/venv"
  "$DEPS/venv/bin/pip" install -q -r "$LAB/requirements.txt"
  (cd "$LAB/node" && npm ci --no-audit --no-fund --silent)
  CARGO_TARGET_DIR="$DEPS/target" nice cargo build --release --locked -q --manifest-path "$LAB/inventory/Cargo.toml"
}

check_ports() {
  local p
  for p in $PORTS; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "port $p is in use on 127.0.0.1: stop what holds it" >&2; exit 1
    fi
  done
}

wait_port() {
  local p="$1" i
  for i in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $p did not open" >&2; return 1
}

# start NAME CMD...: run in the background, stdout to the run's logs, PID kept.
start() {
  local name="$1"; shift
  "$@" >"$RUN/logs/$name.log" 2>"$RUN/logs/$name.err" &
  PIDS+=("$!")
  echo "$!" >"$RUN/pids/$name"
}

start_system() {
  local py="$DEPS/venv/bin/python" inv="$DEPS/target/release/lab-inventory"
  export LAB_CONTROL="$RUN/control" LAB_KV_PORT=7001 LAB_PAYMENTS_PORT=8090 LAB_RATE=6
  export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_BSP_SCHEDULE_DELAY=1000
  export OTEL_SEMCONV_STABILITY_OPT_IN=http PYTHONUNBUFFERED=1 PYTHONPATH="$LAB/py"
  start receiver "$py" "$LAB/py/receiver.py" 4318 "$RUN"; wait_port 4318
  start kvstore "$py" "$LAB/py/kvstore.py" 7000
  start proxy-kvstore "$py" "$LAB/py/delayproxy.py" 7001 7000 "$RUN/control/proxy-kvstore.json"
  start proxy-payments "$py" "$LAB/py/delayproxy.py" 8090 8091 "$RUN/control/proxy-payments.json"
  start inventory-1 "$inv" 8081 inventory-1 127.0.0.1:7001
  start inventory-2 "$inv" 8082 inventory-2 127.0.0.1:7001
  LAB_PORT=8091 start payments "$py" "$LAB/py/payments.py"
  LAB_PORT=8000 start orders "$py" "$LAB/py/orders.py"
  start fulfillment "$py" "$LAB/py/fulfillment.py"
  LAB_PORT=3000 start frontend node --require "$LAB/node/tracing.js" "$LAB/node/frontend.js"
  for p in 7000 7001 8090 8081 8082 8091 8000 3000; do wait_port "$p"; done
}

# The fault of each case: control file and its JSON, and how long it stays (seconds).
fault_of() {
  case "$1" in
    control)          echo "loadgen {\"rate\":7} 20" ;;
    cpu-leaf)         echo "payments {\"cpu_ms\":50} $FAULT_S" ;;
    cpu-mid)          echo "orders {\"cpu_ms\":40} $FAULT_S" ;;
    network-delay)    echo "proxy-payments {\"delay_ms\":150} $FAULT_S" ;;
    network-delay-kv) echo "proxy-kvstore {\"delay_ms\":40} $FAULT_S" ;;
    errors)           echo "inventory {\"error_rate\":0.7} $FAULT_S" ;;
    silent-errors)    echo "inventory {\"silent_rate\":0.5} $FAULT_S" ;;
    pool-exhaustion)  echo "orders {\"report_ms\":1500} $FAULT_S" ;;
    lock-contention)  echo "inventory {\"lock_hold_ms\":300,\"lock_period_ms\":350} $FAULT_S" ;;
    slow-consumer)    echo "fulfillment {\"work_ms\":250} $FAULT_S" ;;
    load-surge)       echo "loadgen {\"rate\":8.5} $FAULT_S" ;;
    retry-storm)      echo "payments {\"slow_ms\":1200} 10" ;;
    instance-cpu)     echo "inventory-2 {\"cpu_ms\":120} $FAULT_S" ;;
    *) echo "unknown case $1" >&2; return 1 ;;
  esac
}

now_ns() { date +%s%N; }

record_case() {
  local name="$1" target json length t0 t1 t2 t3 lg
  read -r target json length <<<"$(fault_of "$name")"
  RUN="$DEPS/run/$name"
  rm -rf "$RUN"; mkdir -p "$RUN/logs" "$RUN/pids" "$RUN/control"
  check_ports
  start_system
  sleep 2  # connection pools warm, exporters ready
  t0=$(now_ns)
  "$DEPS/venv/bin/python" "$LAB/py/loadgen.py" $((BASE_S + FAULT_S + AFTER_S)) 7 >"$RUN/logs/loadgen.log" 2>"$RUN/logs/loadgen.err" &
  lg=$!; PIDS+=("$lg"); echo "$lg" >"$RUN/pids/loadgen"
  sleep "$BASE_S"
  t1=$(now_ns); echo "$json" >"$RUN/control/$target.json.tmp"; mv "$RUN/control/$target.json.tmp" "$RUN/control/$target.json"
  sleep "$length"
  t2=$(now_ns); rm -f "$RUN/control/$target.json"
  wait "$lg" || true
  sleep 4  # the consumer drains, the exporters flush
  t3=$(now_ns)
  stop_all
  printf '{"case":"%s","target":"%s","control":%s,"loadgen_start_ns":%s,"fault_start_ns":%s,"fault_end_ns":%s,"end_ns":%s,"base_s":%s,"fault_s":%s,"after_s":%s,"rate":6,"seed":7}\n' \
    "$name" "$target" "$json" "$t0" "$t1" "$t2" "$t3" "$BASE_S" "$FAULT_S" "$AFTER_S" >"$RUN/injection.json"
  local out="$LAB/cases/$name"; mkdir -p "$out"
  gzip -9 -c "$RUN/traces.jsonl" >"$out/traces.jsonl.gz"
  "$DEPS/venv/bin/python" "$LAB/py/mergelogs.py" "$RUN/logs" | gzip -9 >"$out/logs.jsonl.gz"
  "$DEPS/venv/bin/python" "$LAB/py/truth.py" "$RUN/injection.json" "$RUN/traces.jsonl" >"$out/truth.json"
  echo "recorded $name: $(du -h "$out/traces.jsonl.gz" | cut -f1) traces, $(du -h "$out/logs.jsonl.gz" | cut -f1) logs"
}

[ -n "${LAB_SKIP_SETUP:-}" ] || setup
for c in $CASES; do record_case "$c"; done
