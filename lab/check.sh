#!/usr/bin/env bash
# Checks every recorded case with cascade and prints the baseline table (Markdown):
# `cascade inspect` must report 0 skipped spans; `cascade analyze` gives the ranking.
# Usage: lab/check.sh [CASCADE_BINARY]   (default: target/release/cascade of the repo)
set -euo pipefail
LAB="$(cd "$(dirname "$0")" && pwd)"
BIN="${1:-$LAB/../target/release/cascade}"
echo "| case | truth root cause | fault kind | cascade #1 | #2 | #3 | rank of truth | spans | skipped |"
echo "|---|---|---|---|---|---|---|---|---|"
for dir in "$LAB"/cases/*/; do
  c="$(basename "$dir")"
  inspect="$("$BIN" inspect "$dir/traces.jsonl.gz" --logs "$dir/logs.jsonl.gz")"
  spans="$(sed -n 's/^spans *\([0-9]*\) in .*/\1/p' <<<"$inspect")"
  skipped="$(sed -n 's/^skipped *\([0-9]*\).*/\1/p' <<<"$inspect")"
  "$BIN" analyze "$dir/traces.jsonl.gz" --logs "$dir/logs.jsonl.gz" --json 2>/dev/null |
    python3 -c '
import json, sys
case, truth_path, spans, skipped = sys.argv[1:5]
truth = json.load(open(truth_path))
doc = json.load(sys.stdin)
ranked = [(r["service"], r["score"]) for r in doc.get("root_causes", [])]
cells = [f"{s} ({v:.2f})" for s, v in ranked[:3]] + ["—"] * (3 - min(3, len(ranked)))
rc = truth["root_cause"]
where = truth.get("root_cause_instance")
names = [s for s, _ in ranked]
if rc is None:
    rank = "no incident: ok" if not doc["windows"].get("detected") else "incident reported (false positive)"
else:
    rank = str(names.index(rc) + 1) if rc in names else "not ranked"
label = "none (control)" if rc is None else (rc + (f" ({where})" if where else ""))
print(f"| {case} | {label} | {truth[\"fault_kind\"]} | " + " | ".join(cells) + f" | {rank} | {spans} | {skipped} |")
' "$c" "$dir/truth.json" "$spans" "$skipped"
done
