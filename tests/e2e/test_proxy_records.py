"""The headless proxy records everything it relays, and a SIGTERM loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import httpx

from inspector.config import Config
from inspector.demo.traffic import demo_session
from inspector.store import Store
from inspector.store.queries import Filter, count_requests, list_requests


def start_proxy(*args: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "inspector", "proxy", "--listen", "127.0.0.1:0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    first = proc.stdout.readline()
    assert "listening on 127.0.0.1:" in first, first + proc.stderr.read()
    port = int(first.split("listening on 127.0.0.1:")[1].split(",")[0])
    return proc, port


def test_sigterm_right_after_the_last_reply_loses_nothing(home, proxy_args):
    proc, port = start_proxy(*proxy_args)
    per_client, clients = 16, 32  # 512 exchanges
    errors: list[BaseException] = []
    # Realistic ~80 KB Claude Code bodies: attributing and storing them is slower than
    # relaying them, so the writer still has a backlog when the signal arrives.
    turns = demo_session(seed=1, turns=6)

    def client(n: int) -> None:
        try:
            with httpx.Client(proxy=f"http://127.0.0.1:{port}", verify=str(home / "ca.pem"),
                              timeout=30) as http:
                for i in range(per_client):
                    body = dict(turns[i % len(turns)].request, stream=i % 2 == 0)
                    r = http.post("https://api.anthropic.com/v1/messages", json=body,
                                  headers={"x-api-key": "sk-ant-test-DONOTSTORE-1234"})
                    assert r.status_code == 200
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert not errors, errors[:3]
    assert proc.returncode == 0, err
    assert "proxy stopped" in out
    assert out.count(" 200 ") >= per_client * clients  # one line per exchange

    store = Store(Config.load().db_path)
    try:
        assert count_requests(store, Filter()) == per_client * clients
        rows = list_requests(store, Filter(limit=1000))
    finally:
        store.close()
    assert all(r["status"] == 200 for r in rows)
    assert all(r["input_tokens"] for r in rows)  # usage of streamed and plain replies
    for path in home.rglob("*"):
        if path.is_file():
            assert b"DONOTSTORE" not in path.read_bytes(), path


def test_port_in_use_is_one_line(home):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "inspector", "proxy", "--listen", f"127.0.0.1:{port}"],
                             capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {port}" in lines[0] and lines[0].startswith("error:")


def test_secrets_in_odd_bodies_never_reach_the_disk(home, proxy_args):
    """Bodies kept raw (bytes that are not text, a gzip label on plain bytes) and JSON
    members named like secrets are scrubbed too, in the database and in every export."""
    proc, port = start_proxy(*proxy_args)
    key = "sk-ant-api03-AAAABBBBCCCCDDDDEEEE1234"
    try:
        with httpx.Client(proxy=f"http://127.0.0.1:{port}", verify=str(home / "ca.pem"),
                          timeout=30) as http:
            url = "https://api.anthropic.com/v1/messages"
            undecodable = ('{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"key '
                           + key + ' \xff"}]}').encode("latin-1")
            http.post(url, content=undecodable, headers={"content-type": "application/json"})
            http.post(url, content=b'{"note": "' + key.encode() + b'"}',
                      headers={"content-type": "application/json", "content-encoding": "gzip"})
            http.post(url, json={"model": "m", "api_key": "BODYSECRET-123456",
                                 "password": "hunter2-hunter2", "messages": []})
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    for fmt in ("jsonl", "har", "json"):
        out = subprocess.run([sys.executable, "-m", "inspector", "export", "--format", fmt,
                              "-o", str(home / f"export.{fmt}")], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (b"AAAABBBBCCCCDDDD", b"BODYSECRET", b"hunter2"):
                assert secret not in data, (secret, path)
    import base64
    import json as json_

    for line in (home / "export.jsonl").read_text().splitlines():  # raw bodies ride as base64
        record = json_.loads(line)
        for part in (record["request"], record["response"]):
            if part.get("body_base64"):
                assert b"AAAABBBBCCCCDDDD" not in base64.b64decode(part["body_base64"])
