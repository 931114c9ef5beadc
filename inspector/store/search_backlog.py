"""The search index's backlog (the index itself is `search_index.py`).

Captures stored before the index existed are indexed lazily, not by the migration that
makes it (that held the write lock for a minute on 100k captures). The migration writes
one number, `search_backlog.upto`: the highest requests rowid then. Every capture with a
rowid above it is indexed when written; those at or below it may not be. `index_backlog`
indexes the newest `batch` of them, lowers `upto` below them, and commits (the caller's
short transaction, see `Store.index_backlog`); the row goes when none is left. The
recorder's writer calls it while idle (`Writer(index_when_idle=True)`); search reads
the index for the rest and scans these with the regex (`search.py`). One number rather
than a table of ids: the migration writes nothing per capture, and every way rowids can
move errs safely: a rewritten capture gets a new rowid above `upto` (and is indexed as it
is written), a purge only removes rows, and VACUUM, if it renumbers, only lowers rowids,
so a capture can look not yet indexed (scanned, indexed again: the same documents, by
content) but never the other way round.
"""

from __future__ import annotations

import sqlite3

from inspector.store.search_index import index_requests


def start_backlog(conn: sqlite3.Connection) -> None:
    """Mark every stored request as left to index (the migration that makes the index)."""
    conn.execute("INSERT INTO search_backlog (upto) SELECT max(rowid) FROM requests"
                 " HAVING max(rowid) IS NOT NULL")


def backlog_upto(conn: sqlite3.Connection) -> int | None:
    """The rowid at or below which requests may not be indexed yet; None when every
    stored request is (or there is no index)."""
    try:
        row = conn.execute("SELECT upto FROM search_backlog").fetchone()
    except sqlite3.OperationalError:  # no index yet (a reader before migration 7)
        return None
    return row[0] if row is not None else None


def index_backlog(conn: sqlite3.Connection, batch: int = 500) -> int:
    """Index the newest `batch` requests of the backlog and move its mark below them, in
    the caller's transaction; returns how many were indexed (0: the backlog is done)."""
    upto = backlog_upto(conn)
    if upto is None:
        return 0
    found = conn.execute("SELECT rowid, id FROM requests WHERE rowid <= ?"
                         " ORDER BY rowid DESC LIMIT ?", (upto, batch)).fetchall()
    if found:
        index_requests(conn, [id_ for _, id_ in found])
    if len(found) < batch:
        conn.execute("DELETE FROM search_backlog")
    else:
        conn.execute("UPDATE search_backlog SET upto = ?", (found[-1][0] - 1,))
    return len(found)


def backlog_count(conn: sqlite3.Connection) -> int:
    """How many stored requests are left to index."""
    upto = backlog_upto(conn)
    if upto is None:
        return 0
    return conn.execute("SELECT count(*) FROM requests WHERE rowid <= ?", (upto,)).fetchone()[0]
