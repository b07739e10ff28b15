"""The uninstrumented dependency: a key-value store and FIFO queue over HTTP/1.1 keep-alive.

It exports no spans and writes no logs, like a managed cache nobody instrumented; it is
seen only through its callers' client spans.
  GET /kv/KEY      -> value (a small generated record when the key was never written)
  PUT /kv/KEY      <- value
  POST /q/NAME     <- message (pushed at the tail)
  GET /q/NAME/pop  -> the head message, or 204 when empty
  GET /q/NAME/len  -> backlog length
  GET /scan?ms=N   -> a slow range scan (the report job's query): N ms of server time
"""
import collections
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DATA, QUEUES, LOCK = {}, collections.defaultdict(collections.deque), threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def reply(self, code, data=b""):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path.startswith("/kv/"):
            key = path[4:]
            with LOCK:
                value = DATA.get(key)
            if value is None:
                value = json.dumps({"key": key, "price": 10 + len(key), "stock": 1000000}).encode()
            self.reply(200, value)
        elif path.startswith("/q/") and path.endswith("/pop"):
            with LOCK:
                q = QUEUES[path[3:-4]]
                msg = q.popleft() if q else None
            self.reply(200, msg) if msg is not None else self.reply(204)
        elif path.startswith("/q/") and path.endswith("/len"):
            with LOCK:
                n = len(QUEUES[path[3:-4]])
            self.reply(200, str(n).encode())
        elif path == "/scan":
            ms = float(dict(p.split("=") for p in query.split("&") if "=" in p).get("ms", "100"))
            time.sleep(ms / 1000.0)
            self.reply(200, b'{"rows":1000}')
        else:
            self.reply(404)

    def do_PUT(self):
        data = self.body()
        with LOCK:
            DATA[self.path[4:]] = data
        self.reply(204)

    def do_POST(self):
        data = self.body()
        with LOCK:
            QUEUES[self.path[3:]].append(data)
        self.reply(202)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
