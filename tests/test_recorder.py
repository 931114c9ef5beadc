"""The recorder process: exchanges cross the pipe whole, large bodies by file, and what
was handed over is stored even when the parent dies without closing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

from inspector.ids import new_id
from inspector.model import CapturedBody, Exchange
from inspector.runtime.recorder import Recorder, from_wire, to_wire
from inspector.store import Store
from inspector.store.exchanges import get_exchange
from inspector.store.queries import Filter, count_requests


def make_exchange(body: bytes, reply: bytes) -> Exchange:
    req = CapturedBody(limit=64 << 20)
    req.append(body)
    resp = CapturedBody(limit=64 << 20)
    resp.append(reply)
    return Exchange(
        id=new_id(), connection_id="c1", mode="intercept", scheme="https",
        host="api.anthropic.com", port=443, method="POST", target="/v1/messages",
        client_addr="127.0.0.1:5", request_headers=[("content-type", "application/json"),
                                                    ("x-api-key", "sk-ant-xyz-SECRET9")],
        request_body=req, status=200, response_headers=[("content-type", "application/json")],
        response_body=resp, complete=True)


REPLY = json.dumps({"type": "message", "role": "assistant", "model": "claude-haiku-4-5",
                    "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
                    "usage": {"input_tokens": 12, "output_tokens": 1}}).encode()


def test_wire_round_trip_moves_a_spooled_body_by_path():
    big = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * (3 << 20)}]})
    ex = make_exchange(big.encode(), REPLY)
    copy = from_wire(to_wire(ex))
    assert copy.request_body.getvalue() == big.encode()
    assert copy.response_body.getvalue() == REPLY
    assert copy.request_headers == ex.request_headers and copy.timings == ex.timings
    copy.request_body.close()


def test_recorder_stores_everything_before_close_returns(tmp_path, monkeypatch):
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))  # where the big body spools
    db = tmp_path / "c.db"
    stored: list[str] = []
    rec = Recorder(db, on_written=stored.extend)
    rec.start()
    body = json.dumps({"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}]})
    exchanges = [make_exchange(body.encode(), REPLY) for _ in range(40)]
    exchanges.append(make_exchange(json.dumps({"model": "m", "pad": "y" * (2 << 20)}).encode(), REPLY))
    for ex in exchanges:
        rec.submit(ex)
    assert rec.close(timeout=60)
    assert sorted(stored) == sorted(ex.id for ex in exchanges)
    assert rec.written == 41 and rec.pending == 0
    store = Store(db)
    try:
        assert count_requests(store, Filter()) == 41
        big = get_exchange(store, exchanges[-1].id)
        assert big["request"]["body_bytes"] > 2 << 20
    finally:
        store.close()
    assert list(spool.iterdir()) == []  # the child deleted the spool file it adopted
    assert b"SECRET9" not in db.read_bytes()


def test_child_drains_what_it_was_sent_when_the_parent_dies(tmp_path):
    db = tmp_path / "c.db"
    script = textwrap.dedent(f"""
        import os, sys, time, json
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_recorder import make_exchange, REPLY
        from inspector.runtime.recorder import Recorder
        rec = Recorder({str(db)!r})
        rec.start()
        body = json.dumps({{"model": "claude-haiku-4-5", "messages": []}}).encode()
        for _ in range(30):
            rec.submit(make_exchange(body, REPLY))
        while len(rec._backlog):
            time.sleep(0.01)
        time.sleep(0.2)   # the feeder has written the last one to the pipe
        os._exit(0)       # no close(): as if the process were killed
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    deadline = time.time() + 30
    n = 0
    while time.time() < deadline:
        if db.exists():
            store = Store(db)
            try:
                n = count_requests(store, Filter())
            finally:
                store.close()
            if n == 30:
                break
        time.sleep(0.2)
    assert n == 30


def test_past_the_disk_bound_exchanges_are_dropped_counted_and_said(tmp_path):
    notices: list[tuple[str, str]] = []
    rec = Recorder(tmp_path / "c.db", on_notice=lambda *n: notices.append(n),
                   max_queued_bytes=1 << 20, max_spilled_bytes=2 << 20)
    rec.start()
    recorder = rec._child.process.pid
    os.kill(recorder, signal.SIGSTOP)
    try:
        body = b'{"model": "m", "pad": "' + b"x" * 200_000 + b'"}'
        for _ in range(40):  # 8 MB: 1 in memory, 2 on disk, the rest dropped
            rec.submit(make_exchange(body, REPLY))
        deadline = time.monotonic() + 10
        while not any("not keeping up" in t for _, t in notices) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        os.kill(recorder, signal.SIGCONT)
    assert rec.close(timeout=60)
    counts = (rec.written, rec.dropped, rec.failed, rec.lost, notices)
    assert 15 <= rec.dropped < 40 and rec.written + rec.dropped == 40, counts
    said = [(k, t) for k, t in notices if "not keeping up" in t]
    assert said and said[0][0] == "recorder_fault" and "not stored" in said[0][1]
    assert any(k == "recorder_note" and "wait on disk" in t for k, t in notices)
