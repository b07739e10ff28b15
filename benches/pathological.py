#!/usr/bin/env python3
"""Hostile-but-real trace shapes for benches/pathological.sh (Python 3 standard library only).

Each shape is OTLP/JSON Lines like the Collector's file exporter: one ExportTraceServiceRequest
per line, ~512 spans each, grouped by service into resourceSpans. Every call is a CLIENT span
in the caller with the SERVER span of the callee as its child, so the shapes have a call graph
like real data. Same arguments => byte-identical files (seeded RNG, fixed epoch).

Usage: pathological.py OUT_DIR BENCH_DATA_DIR
"""

import gzip
import os
import random
import subprocess
import sys

T0 = 1_717_243_200_000_000_000  # 2024-06-01T12:00:00Z, the bench data's epoch
SPANS_PER_LINE = 512


def hexid(n, width):
    return format(n, "0%dx" % width)


class Writer:
    """Buffers spans and writes one ExportTraceServiceRequest line per SPANS_PER_LINE spans."""

    def __init__(self, path):
        self.f = open(path, "w")
        self.buf = []
        self.count = 0

    def span(self, service, trace, span, parent, name, kind, start, end, error=False):
        parent_field = '"parentSpanId":"%s",' % hexid(parent, 16) if parent is not None else ""
        status = '{"code":2}' if error else "{}"
        text = (
            '{"traceId":"%s","spanId":"%s",%s"name":"%s","kind":%d,'
            '"startTimeUnixNano":"%d","endTimeUnixNano":"%d","status":%s}'
            % (hexid(trace, 32), hexid(span, 16), parent_field, name, kind, start, end, status)
        )
        self.buf.append((service, text))
        self.count += 1
        if len(self.buf) >= SPANS_PER_LINE:
            self.flush()

    def flush(self):
        if not self.buf:
            return
        by_service = {}
        for service, text in self.buf:
            by_service.setdefault(service, []).append(text)
        resources = []
        for service, spans in by_service.items():
            resources.append(
                '{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"%s"}}]},'
                '"scopeSpans":[{"scope":{"name":"bench"},"spans":[%s]}]}' % (service, ",".join(spans))
            )
        self.f.write('{"resourceSpans":[%s]}\n' % ",".join(resources))
        self.buf = []

    def close(self):
        self.flush()
        self.f.close()
        return self.count


SERVICES = ["svc-%02d" % i for i in range(12)]


