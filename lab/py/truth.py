"""Truth of one recorded case (cascade.truth/v1) from what was injected and from the spans.

Usage: truth.py RUN/injection.json RUN/traces.jsonl [RUN/logs] > truth.json

What was injected (service, instance, kind, instants) comes from the recorder. What the
data shows is measured here, per service, comparing the fault window with the baseline:
  latency  durations of its SERVER spans (a consumer: end of the publish to end of processing; the
           load generator: its root CLIENT spans; the uninstrumented store: its callers'
           CLIENT spans to it);
  errors   share of its spans with status ERROR, and its ERROR log records per second;
  rose     Cliff's delta of fault vs baseline >= 0.33 (a "medium" effect, Romano et al.)
           and a median at least 15 % higher; errors: +2 points with >= 3 error spans, or
           error logs at more than twice the baseline rate with >= 3 records.
Roles: the injected service is the source; a service whose latency or errors rose is
infected when the recorded call graph has a path from it to the source (it waits on it),
affected otherwise; the rest are healthy. The incident window opens at the injection and ends when
every latency signal that departed during the fault (each service's, and the queue wait)
is back under its baseline 95th percentile as often as in the baseline's own 5 s windows,
for the rest of the recording (or at its end); roles are measured over it.
"""
import json
import os
import statistics
import sys
from collections import defaultdict

import spans as S

KINDS = {
    "control": "none", "cpu-leaf": "cpu", "cpu-mid": "cpu", "network-delay": "network_delay",
    "network-delay-kv": "network_delay", "errors": "errors", "silent-errors": "silent_errors",
    "pool-exhaustion": "pool_exhaustion", "lock-contention": "lock_contention",
    "slow-consumer": "slow_consumer", "load-surge": "load_surge", "retry-storm": "retry_storm",
    "instance-cpu": "cpu",
}
WARMUP_S = 5.0  # the first seconds of load fill pools and JIT caches: not baseline
DELTA, RATIO = 0.33, 1.15


def cliff(xs, ys):
    """Cliff's delta P(x > y) - P(x < y), by sorting (O(n log n))."""
    if not xs or not ys:
        return 0.0
    ys = sorted(ys)
    import bisect
    gt = lt = 0
    for x in xs:
        lt += len(ys) - bisect.bisect_right(ys, x)
        gt += bisect.bisect_left(ys, x)
    return (gt - lt) / (len(xs) * len(ys))


def p(values, q):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def operation(sp):
    """A span's operation: its name and route (or path), so `GET /buy` and `GET /catalog`
    of a plain HTTP server stay apart."""
    path = sp.attrs.get("http.route") or sp.attrs.get("url.path")
    if not path and sp.attrs.get("url.full"):
        path = "/" + str(sp.attrs["url.full"]).split("/", 3)[-1].split("?")[0]
    return f"{sp.name} {path}" if path else sp.name


def source_of(target):
    if target == "control":
        return None, None
    if target == "loadgen":
        return "frontend", None  # a surge: the front door it came in at
    if target.startswith("proxy-"):
        return target[len("proxy-"):], None
    if target.startswith("inventory-"):
        return "inventory", target
    return target, None


