"""An open-loop load generator with its own OpenTelemetry spans (root CLIENT spans).

Arrivals are a Poisson process at the rate in CONTROL/loadgen.json ({"rate": R}, requests
per second; default LAB_RATE), independent of how fast answers come back: each arrival is
handed to a thread pool and never waits for the previous one. Usage: loadgen.py SECONDS SEED.
"""
import logging
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

import labkit

tracer = labkit.setup("loadgen", "loadgen-1")
log = logging.getLogger("loadgen")
control = labkit.Control("loadgen")
FRONTEND = f"http://127.0.0.1:{os.environ.get('LAB_FRONTEND_PORT', '3000')}"
BASE_RATE = float(os.environ.get("LAB_RATE", "6"))
session = requests.Session()
session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=64))


def one(rng_value, sku, user):
    url = f"{FRONTEND}/buy" if rng_value < 0.8 else f"{FRONTEND}/catalog"
    try:
        r = session.get(url, params={"sku": sku, "user": user}, timeout=10)
        if r.status_code >= 500:
            log.warning("request failed", extra={"status": r.status_code, "url": url})
    except requests.RequestException as e:
        log.warning("request error", extra={"reason": type(e).__name__, "url": url})


def main():
    seconds, seed = float(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    pool = ThreadPoolExecutor(max_workers=64)
    start = time.monotonic()
    next_at = start
    time.sleep(0.5)  # let the control reader load the rate
    while next_at - start < seconds:
        rate = control.get("rate", BASE_RATE) or BASE_RATE
        next_at += rng.expovariate(rate)
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        pool.submit(one, rng.random(), f"sku-{rng.randint(1, 40)}", f"u{rng.randint(1, 500)}")
    pool.shutdown(wait=True)
    trace_provider = __import__("opentelemetry").trace.get_tracer_provider()
    trace_provider.shutdown()


if __name__ == "__main__":
    main()
