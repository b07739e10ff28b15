"""Per-5-second view of a recorded run (a check while tuning, not part of the truth):
loadgen requests and median latency, error spans, payments/inventory calls, queue wait."""
import statistics
import sys
from collections import defaultdict

import spans as S

spans = S.load(sys.argv[1])
t0 = min(s.start for s in spans.values())
rows = defaultdict(lambda: defaultdict(list))
for sp in spans.values():
    b = int((sp.start - t0) / 5e9) * 5
    if sp.service == "loadgen":
        rows[b]["lg"].append(sp.dur_ms)
    if sp.error:
        rows[b]["err"].append(sp.service)
    if sp.kind == 3 and sp.service == "orders":
        tgt, _ = S.callee(sp)
        rows[b][tgt or "?"].append(sp.dur_ms)
    if sp.kind == 5:
        par = spans.get((sp.trace, sp.parent))
        if par:
            rows[b]["qwait"].append((sp.start - par.end) / 1e6)
for b in sorted(rows):
    r = rows[b]
    med = lambda k: round(statistics.median(r[k]), 1) if r[k] else "-"
    print(f"{b:4d}s lg n={len(r['lg']):4d} p50={med('lg'):>7} err={len(r['err']):4d} "
          f"pay n={len(r['payments']):4d} p50={med('payments'):>7} inv n={len(r['inventory']):4d} p50={med('inventory'):>6} "
          f"kv p50={med('kvstore'):>6} qwait p50={med('qwait')}")
