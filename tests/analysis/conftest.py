"""Fixtures for the analysis tests: demo Claude Code sessions written to a real SQLite
store through the same path the runtime uses (Exchange -> capture -> attribution -> cost),
and a CLI runner whose home is the test's own folder."""

from __future__ import annotations

import json
import time


from inspector.demo.traffic import demo_session
from inspector.ids import new_id
from inspector.model import CapturedBody, Exchange, Timings
from inspector.runtime.pipeline import prepare_record
from inspector.store import Store


def demo_exchange(request: dict, headers: dict, response: dict | None, started: float,
                  status: int = 200) -> Exchange:
    """What the proxy would report for one demo turn (a JSON reply, not streamed)."""
    req = CapturedBody(1 << 26)
    req.append(json.dumps(request).encode())
    resp = CapturedBody(1 << 26)
    if response is not None:
        resp.append(json.dumps(response).encode())
    return Exchange(
        id=new_id(started), connection_id="conn-1", mode="intercept", scheme="https",
        host="api.anthropic.com", port=443, method="POST", target="/v1/messages?beta=true",
        client_addr="127.0.0.1:50000",
        request_headers=[(k.lower(), v) for k, v in headers.items()], request_body=req,
        status=status, reason="OK", response_headers=[("content-type", "application/json")],
        response_body=resp, timings=Timings(started_wall=started), complete=True,
    )


def write_demo(store: Store, *, seed: int = 0, turns: int = 6, start: float | None = None,
               step: float = 30.0, model: str | None = None) -> list[str]:
    """Store one demo session; returns the request ids in order."""
    start = time.time() - 3600 if start is None else start
    exchanges = []
    for i, turn in enumerate(demo_session(seed=seed, turns=turns)):
        request, response = turn.request, turn.response
        if model is not None:
            request, response = dict(request, model=model), dict(response, model=model)
        exchanges.append(demo_exchange(request, turn.headers, response, start + i * step))
    records = [prepare_record(ex) for ex in exchanges]
    store.write(records)
    return [r.capture.id for r in records]
