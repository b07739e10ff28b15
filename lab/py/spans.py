"""Flat spans from the receiver's OTLP/JSON lines, and the per-span quantities the truth
script measures: own time (duration minus the union of child intervals), the gap of a call
edge (client span minus server span) and the queue wait of a consumed message."""
import json
from dataclasses import dataclass, field


@dataclass
class Span:
    trace: str
    sid: str
    parent: str
    service: str
    instance: str
    kind: int  # 1 internal, 2 server, 3 client, 4 producer, 5 consumer
    name: str
    start: int
    end: int
    error: bool
    attrs: dict
    children: list = field(default_factory=list)
    status_message: str = ""
    event_names: list = field(default_factory=list)

    @property
    def dur_ms(self):
        return (self.end - self.start) / 1e6


def _value(v):
    for k in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if k in v:
            return v[k]
    return None


def load(path):
    spans = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            for rs in doc.get("resourceSpans", []):
                res = {a["key"]: _value(a["value"]) for a in rs.get("resource", {}).get("attributes", [])}
                for ss in rs.get("scopeSpans", []):
                    for s in ss.get("spans", []):
                        attrs = {a["key"]: _value(a["value"]) for a in s.get("attributes", [])}
                        sp = Span(s["traceId"], s["spanId"], s.get("parentSpanId", ""),
                                  res.get("service.name", "?"), res.get("service.instance.id", ""),
                                  int(s.get("kind", 0)), s.get("name", ""), int(s["startTimeUnixNano"]),
                                  int(s["endTimeUnixNano"]), s.get("status", {}).get("code", 0) == 2, attrs)
                        sp.status_message = s.get("status", {}).get("message", "")
                        sp.event_names = [e.get("name", "") for e in s.get("events", [])] + [
                            str(_value(a["value"])) for e in s.get("events", []) for a in e.get("attributes", [])
                            if a["key"] == "exception.type"]
                        spans[(sp.trace, sp.sid)] = sp
    for sp in spans.values():
        parent = spans.get((sp.trace, sp.parent))
        if parent is not None:
            parent.children.append(sp)
    return spans


def own_ms(sp):
    """Duration minus the union of the children's intervals, in ms."""
    iv = sorted((max(c.start, sp.start), min(c.end, sp.end)) for c in sp.children if c.end > sp.start and c.start < sp.end)
    covered, cur_s, cur_e = 0, None, None
    for s, e in iv:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                covered += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        covered += cur_e - cur_s
    return (sp.end - sp.start - covered) / 1e6


# Who listens on each lab port (the recorder's fixed ports; a proxy counts as its service).
PORTS = {"3000": "frontend", "8000": "orders", "8081": "inventory", "8082": "inventory",
         "8090": "payments", "8091": "payments", "7000": "kvstore", "7001": "kvstore"}


def callee(sp):
    """The service a CLIENT/PRODUCER span called: its child in another service, else the
    uninstrumented peer it names (peer.service), else the service on the port it called
    (a server span lost when the processes stopped, or a request that never arrived)."""
    for c in sp.children:
        if c.service != sp.service:
            return c.service, c
    if sp.kind == 3:
        return sp.attrs.get("peer.service") or PORTS.get(str(sp.attrs.get("server.port")), "?"), None
    if sp.kind == 4:
        return None, None
    return None, None
