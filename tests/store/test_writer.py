"""The writer thread: drains on close, survives a locked database and failing prepare."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time

from capture.fixtures import make_exchange, request_body, stream_bytes

from inspector.capture import build_capture
from inspector.store import Filter, Record, Store, Writer, count_requests

from .helpers import record


def _count(path) -> int:
    s = Store(path)
    try:
        return count_requests(s, Filter())
    finally:
        s.close()


def test_drains_everything_from_32_threads(tmp_path):
    path = tmp_path / "c.db"
    written: list[str] = []
    writer = Writer(path, prepare=lambda ex: Record(build_capture(ex)),
                    on_written=written.extend)
    writer.start()
    body = json.dumps(request_body(big=4000)).encode()
    sse = stream_bytes()
    exchanges = [make_exchange(body, sse) for _ in range(500)]

    def submit(chunk):
        for ex in chunk:
            writer.submit(ex)

    threads = [threading.Thread(target=submit, args=(exchanges[i::32],)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert writer.close(timeout=60)
    assert writer.written == 500 and writer.failed == 0 and writer.pending == 0
    assert sorted(written) == sorted(ex.id for ex in exchanges)
    assert _count(path) == 500


def test_locked_database_is_retried(tmp_path, caplog):
    path = tmp_path / "c.db"
    Store(path).close()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    writer = Writer(path, busy_timeout=0.1)
    writer.start()
    with caplog.at_level(logging.WARNING, logger="inspector.store.writer"):
        for _ in range(5):
            writer.submit(record())
        time.sleep(0.8)
        assert writer.written == 0 and writer.pending == 5
        blocker.execute("COMMIT")
        blocker.close()
        assert writer.close(timeout=30)
    assert writer.written == 5 and writer.failed == 0
    assert any("retry" in r.getMessage() for r in caplog.records)
    assert _count(path) == 5


def test_failing_prepare_still_stores_the_capture(tmp_path, caplog):
    path = tmp_path / "c.db"

    def prepare(ex):
        raise RuntimeError("attribution exploded")

    writer = Writer(path, prepare=prepare, fallback=lambda ex: Record(build_capture(ex)))
    writer.start()
    ex = make_exchange(json.dumps(request_body()).encode(), stream_bytes())
    with caplog.at_level(logging.ERROR):
        writer.submit(ex)
        writer.submit(object())  # nothing storable: counted as failed, never raised
        assert writer.close(timeout=10)
    assert writer.written == 1 and writer.failed == 1
    assert "attribution exploded" in caplog.text
    assert _count(path) == 1


def test_submit_before_start_and_close_without_items(tmp_path):
    path = tmp_path / "c.db"
    writer = Writer(path)
    writer.submit(record())
    assert writer.pending == 1
    assert writer.close(timeout=10)  # starts, drains, stops
    assert writer.written == 1 and _count(path) == 1
    empty = Writer(tmp_path / "d.db")
    empty.start()
    assert empty.close(timeout=5) and empty.written == 0