def tree(w, trace, parents, dur_ns):
    """Writes one trace whose span i has parent parents[i] (None for the root); parents come
    before children. Depth decides the role: even depth = SERVER of a service, odd = CLIENT in
    the same service calling the next. Children nest inside their parent's interval."""
    n = len(parents)
    depth = [0] * n
    start = [0] * n
    end = [0] * n
    for i, p in enumerate(parents):
        if p is None:
            start[i], end[i] = T0, T0 + dur_ns
        else:
            depth[i] = depth[p] + 1
            # 1 ns inside the parent on each side while room remains, else the same interval.
            room = end[p] - start[p]
            start[i] = start[p] + (1 if room > 2 else 0)
            end[i] = end[p] - (1 if room > 2 else 0)
    for i, p in enumerate(parents):
        d = depth[i]
        service = SERVICES[(d // 2) % len(SERVICES)]
        kind = 2 if d % 2 == 0 else 3
        name = "GET /api/%s" % service if kind == 2 else "call %s" % SERVICES[(d // 2 + 1) % len(SERVICES)]
        w.span(service, trace, i + 1, None if p is None else p + 1, name, kind, start[i], end[i])


def deep_chain(path, n):
    w = Writer(path)
    tree(w, 1, [None] + list(range(n - 1)), 10_000_000_000)
    return w.close()


def fan_out(path, children):
    w = Writer(path)
    w.span("frontend", 1, 1, None, "GET /", 2, T0, T0 + 10_000_000_000)
    for i in range(children):
        s = T0 + 1_000 + i * 50_000
        w.span("frontend", 1, i + 2, 1, "call backend", 3, s, s + 40_000, error=(i % 50 == 0))
    return w.close()


def big_trace(path, n, seed):
    """A random recursive tree (each span's parent drawn from all earlier spans): depth ~ e ln n."""
    rng = random.Random(seed)
    parents = [None] + [rng.randrange(i) for i in range(1, n)]
    w = Writer(path)
    tree(w, 1, parents, 10_000_000_000)
    return w.close()


def many_traces(path, spans, seed, service_of, name_of):
    """Client/server pairs, 2 spans a trace, spread over 30 minutes with errors in the middle
    third; service_of(i, role) and name_of(i, role) name the i-th pair's spans."""
    rng = random.Random(seed)
    w = Writer(path)
    pairs = spans // 2
    for i in range(pairs):
        s = T0 + i * (1_800_000_000_000 // pairs)
        incident = pairs // 3 <= i < 2 * pairs // 3
        dur = rng.randint(2_000_000, 8_000_000) * (5 if incident else 1)
        err = incident and rng.random() < 0.1
        w.span(service_of(i, 0), i + 1, 2 * i + 1, None, name_of(i, 0), 3, s, s + dur, error=err)
        w.span(service_of(i, 1), i + 1, 2 * i + 2, 2 * i + 1, name_of(i, 1), 2, s + 100_000, s + dur - 100_000, error=err)
    return w.close()


def damaged(path, src, seed, every=1 << 20):
    """A copy of src with one byte per MiB replaced: alternately an invalid UTF-8 byte and a
    flipped ASCII letter (a bit error)."""
    rng = random.Random(seed)
    data = bytearray(open(src, "rb").read())
    hits = 0
    for base in range(0, len(data), every):
        at = base + rng.randrange(min(every, len(data) - base))
        if data[at] == 0x0A:  # keep the line structure: the damage is inside a record
            at = max(base, at - 1)
        data[at] = 0xFF if hits % 2 == 0 else data[at] ^ 0x20
        hits += 1
    open(path, "wb").write(data)
    return hits


def cut(path, src, fraction):
    data = open(src, "rb").read()
    open(path, "wb").write(data[: int(len(data) * fraction)])


def main():
    out, bench = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    made = []

    def make(name, fn, *args):
        path = os.path.join(out, name)
        if not os.path.exists(path):
            tmp = path + ".tmp"
            n = fn(tmp, *args)
            os.replace(tmp, path)
            made.append("%s: %s" % (name, n))
        return path

    make("deep_chain_500k.jsonl", deep_chain, 500_000)
    make("fan_out_100k.jsonl", fan_out, 100_000)
    make("services_100k.jsonl", many_traces, 100_000, 1,
         lambda i, r: "%s-%08x" % ("api" if r == 0 else "backend", i), lambda i, r: "GET /item")
    make("operations_100k.jsonl", many_traces, 100_000, 2,
         lambda i, r: SERVICES[(i + r) % len(SERVICES)], lambda i, r: "GET /item/%d" % i)
    make("trace_1m.jsonl", big_trace, 1_000_000, 3)
    spans_1m = os.path.join(bench, "spans_1m.jsonl")
    spans_100k = os.path.join(bench, "spans_100k.jsonl")
    make("damaged_1m.jsonl", damaged, spans_1m, 4)
    # The well-formed 500k comparison: the first lines of spans_1m (~512 spans a line).
    def head(path, lines):
        with open(spans_1m) as f, open(path, "w") as o:
            for k, line in enumerate(f):
                if k >= lines:
                    break
                o.write(line)
        return lines
    make("spans_500k.jsonl", head, 977)
    def gz(path):
        with open(spans_100k, "rb") as f:
            open(path, "wb").write(gzip.compress(f.read(), compresslevel=6, mtime=0))
    def zst(path):
        subprocess.run(["zstd", "-q", "-f", "-3", spans_100k, "-o", path], check=True)
    full_gz = make("spans_100k.jsonl.gz", gz)
    full_zst = make("spans_100k.jsonl.zst", zst)
    # Cut at 70 %: a copy that stopped part-way, mid-block.
    make("cut_100k.jsonl.gz", cut, full_gz, 0.7)
    make("cut_100k.jsonl.zst", cut, full_zst, 0.7)
    for m in made:
        print("generated", m)


if __name__ == "__main__":
    main()
