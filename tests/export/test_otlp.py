"""Captures leave as OpenTelemetry GenAI spans: `export --format otlp` and the live
follower, both checked by a real OTLP/HTTP receiver that decodes the protobuf."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner

from inspector.cli import cli
from inspector.config import Config
from inspector.demo.traffic import demo_session
from inspector.store import Store
from inspector.store.exchanges import exchange_dicts
from inspector.store.queries import Filter, list_requests

from .otlp_receiver import Receiver, attrs

API = "https://api.anthropic.com"
SECRET = "sk-ant-api03-OTLPNEVERLEAVES-0123456789abcdef0123456789"
SESSION = "5b1f0c1e-7d1a-4c2b-9a55-0123456789ab"


@pytest.fixture
def stub(tmp_path):
    from inspector.demo.stub_api import StubAPI

    with StubAPI(tls=True, cert_dir=tmp_path / "stub-ca") as api:
        yield api


def start_proxy(*args: str) -> tuple[subprocess.Popen, int]:
    """`claude-inspect proxy` as a user runs it; `proc.first_line` is what it said first."""
    proc = subprocess.Popen([sys.executable, "-m", "inspector", "proxy", "--listen",
                             "127.0.0.1:0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    first = proc.stdout.readline()
    assert "listening on 127.0.0.1:" in first, first + proc.stderr.read()
    proc.first_line = first
    return proc, int(first.split("listening on 127.0.0.1:")[1].split(",")[0])


def send_turns(home, port: int, n: int) -> None:
    turns = demo_session(seed=3, turns=n)
    with httpx.Client(proxy=f"http://127.0.0.1:{port}", verify=str(home / "ca.pem"),
                      timeout=30) as http:
        for i, turn in enumerate(turns):
            body = dict(turn.request, stream=i % 2 == 0)
            last = dict(body["messages"][-1])  # the user's turn: the key goes in it
            content = last["content"]
            if isinstance(content, str):
                content = [{"type": "text", "text": content}]
            last["content"] = list(content) + [
                {"type": "text", "text": f"my key is {SECRET}, keep it"}]
            body["messages"] = body["messages"][:-1] + [last]
            r = http.post(f"{API}/v1/messages", json=body,
                          headers={"x-api-key": SECRET, "x-claude-code-session-id": SESSION})
            assert r.status_code == 200


def record_turns(home, stub, n: int) -> None:
    """`n` turns of one session recorded by `claude-inspect proxy`, which then stops."""
    proc, port = start_proxy("--resolve", f"api.anthropic.com:443:127.0.0.1:{stub.port}",
                             "--upstream-ca", stub.ca_file)
    try:
        send_turns(home, port, n)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def stored(home) -> list[dict]:
    with Store(Config.load(home).db_path) as store:
        ids = [r["id"] for r in list_requests(store, Filter(limit=1000))]
        exchanges = exchange_dicts(store, ids)
        sources = {}
        for rid, source, tokens in store.execute(
                "SELECT request_id, source, tokens FROM request_sources"):
            sources.setdefault(rid, {})[source] = tokens
    for ex in exchanges:
        ex["sources"] = sources.get(ex["id"], {})
    return exchanges


def check_spans(spans, exchanges) -> None:
    """One span per exchange, each equal to what the store holds."""
    by_id = {attrs(s.attributes)["claude_inspect.capture_id"]: s for s in spans}
    assert len(by_id) == len(spans) == len(exchanges)
    for ex in exchanges:
        span = by_id[ex["id"]]
        a = attrs(span.attributes)
        u = ex["usage"]
        assert a["gen_ai.operation.name"] == "chat"
        assert a["gen_ai.provider.name"] == "anthropic"
        assert a["gen_ai.request.model"] == ex["request"]["model"]
        assert a["gen_ai.response.model"] == ex["response"]["body"]["model"]
        assert a["gen_ai.usage.input_tokens"] == (
            u["input_tokens"] + u["cache_read_tokens"] + u["cache_creation_tokens"])
        assert a["gen_ai.usage.output_tokens"] == u["output_tokens"]
        assert a["gen_ai.usage.cache_read.input_tokens"] == u["cache_read_tokens"]
        assert a["gen_ai.usage.cache_creation.input_tokens"] == u["cache_creation_tokens"]
        assert a["session.id"] == a["gen_ai.conversation.id"] == SESSION
        assert a["server.address"] == "api.anthropic.com"
        assert a["http.response.status_code"] == 200
        # the capture's own times, not the time of sending
        assert abs(span.start_time_unix_nano / 1e9 - _epoch(ex["ts"])) < 0.002
        assert span.end_time_unix_nano >= span.start_time_unix_nano
        events = {attrs(e.attributes)["claude_inspect.source.name"]: attrs(e.attributes)
                  for e in span.events if e.name == "claude_inspect.source"}
        assert events and {k: v["claude_inspect.source.tokens"] for k, v in events.items()} \
            == ex["sources"]
        assert sum(v["claude_inspect.source.tokens"] for v in events.values()) == \
            a["gen_ai.usage.input_tokens"]


def _epoch(ts: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def test_export_sends_one_span_per_exchange_with_usage_sources_and_no_secret(
        home, stub):
    record_turns(home, stub, 4)
    exchanges = stored(home)
    assert len(exchanges) == 4
    with Receiver() as receiver:
        result = CliRunner().invoke(cli, ["export", "--format", "otlp", "--endpoint",
                                          receiver.url, "--header", "x-team-key=abc",
                                          "--bodies"])
        assert result.exit_code == 0, result.output
        assert f"sent 4 spans to {receiver.url}/v1/traces" in result.output
        check_spans(receiver.spans, exchanges)
        assert receiver.headers[0]["x-team-key"] == "abc"
        resource = receiver.resources[0]
        assert resource["service.name"] == "claude-inspect"
        assert resource["host.name"] == socket.gethostname()
        a = attrs(receiver.spans[0].attributes)
        assert "keep it" in a["gen_ai.input.messages"]  # bodies asked for, and sent
        assert all(SECRET.encode() not in raw for raw in receiver.raw)
        assert all(SECRET[:20].encode() not in raw for raw in receiver.raw)


def test_export_without_bodies_sends_none_and_an_endpoint_path_is_kept(home, stub):
    record_turns(home, stub, 1)
    with Receiver() as receiver:
        result = CliRunner().invoke(cli, ["export", "--format", "otlp", "--endpoint",
                                          receiver.url + "/v1/traces"])
        assert result.exit_code == 0, result.output
        a = attrs(receiver.wait_for(1)[0].attributes)
        assert not any(k.startswith("gen_ai.input") or k.startswith("gen_ai.output")
                       or k == "gen_ai.system_instructions" for k in a)


def test_export_to_a_collector_that_is_down_fails_in_one_line(home, stub):
    record_turns(home, stub, 1)
    result = CliRunner().invoke(cli, ["export", "--format", "otlp", "--endpoint",
                                      f"http://127.0.0.1:{_free_port()}"])
    assert result.exit_code == 1
    assert "did not take the spans" in result.output and "0 sent" in result.output
    assert "Traceback" not in result.output
    usage = CliRunner().invoke(cli, ["export", "--format", "otlp"])
    assert usage.exit_code == 2 and "--endpoint" in usage.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_live_spans_follow_the_store_as_exchanges_are_recorded(home, stub):
    with Receiver() as receiver:
        proc, port = start_proxy("--resolve", f"api.anthropic.com:443:127.0.0.1:{stub.port}",
                                 "--upstream-ca", stub.ca_file,
                                 "--otlp-endpoint", receiver.url)
        try:
            send_turns(home, port, 3)
            spans = receiver.wait_for(3)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert f"sending spans to {receiver.url}" in proc.first_line
        check_spans(spans, stored(home))


def test_collector_down_costs_a_status_line_never_a_capture(home, stub):
    """The proxy relays and records as before; the spans wait in the store and reach the
    collector once it is up, with no loss."""
    collector_port = _free_port()
    proc, port = start_proxy("--resolve", f"api.anthropic.com:443:127.0.0.1:{stub.port}",
                             "--upstream-ca", stub.ca_file,
                             "--otlp-endpoint", f"http://127.0.0.1:{collector_port}")
    try:
        send_turns(home, port, 3)  # every request is answered: asserted inside
        line = proc.stderr.readline()
        assert "OTLP: " in line and "collector unreachable" in line, line
        with Receiver(collector_port) as receiver:
            spans = receiver.wait_for(3, timeout=60)
            send_turns(home, port, 1)
            spans = receiver.wait_for(4, timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    exchanges = stored(home)
    assert len(exchanges) == 4 and len(spans) == 4
    assert "collector reachable again" in err
    assert "sends them" not in err  # nothing was left unsent


def test_a_proxy_stopped_while_the_collector_is_down_says_what_it_did_not_send(home, stub):
    collector_port = _free_port()
    endpoint = f"http://127.0.0.1:{collector_port}"
    proc, port = start_proxy("--resolve", f"api.anthropic.com:443:127.0.0.1:{stub.port}",
                             "--upstream-ca", stub.ca_file, "--otlp-endpoint", endpoint)
    try:
        send_turns(home, port, 1)
        line = proc.stderr.readline()
        assert line.startswith("warning: OTLP: 1 span waiting, collector unreachable"), line
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    (last,) = [x for x in err.splitlines() if "sends them" in x]
    assert f"--format otlp --endpoint {endpoint}` sends them" in last
    assert "proxy stopped" in out and len(stored(home)) == 1


def test_settings_come_from_config_toml_and_are_checked(home):
    from inspector.config import ConfigError
    from inspector.export.otlp import traces_url

    home.mkdir(parents=True)
    (home / "config.toml").write_text(
        'otlp_endpoint = "http://127.0.0.1:4318"\notlp_headers = ["x-team=1"]\n'
        "otlp_bodies = true\n")
    config = Config.load(home)
    assert (config.otlp_endpoint, config.otlp_headers, config.otlp_bodies) == (
        "http://127.0.0.1:4318", ["x-team=1"], True)
    assert traces_url(config.otlp_endpoint) == "http://127.0.0.1:4318/v1/traces"
    assert traces_url("http://c:4318/v1/traces/") == "http://c:4318/v1/traces"
    with pytest.raises(ConfigError, match="otlp-endpoint"):
        Config.load(home, otlp_endpoint="collector:4318")
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        Config.load(home, otlp_headers=["novalue"])
    result = CliRunner().invoke(cli, ["proxy", "--otlp-endpoint", "ftp://x"])
    assert result.exit_code == 1 and "otlp-endpoint" in result.output


def test_the_app_hears_when_the_collector_fails_and_when_it_answers_again(home, stub):
    """Under the app the follower's status is not printed (the screen is the app's): it
    comes back as notices, "otlp_fault" then "otlp_ok", and goes to the log as well."""
    import queue

    from inspector.cli.common import start_live_otlp, stop_live_otlp

    collector_port = _free_port()
    config = Config.load(home, otlp_endpoint=f"http://127.0.0.1:{collector_port}")
    notices: queue.Queue = queue.Queue()
    follower = start_live_otlp(config, console=False,
                               notice=lambda kind, text: notices.put((kind, text)))
    try:
        record_turns(home, stub, 2)  # stored after the follower started: it sends them
        kind, text = notices.get(timeout=30)
        assert kind == "otlp_fault" and "collector unreachable" in text, text
        with Receiver(collector_port) as receiver:
            receiver.wait_for(2, timeout=60)
            kind, text = notices.get(timeout=30)
        assert kind == "otlp_ok" and "reachable again" in text, text
    finally:
        stop_live_otlp(follower)
    assert follower.proc.returncode == 0
    assert notices.empty()
