"""orders: the Python mid-tier (Flask, threaded). POST /checkout reads the user's session
from the store through a small session pool, prices the basket (CPU), reserves stock at
inventory (two instances, round-robin) and charges payments in parallel on a thread pool,
each with a timeout and a retry loop, then publishes the order to the fulfillment queue
(PRODUCER span; the trace context travels in the message).
"""
import contextvars
import itertools
import json
import logging
import os
import queue
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask, jsonify, request
from opentelemetry import context as otel_context, propagate, trace
from opentelemetry.trace import SpanKind
from werkzeug.serving import WSGIRequestHandler

import labkit

app = Flask("orders")
tracer = labkit.setup("orders", "orders-1", app)
log = logging.getLogger("orders.checkout")
control = labkit.Control("orders")
KV = f"http://127.0.0.1:{labkit.KV_PORT}"
INVENTORY = [f"http://127.0.0.1:{p}" for p in os.environ.get("LAB_INVENTORY_PORTS", "8081,8082").split(",")]
PAYMENTS = f"http://127.0.0.1:{os.environ.get('LAB_PAYMENTS_PORT', '8090')}"
POOL_SIZE, POOL_TIMEOUT_S = 4, 2.0
CALL_TIMEOUT_S, BACKOFF_S = 1.0, 0.05
INVENTORY_ATTEMPTS, PAYMENT_ATTEMPTS = 3, 4
REPORT_PAUSE_S = 0.25
workers = ThreadPoolExecutor(max_workers=32, thread_name_prefix="fanout")
rr = itertools.count()


class SessionPool:
    """A fixed pool of keep-alive sessions to the store; callers wait for a free one."""

    def __init__(self, size):
        self.free = queue.Queue()
        for _ in range(size):
            s = requests.Session()
            s.mount("http://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1))
            self.free.put(s)

    def acquire(self):
        return self.free.get(timeout=POOL_TIMEOUT_S)

    def release(self, s):
        self.free.put(s)


kv_pool = SessionPool(POOL_SIZE)
http = requests.Session()
http.mount("http://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16))


class Failed(Exception):
    pass


def with_retries(name, attempts, call):
    """Call until success: timeout per attempt, exponential backoff with jitter."""
    last = None
    for attempt in range(attempts):
        try:
            r = call(attempt)
            if r.status_code < 500:
                return r
            last = f"HTTP {r.status_code}"
        except requests.RequestException as e:
            last = type(e).__name__
        log.warning("retrying %s", name, extra={"attempt": attempt + 1, "reason": last})
        time.sleep(BACKOFF_S * (2 ** attempt) * (0.5 + random.random()))
    raise Failed(f"{name} failed after {attempts} attempts: {last}")


def reserve(sku, qty):
    start = next(rr)
    return with_retries("inventory", INVENTORY_ATTEMPTS, lambda a: http.get(
        f"{INVENTORY[(start + a) % len(INVENTORY)]}/reserve", params={"sku": sku, "qty": qty},
        timeout=CALL_TIMEOUT_S))


def charge(user, amount):
    return with_retries("payments", PAYMENT_ATTEMPTS, lambda a: http.post(
        f"{PAYMENTS}/charge", json={"user": user, "amount": amount}, timeout=CALL_TIMEOUT_S))


def in_context(fn, *args):
    # Carry the current trace context onto the pool thread.
    ctx = contextvars.copy_context()
    return workers.submit(ctx.run, fn, *args)


def report_holder():
    """The nightly report: when switched on, it holds store sessions for long scans."""
    while True:
        ms = control.get("report_ms")
        if ms <= 0:
            time.sleep(0.2)
            continue
        token = otel_context.attach(otel_context.set_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY, True))
        try:
            s = kv_pool.free.get()
            try:
                s.get(f"{KV}/scan", params={"ms": int(ms)}, timeout=10)
            finally:
                kv_pool.release(s)
        except requests.RequestException:
            pass
        finally:
            otel_context.detach(token)
        time.sleep(REPORT_PAUSE_S)  # the job writes the page out between scans


@app.post("/checkout")
def checkout():
    body = request.get_json(force=True)
    user, sku, qty = body.get("user", "u0"), body.get("sku", "sku-1"), int(body.get("qty", 1))
    try:
        s = kv_pool.acquire()
    except queue.Empty:
        log.error("session pool exhausted", extra={"pool_size": POOL_SIZE, "waited_ms": POOL_TIMEOUT_S * 1000})
        return jsonify(error="session pool exhausted"), 503
    try:
        session = s.get(f"{KV}/kv/session:{user}", timeout=CALL_TIMEOUT_S).json()
    except requests.RequestException as e:
        log.error("session lookup failed", extra={"reason": type(e).__name__})
        return jsonify(error="session store unavailable"), 503
    finally:
        kv_pool.release(s)
    labkit.burn(3.0 + control.get("cpu_ms"))  # pricing rules, taxes, promotions
    amount = session.get("price", 10) * qty
    inv, pay = in_context(reserve, sku, qty), in_context(charge, user, amount)
    try:
        reservation = inv.result()
    except Failed as e:
        log.error("reservation failed", extra={"reason": str(e)})
        pay.cancel()
        return jsonify(error="inventory unavailable"), 503
    try:
        pay.result()
    except Failed as e:
        log.error("payment failed", extra={"reason": str(e)})
        return jsonify(error="payment failed"), 502
    status = "placed"
    try:
        got = reservation.json()
    except ValueError:
        got = {}
    if got.get("reserved") != qty:
        # inventory said 200 but did not reserve what was asked: only we can tell.
        log.error("inventory reservation mismatch", extra={"sku": sku, "asked": qty, "reserved": got.get("reserved")})
        status = "backordered"
    order_id = f"o-{random.getrandbits(40):010x}"
    publish({"order_id": order_id, "user": user, "sku": sku, "qty": qty, "amount": amount, "status": status})
    log.info("order %s", status, extra={"order_id": order_id, "sku": sku})
    return jsonify(order_id=order_id, status=status)


def publish(order):
    with tracer.start_as_current_span("fulfillment publish", kind=SpanKind.PRODUCER, attributes={
        "messaging.system": "kvqueue", "messaging.operation.type": "send",
        "messaging.destination.name": "fulfillment", "messaging.message.id": order["order_id"],
    }):
        headers = {}
        propagate.inject(headers)
        msg = json.dumps({"headers": headers, "sent_ns": time.time_ns(), "order": order})
        s = kv_pool.acquire()
        try:
            s.post(f"{KV}/q/fulfillment", data=msg, timeout=CALL_TIMEOUT_S)
        finally:
            kv_pool.release(s)


if __name__ == "__main__":
    threading.Thread(target=report_holder, daemon=True).start()
    threading.Thread(target=report_holder, daemon=True).start()
    threading.Thread(target=report_holder, daemon=True).start()
    threading.Thread(target=report_holder, daemon=True).start()
    WSGIRequestHandler.protocol_version = "HTTP/1.1"
    app.run(host="127.0.0.1", port=int(os.environ.get("LAB_PORT", "8000")), threaded=True)
