"""The recorder writes a pending row when a request starts, and its capture replaces it;
an exchange that will not be stored takes its pending row with it."""

from __future__ import annotations

import time

from inspector.runtime.recorder import Recorder
from inspector.store import Store
from inspector.store.queries import pending_rows, request_rows, Filter
from test_recorder import REPLY, make_exchange


def _wait(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.02)


def test_pending_then_complete_then_forgotten(tmp_path):
    db = tmp_path / "c.db"
    rec = Recorder(db)
    rec.start()
    body = b'{"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}]}'
    kept, dropped = make_exchange(body, REPLY), make_exchange(body, REPLY)
    kept.target = "/v1/messages?key=sk-ant-api03-SECRETQ"  # scrubbed as a capture's path is
    try:
        rec.announce(kept)
        rec.announce(dropped)
        _wait(lambda: db.exists() and len(_pending(db)) == 2)
        assert all("SECRETQ" not in (r.path or "") for r in _pending(db))
        rec.submit(kept)
        rec.forget(dropped.id)
        _wait(lambda: not _pending(db))
        with Store(db) as store:
            [row] = request_rows(store, Filter())
        assert row.id == kept.id and row.status == 200 and not row.pending
    finally:
        assert rec.close(20)
    assert rec.written == 1 and rec.not_stored == 0


def _pending(db):
    with Store(db) as store:
        return pending_rows(store)
