"""A tiny OTLP/HTTP receiver: each export request becomes one line of OTLP/JSON.

Protobuf bodies are converted to the JSON form the Collector's file exporter writes
(camelCase keys, enums as numbers, 64-bit integers as strings, trace and span ids as hex);
JSON bodies are re-serialised on one line. Traces go to OUT/traces.jsonl, logs to
OUT/logs-otlp.jsonl (the lab's services send none, their logs are JSON files).
"""
import base64
import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

OUT = sys.argv[2] if len(sys.argv) > 2 else "."
LOCK = threading.Lock()
ID_KEYS = {"traceId", "spanId", "parentSpanId"}


def hex_ids(node):
    """protobuf's JSON mapping writes bytes as base64; OTLP/JSON wants hex ids."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ID_KEYS and isinstance(v, str):
                node[k] = base64.b64decode(v).hex()
            else:
                hex_ids(v)
    elif isinstance(node, list):
        for v in node:
            hex_ids(v)
    return node


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.read_body()
        if self.headers.get("Content-Encoding", "") == "gzip":
            body = gzip.decompress(body)
        if self.path.endswith("/v1/traces"):
            msg, name = ExportTraceServiceRequest(), "traces.jsonl"
        elif self.path.endswith("/v1/logs"):
            msg, name = ExportLogsServiceRequest(), "logs-otlp.jsonl"
        else:
            self.reply(404, b"")
            return
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            doc = json.loads(body)
        else:
            msg.ParseFromString(body)
            doc = hex_ids(MessageToDict(msg, use_integers_for_enums=True))
        if not doc:
            self.reply(200, b"", ctype)
            return
        line = json.dumps(doc, separators=(",", ":")) + "\n"
        with LOCK, open(f"{OUT}/{name}", "a", encoding="utf-8") as f:
            f.write(line)
        # An empty ExportTraceServiceResponse.
        self.reply(200, b"", "application/x-protobuf" if "json" not in ctype else "application/json")

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def reply(self, code, data, ctype="application/x-protobuf"):
        if "json" in ctype and not data:
            data = b"{}"
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
