"""Record the demo: realistic Claude Code-like sessions replayed through the real proxy.

A stand-in Messages API (`StubAPI`) listens on loopback and answers each request with the
reply the traffic generator wrote for it; the proxy intercepts `api.anthropic.com` as it
would for Claude Code (with `--resolve` pointing it at the stand-in), so every byte goes
through the same path as real traffic: TLS, streaming, capture, attribution, storage.
What a newcomer sees in the demo is what the tests exercise.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
from pathlib import Path
from typing import Any, Callable

from inspector.config import Config
from inspector.demo.stub_api import StubAPI, default_responder
from inspector.demo.traffic import DemoTurn, demo_session

log = logging.getLogger(__name__)

API_HOST = "api.anthropic.com"
#: stands in for the user's key; the capture redacts it like a real one
DEMO_KEY = "sk-ant-demo-0000-not-a-real-key"


def _turn_key(request: dict[str, Any]) -> tuple[str, int]:
    """Which demo turn a request is: its session and how many messages it carries."""
    user_id = (request.get("metadata") or {}).get("user_id") or ""
    return user_id, len(request.get("messages") or [])


def demo_turns(sessions: int = 2, turns: int = 6) -> list[DemoTurn]:
    out: list[DemoTurn] = []
    for seed in range(sessions):
        out.extend(demo_session(seed=seed, turns=turns))
    return out


def record_demo(config: Config, *, sessions: int = 2, turns: int = 6,
                progress: Callable[[int, int], None] | None = None) -> list[str]:
    """Replay `sessions` demo sessions through a proxy recording into `config.db_path`.
    Returns the ids the proxy gave the exchanges, in order. Changes `config` (listen,
    resolve, upstream CA) for the demo's own proxy."""
    from inspector.runtime.local import Runtime

    plan = demo_turns(sessions, turns)
    replies = {_turn_key(t.request): t.response for t in plan}

    def responder(request: dict[str, Any]) -> dict[str, Any]:
        return replies.get(_turn_key(request)) or default_responder(request)

    ids: list[str] = []
    cert_dir = config.home / "demo-upstream"
    with StubAPI(tls=True, cert_dir=cert_dir, responder=responder, record=False) as api:
        config.listen = "127.0.0.1:0"
        config.resolve = [f"{API_HOST}:443:127.0.0.1:{api.port}"]
        config.upstream_ca = api.ca_file
        config.intercept = [API_HOST]
        runtime = Runtime(config)
        runtime.add_listener(lambda event, data: event == "exchange_finished"
                             and ids.append(data.id))
        runtime.start()
        try:
            if runtime.proxy_error:
                raise RuntimeError(runtime.proxy_error)
            assert runtime.proxy_address is not None
            _replay(plan, runtime.proxy_address, config.ca_path, progress)
        finally:
            runtime.stop()
    return ids


def _replay(plan: list[DemoTurn], proxy: tuple[str, int], ca_path: Path,
            progress: Callable[[int, int], None] | None) -> None:
    context = ssl.create_default_context(cafile=str(ca_path))
    conn: http.client.HTTPSConnection | None = None
    session = None
    for done, turn in enumerate(plan, 1):
        key = _turn_key(turn.request)[0]
        if conn is None or key != session:  # one kept-alive tunnel per session
            if conn is not None:
                conn.close()
            conn = http.client.HTTPSConnection(proxy[0], proxy[1], context=context, timeout=30)
            conn.set_tunnel(API_HOST, 443)
            session = key
        body = json.dumps(turn.request).encode()
        headers = dict(turn.headers)
        headers.update({
            "content-type": "application/json",
            "x-api-key": DEMO_KEY,
            "accept": "application/json",
        })
        conn.request("POST", "/v1/messages?beta=true", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            log.warning("demo turn %d answered %d", done, response.status)
        if progress:
            progress(done, len(plan))
    if conn is not None:
        conn.close()
