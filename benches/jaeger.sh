#!/usr/bin/env bash
# Jaeger / Zipkin ingest throughput vs OTLP: renders ../shared/bench/data/spans_100k.jsonl as a
# Jaeger query-API document and as a Zipkin v2 span list (as the OTel exporters write them:
# µs times, tags, span.kind / otel.status_code / error tags, processes), then times
# `cascade inspect` on each of the three files and prints the median wall time and µs per span.
# Target: Jaeger and Zipkin within 1.5x of OTLP per span.
#
# Usage: benches/jaeger.sh [100k|1m]       (default: 100k; needs the bench venv with orjson)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH=$(cd ../shared/bench && pwd)
PY=$BENCH/.venv/bin/python
SIZE=${1:-100k}
OUT=${OUT:-/tmp/cascade-bench-jaeger}
RUNS=${RUNS:-9}
SRC=$BENCH/data/spans_$SIZE.jsonl
JAEGER=$BENCH/data/spans_$SIZE.jaeger.json
ZIPKIN=$BENCH/data/spans_$SIZE.zipkin.json

[ -f "$SRC" ] || { echo "missing $SRC (see benches/ingest.sh to generate it)"; exit 1; }
mkdir -p "$OUT"

convert() {
  "$PY" - "$SRC" "$JAEGER" "$ZIPKIN" <<'PY'
import sys
import orjson

KINDS = ["", "internal", "server", "client", "producer", "consumer"]

def value(v):
    if "stringValue" in v: return v["stringValue"], "string"
    if "intValue" in v: return int(v["intValue"]), "int64"
    if "boolValue" in v: return v["boolValue"], "bool"
    if "doubleValue" in v: return float(v["doubleValue"]), "float64"
    return orjson.dumps(v).decode(), "string"

def attrs(obj):
    return [(a["key"], *value(a.get("value") or {})) for a in obj.get("attributes") or []]

src, jaeger_out, zipkin_out = sys.argv[1:4]
traces = {}
zipkin = []
with open(src, "rb") as f:
    for line in f:
        if not line.strip():
            continue
        for rs in orjson.loads(line).get("resourceSpans") or []:
            res = attrs(rs.get("resource") or {})
            service = next((v for k, v, _ in res if k == "service.name"), "unknown_service")
            instance = next((v for k, v, _ in res if k == "service.instance.id"), service)
            process = {"serviceName": service,
                       "tags": [{"key": k, "type": t, "value": v} for k, v, t in res if k != "service.name"]}
            for ss in rs.get("scopeSpans") or []:
                scope = (ss.get("scope") or {}).get("name", "")
                for sp in ss.get("spans") or []:
                    tid, sid = sp["traceId"], sp["spanId"]
                    parent = sp.get("parentSpanId") or ""
                    start, end = int(sp["startTimeUnixNano"]), int(sp["endTimeUnixNano"])
                    kind = int(sp.get("kind") or 0)
                    code = int((sp.get("status") or {}).get("code") or 0)
                    message = (sp.get("status") or {}).get("message") or ""
                    tags = attrs(sp)
                    events = [(int(e.get("timeUnixNano") or 0), e.get("name", ""), attrs(e))
                              for e in sp.get("events") or []]
                    # Jaeger (OTel's OTLP -> Jaeger translation)
                    jt = [{"key": k, "type": t, "value": v} for k, v, t in tags]
                    if kind: jt.append({"key": "span.kind", "type": "string", "value": KINDS[kind]})
                    if scope: jt.append({"key": "otel.scope.name", "type": "string", "value": scope})
                    if code == 2:
                        jt.append({"key": "otel.status_code", "type": "string", "value": "ERROR"})
                        jt.append({"key": "error", "type": "bool", "value": True})
                        if message:
                            jt.append({"key": "otel.status_description", "type": "string", "value": message})
                    elif code == 1:
                        jt.append({"key": "otel.status_code", "type": "string", "value": "OK"})
                    spans, processes = traces.setdefault(tid, ([], {}))
                    processes[instance] = process
                    spans.append({
                        "traceID": tid, "spanID": sid, "operationName": sp.get("name", ""),
                        "references": [{"refType": "CHILD_OF", "traceID": tid, "spanID": parent}] if parent else [],
                        "startTime": start // 1000, "duration": (end - start) // 1000,
                        "tags": jt,
                        "logs": [{"timestamp": t // 1000,
                                  "fields": [{"key": "event", "type": "string", "value": n}]
                                            + [{"key": k, "type": ty, "value": v} for k, v, ty in a]}
                                 for t, n, a in events],
                        "processID": instance, "warnings": None})
                    # Zipkin v2 (OTel's Zipkin exporter: every tag a string)
                    zt = {k: (v if isinstance(v, str) else orjson.dumps(v).decode()) for k, v, _ in tags}
                    if code == 2:
                        zt["otel.status_code"] = "ERROR"
                        zt["error"] = message
                    elif code == 1:
                        zt["otel.status_code"] = "OK"
                    z = {"traceId": tid, "id": sid, "name": sp.get("name", ""),
                         "timestamp": start // 1000, "duration": (end - start) // 1000,
                         "localEndpoint": {"serviceName": service}, "tags": zt}
                    if parent: z["parentId"] = parent
                    if kind > 1: z["kind"] = KINDS[kind].upper()
                    if events: z["annotations"] = [{"timestamp": t // 1000, "value": n} for t, n, _ in events]
                    zipkin.append(z)
data = [{"traceID": t, "spans": s, "processes": p, "warnings": None} for t, (s, p) in traces.items()]
with open(jaeger_out, "wb") as f:
    f.write(orjson.dumps({"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}))
with open(zipkin_out, "wb") as f:
    f.write(orjson.dumps(zipkin))
print(f"{len(zipkin)} spans in {len(traces)} traces", file=sys.stderr)
PY
}

# measure: runs `cascade inspect --json` on the three files, interleaved, $RUNS times each;
# prints the median wall time, peak RSS, µs per span and the ratio to OTLP per span.
measure() {
  "$PY" - "$ROOT/target/release/cascade" "$RUNS" "$SRC" "$JAEGER" "$ZIPKIN" <<'PY'
import json, os, shutil, statistics, subprocess, sys, time

exe, runs, files = sys.argv[1], int(sys.argv[2]), dict(zip(["otlp", "jaeger", "zipkin"], sys.argv[3:6]))
walls = {k: [] for k in files}
spans = {}
for _ in range(runs):
    for label, path in files.items():
        start = time.perf_counter()
        out = subprocess.run([exe, "inspect", "--json", path], capture_output=True, check=True)
        walls[label].append(time.perf_counter() - start)
        spans[label] = json.loads(out.stdout)["spans"]

def peak_rss_mb(path):
    if not shutil.which("time") and not os.path.exists("/usr/bin/time"):
        return float("nan")
    run = subprocess.run(["/usr/bin/time", "-f", "%M", exe, "inspect", path],
                         capture_output=True, text=True, check=True)
    return int(run.stderr.strip().splitlines()[-1]) / 1024

base = None
for label, path in files.items():
    wall = statistics.median(walls[label])
    per_span = wall * 1e6 / spans[label]
    base = base or per_span
    size = os.path.getsize(path) >> 20
    print(f"{label:7s} {spans[label]:8d} spans {size:5d} MB  median {wall:6.3f} s  "
          f"(min {min(walls[label]):.3f})  {per_span:5.2f} us/span  x{per_span / base:4.2f} of OTLP  "
          f"peak RSS {peak_rss_mb(path):5.0f} MB")
PY
}

if [ ! -f "$JAEGER" ] || [ ! -f "$ZIPKIN" ] || [ "$SRC" -nt "$JAEGER" ]; then
  convert
fi
[ -x "$ROOT/target/release/cascade" ] || cargo build --release -q
echo "== cascade inspect, median of $RUNS interleaved runs (spans_$SIZE)"
measure
