"""`purge` leaves nothing of the purged captures behind: no rows (rollups included), no
bytes in the database file's free pages or in the WAL, and the file shrinks."""

from __future__ import annotations

import json
import os
import random
import time

from inspector.store import Filter, Store, count_requests

from .helpers import record

SECRET = "purge-me-7f3a9c1e-canary"


def _words(seed: int, n: int = 20_000) -> str:
    """Text that compresses only about 2x, so what is stored is mostly new bytes."""
    rng = random.Random(seed)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(n))


def _files(path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm"):
        p = f"{path}{suffix}"
        if os.path.exists(p):
            with open(p, "rb") as f:
                data += f.read()
    return data


def _size(path) -> int:
    return sum(os.path.getsize(f"{path}{s}") for s in ("", "-wal", "-shm")
               if os.path.exists(f"{path}{s}"))


def test_purge_removes_rollups_and_every_byte(tmp_path):
    path = tmp_path / "c.db"
    store = Store(path)
    reader = Store(path)  # another connection open all along, as the app's would be
    try:
        old = [record(ago=40 * 86400, user_text=f"{SECRET} {_words(i)}",
                      sources={"memory:/home/dev/CLAUDE.md": 30, "tool:Bash": 5})
               for i in range(19)]
        old.append(record(ago=40 * 86400, user_text=SECRET))  # short: kept as plain text
        keep = record(ago=60, big=2000, sources={"tool:Read": 7})
        store.write(old + [keep])
        assert count_requests(reader, Filter()) == 21
        # bytes as stored (compressed parts included) must go, not only the plain text
        stored = store.execute("SELECT data FROM blobs WHERE size > 15000").fetchone()[0]
        assert isinstance(stored, bytes)
        chunk = stored[len(stored) // 2:len(stored) // 2 + 24]
        before = _size(path)
        assert SECRET.encode() in _files(path) and chunk in _files(path)

        assert store.purge(time.time() - 86400) == 20

        assert count_requests(reader, Filter()) == 1
        for table in ("analysis_request_sources", "analysis_source_days", "analysis_rolled",
                      "request_sources"):
            sources = {r[0] for r in store.execute(f"SELECT * FROM {table}")}
            assert sources <= {keep.capture.id, keep.capture.ts[:10]}, table
        names = [r[0] for r in store.execute("SELECT source FROM analysis_source_days")]
        assert names == ["tool:Read"]
        after = _files(path)
        assert SECRET.encode() not in after
        assert chunk not in after
        assert b"CLAUDE.md" not in after
        assert _size(path) < before / 2
        # auto_vacuum was set when the file was made, so no full VACUUM was needed
        assert store.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    finally:
        reader.close()
        store.close()


def test_purge_shrinks_a_database_made_without_auto_vacuum(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA auto_vacuum = NONE")
    conn.execute("CREATE TABLE placeholder (x)")  # made before auto_vacuum could be set
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        assert store.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
        store.write([record(ago=40 * 86400, user_text=f"{SECRET} {_words(i)}")
                     for i in range(10)] + [record(ago=1)])
        before = _size(path)
        assert store.purge(time.time() - 86400) == 10
        assert _size(path) < before / 2
        assert SECRET.encode() not in _files(path)
        assert store.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # from now on
    finally:
        store.close()


def test_purging_nothing_changes_nothing(tmp_path):
    store = Store(tmp_path / "c.db")
    try:
        store.write([record(ago=5)])
        assert store.purge(0) == 0
        assert count_requests(store, Filter()) == 1
    finally:
        store.close()


def test_purging_early_turns_keeps_the_history_later_turns_share(tmp_path):
    """Later turns name the chain parts of the history that earlier turns stored first:
    purging the early turns must keep those, and only those."""
    from inspector.store import get_exchange

    store = Store(tmp_path / "c.db")
    try:
        recs, bodies = [], []
        for turn in range(8):
            rec = record(ago=(40 - turn) * 86400, big=2000, user_text=f"turn {turn}")
            body = rec.capture.request_json
            for k in range(turn):
                body["messages"] += [{"role": "assistant", "content": f"a{k} " + _words(k, 1500)},
                                     {"role": "user", "content": f"u{k}"}]
            rec.capture.request_text = json.dumps(body)
            recs.append(rec)
            bodies.append(body)
        store.write(recs)
        parts_before = store.execute("SELECT count(*) FROM blobs").fetchone()[0]
        assert store.purge(time.time() - 35.5 * 86400) == 5
        for rec, body in zip(recs[5:], bodies[5:]):
            assert get_exchange(store, rec.capture.id)["request"]["body"] == body
        left = store.execute("SELECT count(*) FROM blobs").fetchone()[0]
        assert 0 < left < parts_before
        assert store.purge(time.time()) == 3
        assert store.execute("SELECT count(*) FROM blobs").fetchone()[0] == 0
        assert store.execute("SELECT count(*) FROM blob_refs").fetchone()[0] == 0
    finally:
        store.close()
