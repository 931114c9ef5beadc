"""Requests in flight: a pending row from the moment a request starts, replaced by its
capture in the capture's own transaction; `list` shows completed exchanges unless asked
with `--pending`; and the change feed reads only what is new."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from inspector.ids import new_id
from inspector.store import Filter, Store, count_requests, list_requests, pending
from inspector.store.pending import PendingDrop, PendingStart
from inspector.store.queries import count_after, last_seq, pending_rows, rows_after
from inspector.timeparse import iso_utc

from .helpers import record


def _start(store: Store, capture_id: str, recorder: int | None = None) -> None:
    with store.conn:
        pending.write(store.conn, [PendingStart(capture_id, iso_utc(time.time()),
                                                "POST", "api.anthropic.com", "/v1/messages")],
                      recorder)


def test_a_capture_replaces_its_pending_row(store):
    rec = record()
    _start(store, rec.capture.id)
    [row] = pending_rows(store)
    assert row.pending and row.id == rec.capture.id and row.path == "/v1/messages"
    assert count_requests(store, Filter()) == 0 and list_requests(store, Filter()) == []

    before = last_seq(store)
    store.write([rec])
    assert pending_rows(store) == []
    [done] = rows_after(store, Filter(), before)
    assert done.id == rec.capture.id and not done.pending and done.seq > before
    _start(store, rec.capture.id)  # a start that crossed its capture on the way: ignored
    assert pending_rows(store) == []


def test_drops_and_orphans_go(store):
    a, b = new_id(), new_id()
    _start(store, a)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    _start(store, b, recorder=int(dead.stdout))
    with store.conn:
        pending.write(store.conn, [PendingDrop(a)])
    assert [r.id for r in pending_rows(store)] == [b]
    with store.conn:
        assert pending.forget_orphans(store.conn) == 1  # its recorder is gone
    assert pending_rows(store) == []
    _start(store, a, recorder=os.getpid())
    with store.conn:
        assert pending.forget_orphans(store.conn) == 0  # ours still runs


def test_the_feed_reads_from_its_position(store):
    store.write([record(ago=30), record(ago=20)])
    seq = last_seq(store)
    assert rows_after(store, Filter(), seq) == [] and count_after(store, seq) == 0
    store.write([record(ago=10, model="claude-opus-4-1")])
    assert count_after(store, seq) == 1
    assert [r.model for r in rows_after(store, Filter(model="claude-opus*"), seq)] == [
        "claude-opus-4-1"]
    assert rows_after(store, Filter(model="claude-haiku*"), seq) == []
    plan = " ".join(r[-1] for r in store.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM requests r WHERE r.rowid > ?", (seq,)))
    assert "INTEGER PRIMARY KEY (rowid>?)" in plan  # a seek, whatever is stored


def test_list_shows_pending_only_when_asked(store, run_cli):
    store.write([record(ago=5)])
    in_flight = new_id()
    _start(store, in_flight)
    plain = json.loads(run_cli("list", "--json").output)
    assert len(plain) == 1 and "state" not in plain[0]
    both = json.loads(run_cli("list", "--json", "--pending").output)
    assert [r["state"] for r in both] == ["pending", "done"]
    assert both[0]["id"] == in_flight and both[0]["status"] is None
    text = run_cli("list", "--pending").output
    assert "live" in text and "1 in flight" in text
    assert "live" not in run_cli("list").output
    # a filter on what only a capture knows matches no request in flight
    assert json.loads(run_cli("list", "--json", "--pending", "--model", "x").output) == []


def test_purge_deletes_pending_rows_older_than_its_cutoff(store):
    """Requests in flight that began before the cutoff go with the captures; purging
    everything (a cutoff of now) leaves no pending row."""
    with store.conn:
        pending.write(store.conn, [
            PendingStart("old", iso_utc(time.time() - 40 * 86400), "POST", "h", "/v1/a"),
            PendingStart("new", iso_utc(time.time() - 60), "POST", "h", "/v1/b")])
    store.write([record(ago=40 * 86400)])
    assert store.purge(time.time() - 86400) == 1
    assert [r.id for r in pending_rows(store)] == ["new"]
    assert store.purge(time.time()) == 0  # nothing stored is older, yet the row goes
    assert pending_rows(store) == []