def error_logs(folder):
    """(service, unix s) of every ERROR record of the JSON logs."""
    out = []
    if not folder or not os.path.isdir(folder):
        return out
    import datetime
    for name in os.listdir(folder):
        if not name.endswith(".log"):
            continue
        for line in open(os.path.join(folder, name), encoding="utf-8", errors="replace"):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("levelname") in ("ERROR", "CRITICAL"):
                t = datetime.datetime.strptime(r["asctime"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                out.append((r.get("otelServiceName") or name[:-4], t))
            elif isinstance(r.get("level"), int) and r["level"] >= 50:
                out.append((r.get("name", name[:-4]), r["time"] / 1000.0))
    return out


def main():
    inj = json.load(open(sys.argv[1]))
    spans = S.load(sys.argv[2])
    logs = error_logs(sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(sys.argv[2]), "logs"))
    t0 = inj["loadgen_start_ns"]
    rel = lambda ns: (ns - t0) / 1e9
    fs, fe = rel(inj["fault_start_ns"]), rel(inj["fault_end_ns"])
    load_end = inj["base_s"] + inj["fault_s"] + inj["after_s"]
    end = min(load_end, rel(inj["end_ns"]))
    case = inj["case"]
    src, src_inst = (None, None) if KINDS[case] == "none" else source_of(inj["target"])

    # Per-service samples (time s, latency ms, own ms, error) and the call graph.
    samples = defaultdict(list)
    errors = defaultdict(list)
    calls = set()
    attempts = defaultdict(lambda: defaultdict(int))  # (caller, callee) -> parent span -> n
    timeouts = []
    op_samples = defaultdict(list)
    attempt_start = {}
    queue_wait = []
    for sp in spans.values():
        t = rel(sp.start)
        errors[sp.service].append((t, sp.error))
        if sp.kind == 5 and (sp.trace, sp.parent) in spans:
            # a consumer's latency is the delivery's: from the publish to the end of processing
            sent = spans[(sp.trace, sp.parent)].end
            samples[sp.service].append((t, (sp.end - sent) / 1e6, S.own_ms(sp)))
            op_samples[(sp.service, sp.name)].append((t, (sp.end - sent) / 1e6))
        elif sp.kind in (2, 5) or (sp.kind == 3 and not sp.parent):
            samples[sp.service].append((t, sp.dur_ms, S.own_ms(sp)))
            op_samples[(sp.service, operation(sp))].append((t, sp.dur_ms))
        if sp.kind in (3, 4):
            target, child = S.callee(sp)
            if target and target != sp.service:
                calls.add((sp.service, target))
                if child is None and sp.kind == 3 and sp.attrs.get("peer.service"):
                    samples[target].append((t, sp.dur_ms, sp.dur_ms))
                if sp.parent:
                    first = attempt_start.setdefault((sp.service, target, sp.parent), t)
                    attempts[(sp.service, target)][(sp.parent, first)] += 1
            text = (sp.status_message + " " + " ".join(sp.event_names) + " " + str(sp.attrs.get("error.type", ""))).lower()
            if sp.kind == 3 and sp.error and "timeout" in text:
                timeouts.append(t)
    for sp in spans.values():
        if sp.kind == 5:
            parent = spans.get((sp.trace, sp.parent))
            if parent is not None:
                # from the end of the publish (the message handed over) to the consumer's start
                queue_wait.append((rel(sp.start), (sp.start - parent.end) / 1e6))

    base = lambda t: WARMUP_S <= t < fs
    in_fault = lambda t: fs <= t < fe
    services = sorted(set(samples) | {s for s, _ in calls} | {c for _, c in calls})

    def rose(svc, window):
        lat_b = [d for t, d, _ in samples[svc] if base(t)]
        lat_f = [d for t, d, _ in samples[svc] if window(t)]
        out = {"n_base": len(lat_b), "n_fault": len(lat_f)}
        if lat_b and lat_f:
            out["median_base_ms"] = round(statistics.median(lat_b), 2)
            out["median_fault_ms"] = round(statistics.median(lat_f), 2)
            out["cliff_delta"] = round(cliff(lat_f, lat_b), 3)
            out["latency_rose"] = out["cliff_delta"] >= DELTA and out["median_fault_ms"] >= RATIO * out["median_base_ms"]
        else:
            out["latency_rose"] = False
        # An operation of its own can rise while the mix hides it (a fast route beside a
        # slow one): each operation with >= 10 samples on both sides is compared too.
        for (s, op), pts in sorted(op_samples.items()):
            b = [d for t, d in pts if s == svc and base(t)]
            f = [d for t, d in pts if s == svc and window(t)]
            if len(b) >= 10 and len(f) >= 10 and cliff(f, b) >= DELTA and \
                    statistics.median(f) >= RATIO * statistics.median(b):
                out.setdefault("rose_operations", []).append(op)
                out["latency_rose"] = True
        eb = [e for t, e in errors[svc] if base(t)]
        ef = [e for t, e in errors[svc] if window(t)]
        rb = sum(eb) / len(eb) if eb else 0.0
        rf = sum(ef) / len(ef) if ef else 0.0
        out["error_share_base"], out["error_share_fault"] = round(rb, 4), round(rf, 4)
        lb = sum(1 for s, t in logs if s == svc and base(rel(int(t * 1e9))))
        lf = sum(1 for s, t in logs if s == svc and window(rel(int(t * 1e9))))
        out["error_logs_base"], out["error_logs_fault"] = lb, lf
        base_len = max(fs - WARMUP_S, 1.0)
        win_len = max(sum(1 for sec in range(int(fs), int(load_end)) if window(sec + 0.5)), 1.0)
        out["errors_rose"] = (rf - rb >= 0.02 and sum(ef) >= 3) or (lf >= 3 and lf / win_len > 2 * lb / base_len)
        return out

    reach = defaultdict(set)
    for a, b in calls:
        reach[a].add(b)

    def waits_on(a, b):
        seen, todo = set(), [a]
        while todo:
            x = todo.pop()
            for y in reach[x]:
                if y == b:
                    return True
                if y not in seen:
                    seen.add(y)
                    todo.append(y)
        return False

    # The window: from the injection until every changed signal is back under its baseline p95.
    series = {s: [(t, d) for t, d, _ in samples[s]] for s in services}
    series["queue_wait"] = queue_wait
    def shares(pts, lo, hi, thr):
        """(window start, share over thr, over-threshold times) of each 5 s window with >= 5
        samples, stepping 1 s from lo to hi."""
        out, s = [], lo
        pts = sorted(pts)
        while s + 5 <= hi or (s < hi and not out):
            win = [(t, d) for t, d in pts if s <= t < s + 5]
            over = [t for t, d in win if d > thr]
            if len(win) >= 5:
                out.append((s, len(over) / len(win), over))
            s += 1.0
        return out

    def window_end(pts):
        """The last sample over the baseline p95 in a still-bad 5 s window after the fault:
        a window whose share over the p95 is above a quarter and above every baseline
        window's (queues are bursty: the baseline sets its own bar)."""
        thr = p([d for t, d in pts if base(t)], 0.95)
        bar = max([0.25] + [share for _, share, _ in shares(pts, WARMUP_S, fs, thr)])
        last = fe
        for _, share, over in shares(pts, fe, load_end - 1, thr):
            if share > bar:
                last = max(last, max(over))
        return last

    def departed(pts):
        b = [d for t, d in pts if base(t)]
        f = [d for t, d in pts if in_fault(t)]
        return bool(b and f) and cliff(f, b) >= DELTA and statistics.median(f) >= RATIO * statistics.median(b)

    # Only signals that departed during the fault can hold the window open: a queue wait
    # is autocorrelated, and its ordinary bursts would otherwise stretch every window.
    recovered = max([fe] + [window_end(pts) for pts in series.values() if departed(pts)])
    recovered = min(recovered, end)

    in_incident = lambda t: fs <= t < recovered
    measured = {s: rose(s, in_incident) for s in services}
    roles = {}
    for s in services:
        m = measured[s]
        if src is None:
            roles[s] = "healthy"
        elif s == src:
            roles[s] = "source"
        elif m["latency_rose"] or m["errors_rose"]:
            roles[s] = "infected" if waits_on(s, src) else "affected"
        else:
            roles[s] = "healthy"

    # Mechanisms the data shows.
    mech = []
    infected = [s for s in services if roles[s] == "infected"]
    if any(measured[s]["latency_rose"] for s in infected):
        mech.append("latency_contagion")
    if any(measured[s]["errors_rose"] for s in infected):
        mech.append("error_propagation")
    amp = {}
    for edge, groups in attempts.items():
        b = [n for (par, sec), n in groups.items() if base(sec)]
        f = [n for (par, sec), n in groups.items() if fs <= sec < recovered]
        if b and f:
            amp[f"{edge[0]}->{edge[1]}"] = (round(statistics.mean(b), 3), round(statistics.mean(f), 3), sum(f) - len(f))
    if src and any(fm >= bm + 0.1 and extra >= 10 for bm, fm, extra in amp.values()):
        mech.append("retry_amplification")
    qb = [w for t, w in queue_wait if base(t)]
    qf = [w for t, w in queue_wait if fs <= t < recovered]
    if src and qb and qf and p(qf, 0.9) > 3 * p(qb, 0.9) and p(qf, 0.9) > 200:
        mech.append("queue_growth")
    tb = sum(1 for t in timeouts if base(t))
    tf = sum(1 for t in timeouts if fs <= t < recovered)
    if src and tf >= 3 and tf > 3 * tb:
        mech.append("timeouts")
    # Metastable: the users' latency stayed up for 10 s or more after the trigger ended and
    # retries were still amplifying the load 5 s after it (not just a backlog draining).
    if src and "loadgen" in samples:
        user_end = window_end([(t, d) for t, d, _ in samples["loadgen"]])
        late = lambda t: fe + 5 <= t < user_end
        amp_late = any(statistics.mean([n for (par, sec), n in g.items() if late(sec)] or [1]) >=
                       statistics.mean([n for (par, sec), n in g.items() if base(sec)] or [1]) + 0.1
                       for g in attempts.values())
        if user_end - fe >= 10 and amp_late:
            mech.append("metastable_failure")

    fault = {"service": src, "start_s": round(fs, 3), "end_s": round(fe, 3),
             "latency_multiplier": None, "error_rate": float(inj["control"].get("error_rate", 0.0)),
             "control_file": inj["target"] + ".json", "control": inj["control"]}
    if src and src in samples:
        own_b = [o for t, _, o in samples[src] if base(t)]
        own_f = [o for t, _, o in samples[src] if in_fault(t)]
        if own_b and own_f:
            fault["latency_multiplier"] = round(statistics.median(own_f) / max(statistics.median(own_b), 1e-3), 2)
    if src_inst:
        fault["instance"] = src_inst
    truth = {
        "format": "cascade.truth/v1",
        "scenario": f"lab-{case}",
        "root_cause": src,
        "fault_kind": KINDS[case],
        "time_base_unix_ns": str(t0),
        "incident": None if src is None else {"start_s": round(fs, 3), "end_s": round(recovered, 3)},
        "faults": [] if src is None else [fault],
        "mechanisms": mech,
        "roles": roles,
        "sample_rate": 1.0,
        "seed": inj.get("seed"),
        "generator": {"lab": inj, "measured": measured, "attempts_per_call": amp,
                      "timeouts_base_fault": [tb, tf],
                      "queue_wait_p90_ms": [round(p(qb, 0.9), 1), round(p(qf, 0.9), 1)]},
    }
    if src_inst:
        truth["root_cause_instance"] = src_inst
    if src is None:
        truth["generator"]["harmless_bump"] = {"start_s": round(fs, 3), "end_s": round(fe, 3), "rate": inj["control"].get("rate")}
    json.dump(truth, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
