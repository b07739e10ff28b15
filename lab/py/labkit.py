"""What every Python service of the lab shares: OpenTelemetry setup (SDK, OTLP/HTTP protobuf
exporter, auto-instrumentation of Flask and requests, trace ids in log records),
python-json-logger output, the out-of-band fault control file, and real CPU work.
"""
import json
import logging
import os
import signal
import sys
import threading
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.logging import LoggingInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pythonjsonlogger.json import JsonFormatter

KV_PORT = int(os.environ.get("LAB_KV_PORT", "7001"))
CONTROL_DIR = os.environ.get("LAB_CONTROL", "/tmp")


def _peer_service(span, request):
    # The store exports nothing: name it on the client span, as a deployment's
    # peer-service mapping would.
    if span and span.is_recording() and f":{KV_PORT}/" in request.url:
        span.set_attribute("peer.service", "kvstore")


def setup(service, instance, flask_app=None):
    """Tracer provider, instrumentation and JSON logging for one service process."""
    resource = Resource.create({
        "service.name": service,
        "service.instance.id": instance,
        "service.version": "2.3.0",
        "deployment.environment.name": "lab",
    })
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    RequestsInstrumentor().instrument(request_hook=_peer_service)
    if flask_app is not None:
        from opentelemetry.instrumentation.flask import FlaskInstrumentor
        FlaskInstrumentor().instrument_app(flask_app)
    LoggingInstrumentor().instrument(set_logging_format=False, inject_trace_context=True)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(otelTraceID)s %(otelSpanID)s %(otelServiceName)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    def stop(*_):
        provider.shutdown()  # flushes the batch processor
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return trace.get_tracer(service)


class Control:
    """Fault knobs read twice a second from CONTROL_DIR/<name>.json (out of band)."""

    def __init__(self, *names):
        self.names, self.values = names, {}
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            merged = {}
            for name in self.names:
                try:
                    with open(os.path.join(CONTROL_DIR, name + ".json"), encoding="utf-8") as f:
                        merged.update(json.load(f))
                except (OSError, ValueError):
                    pass
            self.values = merged
            time.sleep(0.5)

    def get(self, key, default=0.0):
        return float(self.values.get(key, default))


def burn(ms):
    """Real CPU work for about ms milliseconds (holds the GIL like real Python code)."""
    until = time.perf_counter() + ms / 1000.0
    h = 0
    while time.perf_counter() < until:
        for i in range(500):
            h = (h * 31 + i) & 0xFFFFFFFF
    return h
