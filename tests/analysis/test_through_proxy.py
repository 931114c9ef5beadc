"""End to end: a demo Claude Code session sent by a real HTTP client through the real
proxy (CONNECT + TLS interception) to a stub Messages API on loopback, captured by the
runtime's writer, then analysed by the commands."""

from __future__ import annotations

import json

import httpx
import pytest

from inspector.config import Config
from inspector.demo.stub_api import StubAPI
from inspector.demo.traffic import demo_session
from inspector.runtime.local import Runtime

from .test_diff import first_new_mcp_result

TURNS = 7


@pytest.fixture
def captured(home, tmp_path):
    """Run the demo session through the proxy; returns (turns, stored ids oldest first)."""
    turns = demo_session(seed=0, turns=TURNS)
    replies = {len(t.request["messages"]): t.response for t in turns}
    with StubAPI(tls=True, cert_dir=tmp_path / "stub-ca",
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
                              timeout=10) as client:
                for turn in turns:
                    reply = client.post("https://api.anthropic.com/v1/messages?beta=true",
                                        json=turn.request, headers=turn.headers)
                    assert reply.status_code == 200
                    assert "message_stop" in reply.text  # streamed, as requested
        finally:
            runtime.stop()
    from inspector.store import Store

    with Store(config.db_path) as store:
        ids = [r[0] for r in store.conn.execute("SELECT id FROM requests ORDER BY ts, id")]
    assert len(ids) == TURNS
    return turns, ids


def test_stats_diff_and_ratings_over_proxied_captures(captured, run_cli):
    turns, ids = captured
    usage = [t.response["usage"] for t in turns]
    prompt = sum(u["input_tokens"] + u["cache_read_input_tokens"]
                 + u["cache_creation_input_tokens"] for u in usage)
    by_source = json.loads(run_cli("stats", "--json").output)
    assert by_source["total"]["prompt_tokens"] == prompt
    assert sum(g["prompt_tokens"] or 0 for g in by_source["groups"]) == prompt
    assert by_source["total"]["output_tokens"] == sum(u["output_tokens"] for u in usage)
    by_session = json.loads(run_cli("stats", "--by", "session", "--json").output)
    assert len(by_session["groups"]) == 1 and by_session["groups"][0]["key"]

    i, tool = first_new_mcp_result(turns)
    diff = json.loads(run_cli("diff", ids[i], "--json").output)
    assert diff["before_id"] == ids[i - 1] and diff["extends"] and diff["exact"]
    assert any(c["status"] == "added" and tool in c["label"] for c in diff["changes"])

    run_cli("rate", ids[i], "bad", "--note", "missed the docs hit")
    shown = json.loads(run_cli("show", ids[i], "--json").output)
    assert [(f["rating"], f["note"]) for f in shown["feedback"]] == [(-1, "missed the docs hit")]
    rated = json.loads(run_cli("stats", "--json").output)
    mcp = [g for g in rated["groups"] if g["key"].startswith("mcp:")]
    assert mcp and all(g["rated"] == 1 and g["bad_share"] == 1.0 for g in mcp)
