"""`claude-inspect proxy` and `claude-inspect ca`, run as users run them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner

from inspector.cli import cli

API = "https://api.anthropic.com"


def test_ca_path_pem_and_help(home):
    runner = CliRunner()
    path = runner.invoke(cli, ["ca", "--path"])
    assert path.exit_code == 0 and path.output.strip() == str(home / "ca.pem")
    pem = runner.invoke(cli, ["ca", "--pem"])
    assert pem.output == (home / "ca.pem").read_text()
    help_text = runner.invoke(cli, ["ca"]).output
    for needle in ("NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                   "update-ca-certificates", "security add-trusted-cert"):
        assert needle in help_text


def test_ca_corrupt_gives_one_line(home):
    home.mkdir(parents=True)
    (home / "ca.pem").write_text("junk")
    (home / "ca-key.pem").write_text("junk")
    result = CliRunner().invoke(cli, ["ca", "--path"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "delete ca.pem and ca-key.pem" in result.output
    assert "Traceback" not in result.output


def start_cli_proxy(*args: str) -> tuple[subprocess.Popen, int, list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "proxy", "--listen", "127.0.0.1:0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )
    lines = []
    while True:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        lines.append(line)
        if "ANTHROPIC_BASE_URL" in line:
            break
    port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", lines[0]).group(1))
    return proc, port, lines


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_proxy_command_logs_exchanges_and_stops_cleanly(home, stub, stop_signal):
    proc, port, head = start_cli_proxy(
        "--resolve", f"api.anthropic.com:443:127.0.0.1:{stub.port}", "--upstream-ca", stub.ca_file)
    try:
        assert port != 0
        assert any(f"HTTPS_PROXY=http://127.0.0.1:{port}" in line and
                   f"NODE_EXTRA_CA_CERTS={home / 'ca.pem'}" in line for line in head)
        with httpx.Client(proxy=f"http://127.0.0.1:{port}", verify=str(home / "ca.pem")) as client:
            assert client.post(f"{API}/v1/messages", json={"model": "m"}).status_code == 200
        line = proc.stdout.readline()
        assert re.match(r"\d\d:\d\d:\d\d  POST\s+api\.anthropic\.com/v1/messages  200  \d+ ms", line), line
    finally:
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "proxy stopped" in out and "Traceback" not in err


def test_port_in_use_is_one_line_naming_the_port(home):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "inspector", "proxy", "--listen",
                               f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and str(port) in proc.stderr
    assert "in use" in proc.stderr


def _vm(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(field)


def test_50mb_reply_with_bounded_proxy_memory(home, stub):
    proc, port, _ = start_cli_proxy(
        "--resolve", f"api.anthropic.com:443:127.0.0.1:{stub.port}", "--upstream-ca", stub.ca_file)
    try:
        with httpx.Client(proxy=f"http://127.0.0.1:{port}", verify=str(home / "ca.pem"),
                          timeout=30) as client:
            client.post(f"{API}/v1/messages", json={})  # warm up: connection, leaf, buffers
            before = _vm(proc.pid, "VmHWM")
            size = 50 * 1024 * 1024
            received = 0
            t = time.perf_counter()
            with client.stream("POST", f"{API}/v1/messages", json={},
                               headers={"x-stub-body-bytes": str(size)}) as r:
                for chunk in r.iter_raw():
                    received += len(chunk)
            elapsed = time.perf_counter() - t
        peak = _vm(proc.pid, "VmHWM")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    print("proxy memory", before >> 20, peak >> 20, "MiB; 50 MB in", round(elapsed, 2), "s")
    assert received == size
    # the body copy spools to disk and forwarding is backpressured: memory must not follow
    # the body's size (peak grew by far less than the 50 MB relayed)
    assert peak - before < 20 * 1024 * 1024, (before, peak)
    assert peak < 80 * 1024 * 1024, peak
    assert elapsed < 20


def test_proxy_thread_reraises_the_bind_error_in_the_callers_thread(tmp_path):
    from inspector.model import NullSink, ProxySettings
    from inspector.proxy.engine import ProxyError
    from inspector.proxy.thread import ProxyThread

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        runner = ProxyThread(ProxySettings(listen_port=port, ca_dir=str(tmp_path)), NullSink())
        try:
            runner.start(timeout=10)
        except ProxyError as e:
            assert f"port {port} is already in use" in str(e)
            assert isinstance(e, OSError)
        else:
            raise AssertionError("bound a port that is taken")
