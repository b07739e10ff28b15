"""payments: a Python leaf (Flask, threaded). POST /charge and /capture take the card
processor slot (a bounded pool: a semaphore), hold it for the processor's latency, and do
some CPU work for fraud scoring. Requests abandoned by a caller that timed out are still
processed, as a real server would.
"""
import logging
import os
import threading
import time

from flask import Flask, jsonify, request
from werkzeug.serving import WSGIRequestHandler

import labkit

app = Flask("payments")
tracer = labkit.setup("payments", "payments-1", app)
log = logging.getLogger("payments.processor")
control = labkit.Control("payments")
SLOTS = threading.BoundedSemaphore(1)
PROCESSOR_MS = 60.0


def process(kind):
    labkit.burn(2.0 + control.get("cpu_ms"))  # fraud scoring
    t0 = time.perf_counter()
    with SLOTS:
        waited = (time.perf_counter() - t0) * 1000
        time.sleep((PROCESSOR_MS + control.get("slow_ms")) / 1000.0)
    if waited > 500:
        log.warning("processor slot wait", extra={"queue_wait_ms": round(waited, 1), "op": kind})
    return jsonify(ok=True, op=kind)


@app.post("/charge")
def charge():
    request.get_json(force=True)
    return process("charge")


@app.post("/capture")
def capture():
    request.get_json(force=True)
    return process("capture")


if __name__ == "__main__":
    WSGIRequestHandler.protocol_version = "HTTP/1.1"
    app.run(host="127.0.0.1", port=int(os.environ.get("LAB_PORT", "8091")), threaded=True)
