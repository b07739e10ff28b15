"""fulfillment: the queue consumer (Python). It polls the store's queue (polls are not
traced, like a consumer whose client library is not instrumented), continues the order's
trace from the message headers with a CONSUMER span, packs the order (work), captures the
payment and writes the order status back to the store.
"""
import json
import logging
import os
import time

import requests
from opentelemetry import context as otel_context, propagate
from opentelemetry.trace import SpanKind

import labkit

tracer = labkit.setup("fulfillment", "fulfillment-1")
log = logging.getLogger("fulfillment.worker")
control = labkit.Control("fulfillment")
KV = f"http://127.0.0.1:{labkit.KV_PORT}"
PAYMENTS = f"http://127.0.0.1:{os.environ.get('LAB_PAYMENTS_PORT', '8090')}"
http = requests.Session()


def poll():
    token = otel_context.attach(otel_context.set_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY, True))
    try:
        r = http.get(f"{KV}/q/fulfillment/pop", timeout=2)
        return r.content if r.status_code == 200 else None
    except requests.RequestException:
        return None
    finally:
        otel_context.detach(token)


def handle(raw):
    msg = json.loads(raw)
    order = msg["order"]
    parent = propagate.extract(msg.get("headers", {}))
    wait_ms = (time.time_ns() - msg.get("sent_ns", time.time_ns())) / 1e6
    with tracer.start_as_current_span("fulfillment process", context=parent, kind=SpanKind.CONSUMER, attributes={
        "messaging.system": "kvqueue", "messaging.operation.type": "process",
        "messaging.destination.name": "fulfillment", "messaging.message.id": order["order_id"],
    }):
        labkit.burn(2.0)
        time.sleep((20.0 + control.get("work_ms")) / 1000.0)  # pick and pack
        try:
            http.post(f"{PAYMENTS}/capture", json={"order": order["order_id"], "amount": order["amount"]}, timeout=2)
            http.put(f"{KV}/kv/order:{order['order_id']}", data=json.dumps({"status": "shipped"}), timeout=2)
        except requests.RequestException as e:
            log.error("capture failed", extra={"order_id": order["order_id"], "reason": type(e).__name__})
            return
        log.info("order shipped", extra={"order_id": order["order_id"], "queue_wait_ms": round(wait_ms, 1)})


if __name__ == "__main__":
    while True:
        raw = poll()
        if raw is None:
            time.sleep(0.05)
            continue
        handle(raw)
