#!/usr/bin/env bash
# Checks every recorded case with cascade and prints the baseline table (Markdown):
# `cascade inspect` must report 0 skipped spans; `cascade analyze` gives the ranking, once
# with its own incident detection and once told the truth's incident window.
# Usage: lab/check.sh [CASCADE_BINARY]   (default: target/release/cascade of the repo)
set -euo pipefail
LAB="$(cd "$(dirname "$0")" && pwd)"
BIN="${1:-$LAB/../target/release/cascade}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# The truth's incident window as RFC 3339 instants (empty for a control).
window_of() {
  python3 - "$1" <<'PY'
import datetime, json, sys
t = json.load(open(sys.argv[1]))
inc = t.get("incident")
if inc:
    base = int(t["time_base_unix_ns"])
    at = lambda s: datetime.datetime.fromtimestamp((base + s * 1e9) / 1e9, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    print(f"{at(inc['start_s'])}..{at(inc['end_s'])}")
PY
}

echo "| case | truth root cause | fault kind | cascade #1 | #2 | #3 | rank of truth | #1 told the window (rank of truth) | spans | skipped |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for dir in "$LAB"/cases/*/; do
  c="$(basename "$dir")"
  files=("$dir/traces.jsonl.gz" --logs "$dir/logs.jsonl.gz")
  "$BIN" inspect "${files[@]}" --json >"$TMP/inspect.json"
  "$BIN" analyze "${files[@]}" --json >"$TMP/detected.json"
  win="$(window_of "$dir/truth.json")"
  if [ -n "$win" ]; then
    "$BIN" analyze "${files[@]}" --incident "$win" --json >"$TMP/told.json"
  else
    echo '{"root_causes":[],"windows":{}}' >"$TMP/told.json"
  fi
  python3 - "$c" "$dir/truth.json" "$TMP" <<'PY'
import json, sys
case, truth_path, tmp = sys.argv[1:4]
truth = json.load(open(truth_path))
ins = json.load(open(f"{tmp}/inspect.json"))
rc, where, kind = truth["root_cause"], truth.get("root_cause_instance"), truth["fault_kind"]

def ranked(doc):
    return [(r["service"], r["score"]) for r in doc.get("root_causes", [])]

def rank(doc):
    names = [s for s, _ in ranked(doc)]
    if rc is None:
        return "no incident: ok" if not doc["windows"].get("detected") else "incident reported (false positive)"
    return str(names.index(rc) + 1) if rc in names else "not ranked"

det, told = json.load(open(f"{tmp}/detected.json")), json.load(open(f"{tmp}/told.json"))
cells = [f"{s} ({v:.2f})" for s, v in ranked(det)[:3]]
cells += ["—"] * (3 - len(cells))
top_told = ranked(told)[:1]
told_cell = "—" if rc is None else (f"{top_told[0][0]} ({top_told[0][1]:.2f}), truth {rank(told)}" if top_told else f"none, truth {rank(told)}")
label = "none (control)" if rc is None else rc + (f" ({where})" if where else "")
print(f"| {case} | {label} | {kind} | " + " | ".join(cells) + f" | {rank(det)} | {told_cell} | {ins['spans']} | {ins['skipped']['count']} |")
PY
done
