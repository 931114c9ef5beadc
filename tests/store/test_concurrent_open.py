"""Several connections (threads of one process, or processes) opening a fresh database at
the same moment: exactly one migrates, none fails, and the schema is whole."""

from __future__ import annotations

import multiprocessing
import threading

from inspector.store import Store
from inspector.store.version import SCHEMA_VERSION


def _open(path: str, barrier, errors) -> None:
    try:
        barrier.wait(timeout=30)
        store = Store(path, busy_timeout=20)
        version = store.version
        store.close()
        if version != SCHEMA_VERSION:
            errors.append(f"version {version}")
    except Exception as e:  # reported to the test, which fails on any
        errors.append(f"{type(e).__name__}: {e}")


def _check(path) -> None:
    store = Store(path)
    try:
        tables = {r[0] for r in store.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"requests", "responses", "blobs", "feedback", "analysis_source_days"} <= tables
        applied = store.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
        assert applied == SCHEMA_VERSION  # each migration recorded once, not once per opener
        assert store.schema_version == SCHEMA_VERSION
    finally:
        store.close()


def test_threads_open_a_fresh_database_at_once(tmp_path):
    for round_ in range(3):
        path = tmp_path / f"fresh{round_}.db"
        n = 8
        barrier = threading.Barrier(n)
        errors: list[str] = []
        threads = [threading.Thread(target=_open, args=(str(path), barrier, errors))
                   for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        _check(path)


def test_processes_open_a_fresh_database_at_once(tmp_path):
    ctx = multiprocessing.get_context("fork")
    n = 4
    path = tmp_path / "fresh.db"
    with ctx.Manager() as manager:
        barrier = manager.Barrier(n)
        errors = manager.list()
        procs = [ctx.Process(target=_open, args=(str(path), barrier, errors))
                 for _ in range(n)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0] * n
        assert list(errors) == []
    _check(path)


def test_version_1_database_upgrades_to_covering_indexes(tmp_path):
    from sqlite_utils import Database

    from inspector.store import Filter, sessions
    from inspector.store.migrations import migrations

    from .helpers import record

    path = tmp_path / "v1.db"
    db = Database(path)
    migrations.apply(db, stop_before="0002_covering_indexes")
    db.execute("PRAGMA user_version = 1")
    db.conn.commit()
    db.close()
    store = Store(path)
    try:
        assert store.version == SCHEMA_VERSION
        columns = [r[2] for r in store.execute("PRAGMA index_info(requests_session_ts)")]
        assert columns == ["session_id", "ts", "id", "cost_usd"]
        store.write([record(ago=5, session="s-x"), record(ago=1, session="s-x")])
        assert [(s["session_id"], s["requests"]) for s in sessions(store, Filter())] == [
            ("s-x", 2)]
    finally:
        store.close()
