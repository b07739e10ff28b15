"""Merge the services' JSON log lines (pino and python-json-logger) into one stream ordered
by time, as a log shipper collecting every process's stdout would. Non-JSON lines (a stack
trace on stdout, say) are dropped. Usage: mergelogs.py LOGDIR > logs.jsonl
"""
import datetime
import json
import os
import sys


def when(rec):
    if isinstance(rec.get("time"), (int, float)):  # pino: epoch ms
        return rec["time"] / 1000.0
    stamp = rec.get("asctime")  # python-json-logger: local time, comma before ms
    if isinstance(stamp, str):
        try:
            return datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
        except ValueError:
            pass
    return 0.0


rows = []
folder = sys.argv[1]
for name in sorted(os.listdir(folder)):
    if not name.endswith(".log"):
        continue
    with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                rows.append((when(rec), len(rows), line.rstrip("\n")))
rows.sort()
sys.stdout.write("".join(r[2] + "\n" for r in rows))
