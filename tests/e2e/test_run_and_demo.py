"""`claude-inspect run` and `demo` as a newcomer uses them: real subprocesses, a real
anthropic SDK client that reads only its environment, a real TLS upstream on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from click.testing import CliRunner

from inspector.cli import cli as cli_group
from inspector.config import Config
from inspector.store import Store
from inspector.store.exchanges import get_exchange, iter_exchanges
from inspector.store.queries import Filter, list_requests

from .conftest import cli

# An unmodified SDK script: it knows nothing of claude-inspect, only its environment.
CLIENT = """
import sys, anthropic
client = anthropic.Anthropic(api_key="sk-ant-test-0000-SECRETSECRET")
with client.messages.stream(model="claude-sonnet-4-5", max_tokens=64,
                            messages=[{"role": "user", "content": "Say hello"}]) as stream:
    message = stream.get_final_message()
import json; print(json.dumps(message.model_dump(mode="json", exclude_none=True)))
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""


def _stored(home) -> list[dict]:
    store = Store(Config.load(home).db_path)
    try:
        return list_requests(store, Filter(limit=100))
    finally:
        store.close()


def test_run_records_an_unmodified_sdk_client_and_returns_its_exit_code(home, tmp_path, proxy_args, stub):
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    out = cli("run", *proxy_args, "--", sys.executable, str(script), "3")
    assert out.returncode == 3, out.stderr
    sdk_message = json.loads(out.stdout)
    assert len(stub.requests) == 1  # it really reached the upstream, through the proxy
    rows = _stored(home)
    assert len(rows) == 1 and rows[0]["status"] == 200 and rows[0]["stream"]
    store = Store(Config.load(home).db_path)
    try:
        full = get_exchange(store, rows[0]["id"])
    finally:
        store.close()
    stored_message = full["response"]["body"]  # the reassembled final message
    assert stored_message["content"] == sdk_message["content"]
    assert stored_message["usage"]["input_tokens"] == sdk_message["usage"]["input_tokens"]
    assert "1 requests captured" in out.stderr and "browse: claude-inspect" in out.stderr
    # the key never reached the disk
    for path in home.rglob("*"):
        if path.is_file():
            assert b"SECRETSECRET" not in path.read_bytes(), path


def test_run_reverse_mode_needs_no_ca(home, tmp_path, stub):
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    out = cli("run", "--reverse", "--upstream", f"https://127.0.0.1:{stub.port}",
              "--upstream-ca", stub.ca_file, "--", sys.executable, str(script))
    assert out.returncode == 0, out.stderr
    rows = _stored(home)
    assert len(rows) == 1 and rows[0]["status"] == 200


def test_run_says_at_the_end_what_a_dead_collector_did_not_get(home, tmp_path, proxy_args):
    """The command owns the terminal while it runs; once it ends, spans the collector
    never took are said, with the command that sends them (no later follower will)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    endpoint = f"http://127.0.0.1:{dead}"
    out = cli("run", *proxy_args, "--otlp-endpoint", endpoint, "--", sys.executable,
              str(script))
    assert out.returncode == 0, out.stderr
    assert len(_stored(home)) == 1  # recorded all the same
    warning = [line for line in out.stderr.splitlines() if "OTLP" in line]
    assert len(warning) == 1 and "collector unreachable" in warning[0], out.stderr
    assert f"--format otlp --endpoint {endpoint}` sends them" in warning[0]
    assert "--since 2m " in warning[0] and "retrying" not in warning[0]


def test_second_run_reuses_the_running_proxy(home, tmp_path, proxy_args):
    flag = tmp_path / "go"
    waiter = tmp_path / "wait.py"
    waiter.write_text(
        "import os, sys, time\n"
        f"deadline = time.time() + 30\n"
        f"while not os.path.exists({str(flag)!r}) and time.time() < deadline:\n"
        "    time.sleep(0.05)\n"
    )
    first = subprocess.Popen([sys.executable, "-m", "inspector", "run", *proxy_args, "--",
                              sys.executable, str(waiter)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        state = home / "proxy.json"
        deadline = time.time() + 20
        while not state.exists() and time.time() < deadline:
            time.sleep(0.05)
        port = json.loads(state.read_text())["port"]
        script = tmp_path / "client.py"
        script.write_text(CLIENT)
        second = cli("run", *proxy_args, "--", sys.executable, str(script))
        assert second.returncode == 0, second.stderr
        assert f"using the proxy already running on 127.0.0.1:{port}" in second.stderr
    finally:
        flag.write_text("go")
        first.wait(30)
    assert first.returncode == 0, first.stderr.read()
    assert len(_stored(home)) == 1
    assert not (home / "proxy.json").exists()


def test_run_unknown_command_is_a_one_line_error(home):
    out = cli("run", "--listen", "127.0.0.1:0", "--", "no-such-command-xyz")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == "error: command not found: no-such-command-xyz"


def test_demo_headless_fills_a_database_with_every_source_kind(home):
    result = CliRunner().invoke(cli_group, ["demo", "--headless"])
    assert result.exit_code == 0, result.output
    db = home / "demo.db"
    assert db.exists()
    store = Store(db)
    try:
        rows = list_requests(store, Filter(limit=100))
        kinds = set()
        todo = [ex["attribution"] for ex in iter_exchanges(store, Filter())]
        while todo:
            node = todo.pop()
            kinds.add(node["kind"])
            todo += node["children"]
    finally:
        store.close()
    assert len(rows) == 12 and all(r["status"] == 200 for r in rows)
    assert {r["session_id"] for r in rows} and None not in {r["session_id"] for r in rows}
    for kind in ("system_block", "tool", "mcp_server", "mcp_tool", "memory", "skill",
                 "skill_body", "user", "tool_result", "thinking", "image", "agent"):
        assert kind in kinds, kind
