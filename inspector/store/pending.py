"""Requests in flight, as the recorder announces them (table `pending_requests`).

The recorder hands the writer a `PendingStart` when a request begins and the capture when
it ends; the capture's insert deletes the pending row (a trigger, see migrations.py).
`PendingDrop` removes the row of an exchange that will not be stored (recording paused
while it ran, or the database refused it).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class PendingStart:
    """A request head reached the proxy: what the table can show before the capture."""

    id: str
    ts: str
    method: str | None = None
    host: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class PendingDrop:
    """The exchange `id` is not going to be stored: forget its pending row."""

    id: str


def write(conn: sqlite3.Connection, items: list[PendingStart | PendingDrop],
          recorder: int | None = None) -> None:
    """Apply starts and drops in order, in the caller's transaction. A start that comes
    after its capture (they can cross on the way) writes nothing."""
    pid = os.getpid() if recorder is None else recorder
    for item in items:
        if isinstance(item, PendingStart):
            conn.execute(
                "INSERT OR REPLACE INTO pending_requests (id, ts, method, host, path, recorder)"
                " SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS"
                " (SELECT 1 FROM requests WHERE id = ?)",
                (item.id, item.ts, item.method, item.host, item.path, pid, item.id))
        else:
            conn.execute("DELETE FROM pending_requests WHERE id = ?", (item.id,))


def forget_orphans(conn: sqlite3.Connection) -> int:
    """Delete pending rows whose recorder process no longer runs (their exchanges were
    lost with it, or it was stopped); returns how many."""
    pids = [r[0] for r in conn.execute("SELECT DISTINCT recorder FROM pending_requests")]
    removed = 0
    for pid in pids:
        if pid is None or not _alive(pid):
            removed += conn.execute("DELETE FROM pending_requests WHERE recorder IS ?",
                                    (pid,)).rowcount
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
