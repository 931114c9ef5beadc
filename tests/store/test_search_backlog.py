"""Captures stored before the search index existed (a database of schema 6): searchable
at once by scanning, indexed afterwards a short transaction at a time, by a call or by
the writer while idle, with purges and other writers in between. Real database files."""

from __future__ import annotations

import time

import pytest

from inspector.store import Filter, Store, Writer, list_requests, search_backlog
from inspector.store.search import TextSearch, index_progress

from .helpers import as_schema_6, record


def _ids(store, text: str) -> list[str]:
    return [r["id"] for r in list_requests(store, Filter(text=text, limit=0))]


def _keys(store) -> set[str]:
    return {r[0] for r in store.execute("SELECT key FROM search_docs")}


@pytest.fixture
def old(home):
    """A schema 6 database of 7 captures, each with its own word, newest first."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "captures.db"
    s = Store(path)
    recs = [record(ago=100 - i, user_text=f"turn {i} word{i}x here") for i in range(7)]
    s.write(recs)
    s.close()
    as_schema_6(path)
    return path, [r.capture.id for r in recs][::-1]


def test_opening_makes_the_schema_only_and_search_scans_the_backlog(old):
    path, ids = old
    store = Store(path)
    try:
        assert store.execute("SELECT count(*) FROM search_docs").fetchone()[0] == 0
        assert index_progress(store) == (0, 7)
        assert _ids(store, "word3x") == [ids[3]]
        assert _ids(store, r"word\dx") == ids
        assert TextSearch(store, "word5x").indexed_ids() == {ids[1]}
        # a backlog bigger than the candidates allowed: the caller scans the list instead
        assert TextSearch(store, "word5x").indexed_ids(max_docs=6) is None
        narrowed = Filter(since=time.time() - 96.5).where()  # the three newest only
        assert TextSearch(store, r"word\dx").indexed_ids(None, narrowed) == set(ids[:3])
    finally:
        store.close()


def test_the_backlog_is_indexed_in_batches_newest_first(old, tmp_path):
    path, ids = old
    store = Store(path)
    try:
        assert store.index_backlog(3) == 3
        assert index_progress(store) == (3, 7)
        assert _ids(store, "word6x") == [ids[0]] and _ids(store, "word0x") == [ids[6]]
        assert store.index_backlog(3) == 3
        assert store.index_backlog(3) == 1  # fewer than asked: the backlog is done
        assert search_backlog.backlog_upto(store.conn) is None
        assert store.index_backlog(3) == 0
        assert index_progress(store) == (7, 7)
        search = TextSearch(store, "word2x")
        assert search.backlog is None and search.indexed_ids() == {ids[4]}
        # the same index as captures written after the index existed get
        fresh = Store(tmp_path / "fresh.db")
        try:
            fresh.write([record(user_text=f"turn {i} word{i}x here") for i in range(7)])
            assert len(_keys(store)) == len(_keys(fresh))
        finally:
            fresh.close()
    finally:
        store.close()


def test_each_batch_commits_so_another_writer_waits_at_most_one(old):
    path, ids = old
    store = Store(path)
    other = Store(path, busy_timeout=0.05)  # would fail at once if the lock were held
    try:
        assert store.index_backlog(2) == 2
        assert not store.conn.in_transaction
        assert index_progress(other) == (2, 7)  # committed: seen by another connection
        new = record(user_text="written meanwhile wombat")
        other.write([new])  # indexed as written, above the backlog's mark
        assert search_backlog.backlog_upto(other.conn) < other.execute(
            "SELECT rowid FROM requests WHERE id = ?", (new.capture.id,)).fetchone()[0]
        assert index_progress(store) == (3, 8)
        assert TextSearch(store, "wombat").indexed_ids() is not None
        while store.index_backlog(2):
            pass
        assert _ids(other, "wombat") == [new.capture.id]
        assert index_progress(other) == (8, 8)
    finally:
        other.close()
        store.close()


def test_purge_during_the_backlog(old):
    path, ids = old
    store = Store(path)
    try:
        store.index_backlog(3)  # the three newest are indexed, four are not
        # the five oldest go: one of them indexed, four in the backlog
        assert store.purge(time.time() - 95.5) == 5
        assert index_progress(store) == (2, 2)
        assert _ids(store, r"word\dx") == ids[:2]
        assert _ids(store, "word2x") == [] and _ids(store, "word4x") == []
        assert not TextSearch(store, "word4x").indexed_ids()
        while store.index_backlog(2):
            pass
        assert _ids(store, r"word\dx") == ids[:2]
        assert index_progress(store) == (2, 2)
    finally:
        store.close()


def test_purge_of_indexed_captures_leaves_the_backlog_searchable(old):
    path, ids = old
    store = Store(path)
    try:
        new = [record(ago=200, user_text="ancient pangolin"), record(user_text="newest tapir")]
        store.write(new)  # indexed as written; the seven old ones are not yet
        assert store.purge(time.time() - 150) == 1  # the ancient one, indexed
        assert _ids(store, "pangolin") == [] and _ids(store, "tapir") == [new[1].capture.id]
        assert _ids(store, "word4x") == [ids[2]]
        assert index_progress(store) == (1, 8)
        while store.index_backlog(3):
            pass
        assert _ids(store, "word4x") == [ids[2]] and index_progress(store) == (8, 8)
    finally:
        store.close()


def test_the_writer_indexes_the_backlog_while_idle(old):
    path, ids = old
    writer = Writer(path, index_when_idle=True)
    writer.start()
    try:
        writer.submit(record(user_text="a capture first: ibis"))
        deadline = time.monotonic() + 10
        probe = Store(path, readonly=True)
        try:
            while index_progress(probe) != (8, 8):
                assert time.monotonic() < deadline, index_progress(probe)
                time.sleep(0.05)
            assert _ids(probe, "word0x") == [ids[6]] and len(_ids(probe, "ibis")) == 1
        finally:
            probe.close()
    finally:
        assert writer.close(timeout=10)


def test_the_index_command_works_the_backlog_off_and_says_so(old):
    """`claude-inspect index` finishes what the recorder does while idle, with a summary."""
    import json
    import subprocess
    import sys

    path, ids = old

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "inspector", "index", "--db", str(path),
                               *args], capture_output=True, text=True, timeout=120)

    done = run("--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["indexed_now"] == 7 and summary["captures"] == 7
    with Store(path) as store:
        assert index_progress(store) == (7, 7)
        assert TextSearch(store, "word3x").backlog is None
        assert _ids(store, "word3x") == [ids[3]]
    again = run()
    assert again.returncode == 0 and "nothing to index" in again.stdout
