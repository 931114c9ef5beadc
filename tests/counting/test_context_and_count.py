"""Claude Code's /context audited, `claude-inspect count` for stored requests, and what
happens when the API refuses to count."""

from __future__ import annotations

import json
import time

from click.testing import CliRunner

from inspector.cli import cli
from inspector.demo import token_model as tm
from inspector.demo.traffic import demo_session

from .conftest import KEY
from .test_exact_through_proxy import send_and_tree, walk


def test_context_count_calls_are_recorded_and_shown_beside_the_measure(exact_proxy):
    request = dict(demo_session(seed=0, turns=1)[0].request, stream=False)
    root = send_and_tree(exact_proxy, request)
    request_id = exact_proxy.stored[-1]
    mcp = [t for t in request["tools"] if t["name"].startswith("mcp__")]
    stored_before = len(exact_proxy.stored)
    for tool in mcp:  # what /context sends: one count per MCP tool, the tool alone
        reply = exact_proxy.send({"model": request["model"], "tools": [tool],
                                  "messages": [{"role": "user", "content": "foo"}]},
                                 path="/v1/messages/count_tokens")
        assert reply.status_code == 200
        assert reply.json()["input_tokens"] > tm.TOOL_PREAMBLE
    _wait(exact_proxy, stored_before + len(mcp))
    runner = CliRunner()
    home = ["--home", str(exact_proxy.config.home)]
    listed = json.loads(runner.invoke(cli, ["list", "--json", *home]).output)
    assert sum(1 for r in listed if r["path"].startswith("/v1/messages/count_tokens")) == len(mcp)
    shown = json.loads(runner.invoke(cli, ["tree", request_id, "--json", *home]).output)
    for node in walk(shown):
        if node["kind"] == "mcp_tool":
            tool = next(t for t in mcp if t["name"] == node["meta"]["tool"])
            claimed = tm.TOOL_PREAMBLE + tm.tool_tokens(tool) + tm.MESSAGE_FRAME + tm.count_text("foo")
            assert node["meta"]["context_claimed"] == claimed
            assert node["tokens"] == tm.tool_tokens(tool) < claimed
    servers = [n for n in walk(shown) if n["kind"] == "mcp_server"]
    assert servers and all(n["meta"]["context_claimed"] > n["tokens"] for n in servers)
    text = runner.invoke(cli, ["tree", request_id, *home], terminal_width=200).output
    assert "counted by the API" in text and "/context said" in text
    assert root["meta"]["exact"]["parts"] > 0


def test_rate_limited_counts_leave_estimates_and_say_so(exact_proxy):
    exact_proxy.stub.count_status = 429
    request = dict(demo_session(seed=0, turns=1)[0].request, stream=False)
    root = send_and_tree(exact_proxy, request)
    assert "429" in root["meta"]["exact"]["note"]
    leaves = [n for n in walk(root) if not n["children"]]
    assert all(n["estimated"] for n in leaves)
    assert sum(n["tokens"] for n in leaves) == tm.count_request(request)


def test_count_command_counts_stored_requests_with_the_users_key(home, stub, monkeypatch):
    from inspector.config import Config
    from inspector.runtime import Runtime
    from .conftest import Proxy

    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'resolve = ["api.anthropic.com:443:127.0.0.1:{stub.port}"]\n'
        f'upstream_ca = "{stub.ca_file}"\ncount_per_minute = 100000\n')
    config = Config.load(home, listen="127.0.0.1:0")
    runtime = Runtime(config)
    runtime.start()
    proxy = Proxy(runtime, config, stub)
    request = dict(demo_session(seed=0, turns=1)[0].request, stream=False)
    try:
        assert proxy.send(request).status_code == 200
        before = proxy.tree(_wait(proxy, 1), counted=False)
    finally:
        proxy.client.close()
        runtime.stop()
    assert "exact" not in before["meta"] and proxy.count_calls() == 0
    request_id = proxy.stored[0]
    runner = CliRunner()
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    refused = runner.invoke(cli, ["count", request_id])
    assert refused.exit_code == 1 and "ANTHROPIC_API_KEY" in refused.output
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    done = runner.invoke(cli, ["count", "--since", "1h"])
    assert done.exit_code == 0, done.output
    assert "counted 1 of 1" in done.output
    assert all(r["headers"]["x-api-key"] == KEY for r in stub.requests
               if r["target"].startswith("/v1/messages/count_tokens"))
    shown = json.loads(runner.invoke(cli, ["tree", request_id, "--json"]).output)
    over = [n for n in walk(shown) if n["kind"] == "overhead"]
    assert over and over[0]["tokens"] == tm.overhead(request) and not over[0]["estimated"]
    again = runner.invoke(cli, ["count", request_id])
    assert "0 calls" in again.output  # every count is reused from the database
    assert KEY not in (home / "captures.db").read_bytes().decode("latin-1")


def _wait(proxy, n):
    """The first stored id, once `n` captures are stored."""
    t0 = time.monotonic()
    while len(proxy.stored) < n:
        assert time.monotonic() - t0 < 30, "captures were not stored"
        time.sleep(0.02)
    return proxy.stored[0]
