"""Counts reused by content hash: tools, system blocks and earlier turns repeat on every
turn of a session, so each is counted once.

The key is the SHA-256 of the exact body a count would send (model included), so two
requests share a count only when the API would be asked the very same question. Counts
live in memory and, given a database, in its `count_cache` table (a store migration), shared by the proxy's
counting and `claude-inspect count`. Counts hold no content and no credential.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

def body_hash(body: dict[str, Any]) -> str:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class CountCache:
    """hash -> tokens. Thread-safe; the database is optional."""

    def __init__(self, db_path: Path | str | None = None) -> None:
        self._mem: dict[str, int] = {}
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        if db_path is not None:
            from inspector.store import Store

            Store(db_path).close()  # the store's migrations make the table
            self._conn = sqlite3.connect(str(db_path), timeout=10, check_same_thread=False)

    def get(self, body: dict[str, Any]) -> int | None:
        key = body_hash(body)
        with self._lock:
            if key in self._mem:
                return self._mem[key]
            if self._conn is not None:
                row = self._conn.execute("SELECT tokens FROM count_cache WHERE hash = ?",
                                         (key,)).fetchone()
                if row is not None:
                    self._mem[key] = row[0]
                    return row[0]
        return None

    def put(self, body: dict[str, Any], tokens: int) -> None:
        key = body_hash(body)
        with self._lock:
            self._mem[key] = tokens
            if self._conn is not None:
                try:
                    self._conn.execute("INSERT OR REPLACE INTO count_cache VALUES (?, ?, ?)",
                                       (key, tokens, time.time()))
                    self._conn.commit()
                except sqlite3.Error:
                    pass  # the memory copy still serves this process

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
