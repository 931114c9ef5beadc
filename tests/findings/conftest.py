"""Fixtures for the findings tests: Claude Code-like sessions from the demo generator,
sent by a real client through the real proxy to a stub API that simulates the prompt
cache, or written to a real store through the runtime's own capture path."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from inspector.config import Config
from inspector.demo.prompt_cache import PromptCache
from inspector.demo.stub_api import StubAPI
from inspector.model import CapturedBody, Exchange, Timings
from inspector.ids import new_id
from inspector.runtime.pipeline import prepare_record
from inspector.runtime import Runtime
from inspector.store import Store


def through_proxy(home, tmp_path, turns, replies=None, cache: PromptCache | None = None,
                  extra_headers: dict | None = None) -> tuple[list[str], list[httpx.Response]]:
    """Send `turns` (DemoTurn-like: request, headers) through a proxy recording into
    `home` to a stub answering with `replies[len(messages)]`; returns the stored ids in
    order and the replies the client got."""
    replies = replies or {len(t.request["messages"]): t.response for t in turns}
    got = []
    with StubAPI(tls=True, cert_dir=tmp_path / "stub-ca", prompt_cache=cache,
                 responder=lambda body: replies[len(body["messages"])]) as stub:
        config = Config.load(home, listen="127.0.0.1:0",
                             resolve=[f"api.anthropic.com:443:127.0.0.1:{stub.port}"],
                             upstream_ca=stub.ca_file)
        runtime = Runtime(config)
        runtime.start()
        try:
            assert runtime.proxy_error is None, runtime.proxy_error
            host, port = runtime.proxy_address
            with httpx.Client(proxy=f"http://{host}:{port}", verify=str(home / "ca.pem"),
                              timeout=20) as client:
                for turn in turns:
                    headers = dict(turn.headers, **(extra_headers or {}))
                    reply = client.post("https://api.anthropic.com/v1/messages?beta=true",
                                        json=turn.request, headers=headers)
                    assert reply.status_code == 200
                    got.append(reply)
        finally:
            runtime.stop()
    with Store(config.db_path) as store:
        ids = [r[0] for r in store.conn.execute("SELECT id FROM requests ORDER BY ts, id")]
    assert len(ids) == len(turns)
    return ids, got


def exchange(request: dict, headers: dict, response: dict, started: float,
             reply_headers: list | None = None) -> Exchange:
    """What the proxy reports for one JSON exchange."""
    req = CapturedBody(1 << 26)
    req.append(json.dumps(request).encode())
    resp = CapturedBody(1 << 26)
    resp.append(json.dumps(response).encode())
    return Exchange(
        id=new_id(started), connection_id="c1", mode="intercept", scheme="https",
        host="api.anthropic.com", port=443, method="POST", target="/v1/messages?beta=true",
        client_addr="127.0.0.1:50000",
        request_headers=[(k.lower(), v) for k, v in headers.items()], request_body=req,
        status=200, reason="OK",
        response_headers=[("content-type", "application/json"), *(reply_headers or [])],
        response_body=resp, timings=Timings(started_wall=started), complete=True)


def store_turns(store: Store, items, start: float | None = None, step: float = 20.0,
                cache: PromptCache | None = None, times: list[float] | None = None,
                clock: list[float] | None = None,
                reply_headers: list[list] | None = None) -> list[str]:
    """Write (request, headers, response) triples as captures, `step` seconds apart (or
    at `times` seconds after `start`); with `cache`, each response's usage is what the
    simulated cache says, its clock (`clock[0]`) following the captures' times."""
    start = time.time() - 7200 if start is None else start
    records = []
    for i, (request, headers, response) in enumerate(items):
        at = times[i] if times is not None else i * step
        if clock is not None:
            clock[0] = at
        if cache is not None:
            response = cache.apply(request, response)
        extra = reply_headers[i] if reply_headers else None
        records.append(prepare_record(exchange(request, headers, response, start + at, extra)))
    store.write(records)
    return [r.capture.id for r in records]


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests are async; anyio's pytest plugin runs them on asyncio."""
    return "asyncio"
