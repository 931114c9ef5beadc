"""The capture database: open/migrate, write records atomically, read them back, purge.

One `Store` wraps one SQLite connection (sqlite-utils `Database`) in WAL mode, so a
proxy's writer thread and any number of readers (the app, headless commands, another
process) work on the same file at once. A Store may be used from one thread at a time.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

from inspector.config import create_private_file
from inspector.model import Node
from inspector.store import rows
from inspector.store.version import SCHEMA_VERSION
from inspector.store.records import Record
from inspector.timeparse import iso_utc

log = logging.getLogger(__name__)


class AmbiguousId(LookupError):
    """An id prefix matches more than one capture."""

    def __init__(self, prefix: str, matches: list[str]) -> None:
        super().__init__(
            f"id {prefix!r} is ambiguous: matches {', '.join(matches[:3])}"
            + (" ..." if len(matches) > 3 else "") + "; give more characters"
        )
        self.prefix = prefix
        self.matches = matches


class Store:
    """One connection to the capture database (created and migrated on open).

    Reads go straight to the sqlite3 connection; the sqlite-utils `Database` (used for
    migrations and transactions) is made on first write, so a read-only command such as
    `list` never pays for importing it.
    """

    def __init__(self, path: Path | str, *, busy_timeout: float = 5.0,
                 readonly: bool = False, immutable: bool = False) -> None:
        """`readonly` never writes; `immutable` (implies readonly) also reads a WAL
        database in a folder where SQLite cannot create its -shm file, as it stands."""
        self.path = Path(path)
        readonly = readonly or immutable
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            create_private_file(self.path)  # captures are private: 0600, not the umask's
        uri = f"file:{quote(str(self.path))}?" + ("immutable=1" if immutable else "mode=ro")
        self._conn = sqlite3.connect(
            uri if readonly else str(self.path),
            uri=readonly, timeout=busy_timeout, check_same_thread=False,
        )
        self._db: Any = None
        self._blob_cache: dict[str, str] = {}
        self._blob_chars = 0
        self._lock = threading.RLock()
        self.version = self.schema_version
        if readonly:
            return
        self._ensure_wal(busy_timeout)
        self._conn.execute("PRAGMA synchronous = NORMAL")
        if self.version < SCHEMA_VERSION:
            self.version = self._migrate()
        elif self.version > SCHEMA_VERSION:
            log.warning("%s has schema version %d, newer than this claude-inspect knows (%d)",
                        self.path, self.version, SCHEMA_VERSION)

    def _ensure_wal(self, busy_timeout: float) -> None:
        """Switch the file to WAL mode (once per file; it stays so). Connections opening
        a new file at once can be refused the switch without SQLite waiting for the
        others, so it is retried until one of them (maybe another) has done it."""
        deadline = time.monotonic() + max(busy_timeout, 1.0)
        delay = 0.005
        while True:
            try:
                if self._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                    return
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _migrate(self) -> int:
        """Bring the schema up to date, safely when several connections (the app's reader
        and its writer, or two processes) open a new database at the same moment.

        `BEGIN IMMEDIATE` takes the database's write lock before the version is read
        again, so exactly one connection migrates; the others wait (up to the busy
        timeout) and then find the work done. The migrations run inside that one
        transaction (sqlite-utils nests theirs as savepoints), so a failed migration
        leaves nothing half made.
        """
        from inspector.store.migrations import migrate

        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = self.schema_version
            if version < SCHEMA_VERSION:
                version = migrate(self.db)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return version

    @property
    def db(self) -> Any:
        """The sqlite-utils Database over the same connection (made on first use)."""
        if self._db is None:
            from sqlite_utils import Database

            self._db = Database(self._conn, execute_plugins=False)
        return self._db

    @property
    def conn(self) -> sqlite3.Connection:
        return self._conn

    @property
    def schema_version(self) -> int:
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        try:
            self._conn.close()
        except sqlite3.Error:
            pass

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------

    def write(self, records: list[Record]) -> None:
        """Store records (replacing any with the same id) in one transaction."""
        if not records:
            return
        req_rows, resp_rows, attr_rows, blob_rows, links = [], [], [], {}, []
        source_rows: list[tuple] = []
        rolled: list[tuple[str, str, dict[str, list]]] = []
        for rec in records:
            c = rec.capture
            body = None
            if c.request_json is not None:
                split = rows.split_text(c.request_text) if c.request_text else None
                body, parts = split if split is not None else rows.split_body(c.request_json)
                for digest, text in parts.items():
                    blob_rows[digest] = (digest, text, len(text))
                    links.append((c.id, digest))
            # the stats rollups sum trees with known usage (see analysis/rollup.py)
            sums: dict[str, list] | None = (
                {} if rec.attribution is not None and c.usage.input_tokens is not None
                else None)
            nodes, tree, top, totals = rows.flatten_tree(c.id, rec.attribution, sums)
            if sums is not None:
                rolled.append((c.id, c.ts, sums))
            req_rows.append(rows.request_row(rec, body, tree, top))
            resp_rows.append(rows.response_row(c))
            attr_rows.extend(nodes)
            source_rows.extend((c.id, k, v) for k, v in totals.items())
        ids = [(r.capture.id,) for r in records]
        with self._lock, self.db.atomic():
            ex = self.conn.executemany
            ex("DELETE FROM attributions WHERE request_id = ?", ids)
            ex("DELETE FROM request_blobs WHERE request_id = ?", ids)
            ex("DELETE FROM request_sources WHERE request_id = ?", ids)
            ex(f"INSERT OR REPLACE INTO requests ({rows.REQUEST_COLUMNS}) VALUES "
               f"({', '.join('?' * len(req_rows[0]))})", req_rows)
            ex(f"INSERT OR REPLACE INTO responses ({rows.RESPONSE_COLUMNS}) VALUES "
               f"({', '.join('?' * len(resp_rows[0]))})", resp_rows)
            if blob_rows:
                ex("INSERT OR IGNORE INTO blobs (hash, data, size) VALUES (?, ?, ?)",
                   list(blob_rows.values()))
                ex("INSERT OR IGNORE INTO request_blobs (request_id, hash) VALUES (?, ?)", links)
            if attr_rows:
                ex(f"INSERT INTO attributions ({rows.ATTRIBUTION_COLUMNS}) VALUES "
                   f"({', '.join('?' * 12)})", attr_rows)
            if source_rows:
                ex("INSERT INTO request_sources (request_id, source, tokens) VALUES (?, ?, ?)",
                   source_rows)
            self._roll_up(rolled)

    def set_attribution(self, request_id: str, node: Node | None,
                        cost_usd: float | None) -> None:
        """Replace a capture's attribution tree and cost (used by `reattribute`)."""
        with self._lock, self.db.atomic():
            self.conn.execute("DELETE FROM attributions WHERE request_id = ?", (request_id,))
            self.conn.execute("DELETE FROM request_sources WHERE request_id = ?", (request_id,))
            sums: dict[str, list] = {}
            attr_rows, tree, top, totals = rows.flatten_tree(request_id, node, sums)
            self.conn.executemany(
                "INSERT INTO request_sources (request_id, source, tokens) VALUES (?, ?, ?)",
                [(request_id, k, v) for k, v in totals.items()])
            if attr_rows:
                self.conn.executemany(
                    f"INSERT INTO attributions ({rows.ATTRIBUTION_COLUMNS}) VALUES "
                    f"({', '.join('?' * 12)})", attr_rows)
            self.conn.execute(
                "UPDATE requests SET cost_usd = ?, top_source = ?, attribution = ? WHERE id = ?",
                (cost_usd, top, tree, request_id))
            known = self.conn.execute(
                "SELECT r.ts FROM requests r JOIN responses s ON s.request_id = r.id"
                " WHERE r.id = ? AND s.input_tokens IS NOT NULL", (request_id,)).fetchone()
            if node is not None and known is not None:
                self._roll_up([(request_id, known[0], sums)])

    def _roll_up(self, written: list[tuple[str, str, dict[str, list]]]) -> None:
        """Keep the stats rollups current, in the caller's transaction, when they are
        installed in this database (checked per batch: another process may install them).
        """
        if not written:
            return
        from inspector.analysis.rollup import add_written

        add_written(self.conn, written)

    def add_feedback(self, request_id: str, rating: int | None, note: str | None = None,
                     ts: float | None = None) -> int:
        """Record a user's rating/note on a capture; returns the feedback row id."""
        with self._lock, self.db.atomic():
            cur = self.conn.execute(
                "INSERT INTO feedback (request_id, rating, note, ts) VALUES (?, ?, ?, ?)",
                (request_id, rating, note, iso_utc(time.time() if ts is None else ts)))
            return int(cur.lastrowid or 0)

    def purge(self, older_than_epoch: float) -> int:
        """Delete captures that began before the given time; returns how many."""
        cutoff = iso_utc(older_than_epoch)
        with self._lock, self.db.atomic():
            cur = self.conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS purge_ids (id TEXT PRIMARY KEY)")
            self.conn.execute("DELETE FROM purge_ids")
            self.conn.execute("INSERT INTO purge_ids SELECT id FROM requests WHERE ts < ?",
                              (cutoff,))
            n = self.conn.execute("SELECT count(*) FROM purge_ids").fetchone()[0]
            if n:
                for table, col in (("attributions", "request_id"), ("feedback", "request_id"),
                                   ("request_sources", "request_id"),
                                   ("request_blobs", "request_id"),
                                   ("responses", "request_id"), ("requests", "id")):
                    self.conn.execute(
                        f"DELETE FROM {table} WHERE {col} IN (SELECT id FROM purge_ids)")
                self.conn.execute(
                    "DELETE FROM blobs WHERE hash NOT IN (SELECT hash FROM request_blobs)")
            cur = self.conn.execute("DELETE FROM purge_ids")
            del cur
        self._blob_cache, self._blob_chars = {}, 0
        return n

    # -- reading ------------------------------------------------------------------------

    def resolve_id(self, id_or_prefix: str) -> str | None:
        """The full id for a unique prefix; None if none matches; AmbiguousId if several."""
        prefix = id_or_prefix.strip().lower()
        if not prefix:
            return None
        found = [r[0] for r in self.conn.execute(
            "SELECT id FROM requests WHERE id >= ? AND id < ? ORDER BY id LIMIT 4",
            (prefix, prefix + "\U0010ffff"))]
        if prefix in found:
            return prefix
        if len(found) > 1:
            raise AmbiguousId(prefix, found)
        return found[0] if found else None

    #: bound on the characters of shared parts kept in memory between reads
    BLOB_CACHE_CHARS = 64 << 20

    def blob_texts(self, hashes: Iterable[str]) -> dict[str, str]:
        """Texts of shared body parts, cached: the same few are used by every request.

        The returned dict holds at least every hash asked for. When the cache grows past
        its bound it is replaced (not cleared), so dicts handed out earlier stay whole.
        """
        hashes = set(hashes)
        want = [h for h in hashes if h not in self._blob_cache]
        if not want:
            return self._blob_cache
        if self._blob_chars > self.BLOB_CACHE_CHARS:
            self._blob_cache = {h: self._blob_cache[h] for h in hashes if h in self._blob_cache}
            self._blob_chars = sum(map(len, self._blob_cache.values()))
        cache = self._blob_cache
        for i in range(0, len(want), 500):
            chunk = want[i:i + 500]
            q = f"SELECT hash, data FROM blobs WHERE hash IN ({', '.join('?' * len(chunk))})"
            for digest, data in self.conn.execute(q, chunk):
                cache[digest] = data
                self._blob_chars += len(data)
        return cache

    def body_text(self, stored: str | None) -> str | None:
        """Full request JSON text from the stored form."""
        if stored is None:
            return None
        hashes = rows.blob_hashes(stored)
        if not hashes:
            return stored
        return rows.join_body(stored, self.blob_texts(hashes))

    def get(self, id_or_prefix: str) -> dict[str, Any] | None:
        """The full exchange (see `queries.get_exchange`), or None if no id matches."""
        from inspector.store.queries import exchange_dicts

        full = self.resolve_id(id_or_prefix)
        if full is None:
            return None
        found = exchange_dicts(self, [full], parse_bodies=True)
        return found[0] if found else None

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """Run a read query; rows as dicts."""
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur]


def retention_purge(store: Store, retention_days: int, now: float | None = None) -> int:
    """Purge captures older than `retention_days` (0 or less keeps everything)."""
    if retention_days <= 0:
        return 0
    now = time.time() if now is None else now
    return store.purge(now - retention_days * 86400)
