"""The capture database: open/migrate, write records atomically, read them back, purge.

One `Store` wraps one SQLite connection (sqlite-utils `Database`) in WAL mode, so a
proxy's writer thread and any number of readers (the app, headless commands, another
process) work on the same file at once. A Store may be used from one thread at a time.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

from inspector.config import create_private_file
from inspector.model import Node
from inspector.store import bodies, rollups, rows, search_backlog, search_index
from inspector.store.compact import Spooled, encode_tree, pack, pack_spooled, unpack
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


#: packed blobs at least this big are written a slice at a time (`_insert_big_blobs`)
_STREAM_BLOBS_ABOVE = 1 << 20


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
        if self.version == 0 and not self._conn.execute(
                "SELECT count(*) FROM sqlite_master").fetchone()[0]:
            # only possible before the first table exists: lets purge give pages back
            self._conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
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
        """Store records (replacing any with the same id) in one transaction, with the
        per-source sums of their trees (`request_sources` and the stats rollups)."""
        if not records:
            return
        req_rows, resp_rows, blob_rows, links, refs = [], [], {}, [], []
        source_rows: list[tuple] = []
        rolled: list[rollups.Written] = []
        for rec in records:
            c = rec.capture
            body = None
            if c.request_json is not None:
                split = (bodies.split_text(c.request_text) if c.request_text else None) \
                    or bodies.split_json(c.request_json)
                body = split.text
                parts = split.parts
                for digest in list(parts):
                    text = parts.pop(digest)  # each part goes once packed: some are big
                    if digest not in blob_rows:
                        blob_rows[digest] = (digest, pack(text), len(text))
                    del text
                for digest, (start, end) in split.spans.items():
                    if digest not in blob_rows:  # packed from the body, into a file
                        blob_rows[digest] = (digest, pack_spooled(split.source, start, end),
                                             end - start)
                links.extend((c.id, digest) for digest in split.direct)
                refs.extend(split.refs)
                del split
            tree, summary = encode_tree(rec.attribution)
            if summary is not None:
                source_rows.extend((c.id, k, v) for k, v in summary.totals.items())
                # the rollups split prompts whose total is known (see rollups.py)
                if c.usage.input_tokens is not None:
                    rolled.append((c.id, c.ts, summary.groups))
            req_rows.append(rows.request_row(rec, body, tree, summary and summary.top))
            resp_rows.append(rows.response_row(c))
        ids = [(r.capture.id,) for r in records]
        with self._lock, self.db.atomic():
            ex = self.conn.executemany
            self._forget_rollups([r.capture.id for r in records])
            ex("DELETE FROM request_blobs WHERE request_id = ?", ids)
            ex("DELETE FROM request_sources WHERE request_id = ?", ids)
            ex(f"INSERT OR REPLACE INTO requests ({rows.REQUEST_COLUMNS}) VALUES "
               f"({', '.join('?' * len(req_rows[0]))})", req_rows)
            ex(f"INSERT OR REPLACE INTO responses ({rows.RESPONSE_COLUMNS}) VALUES "
               f"({', '.join('?' * len(resp_rows[0]))})", resp_rows)
            if blob_rows:
                big = [row for row in blob_rows.values() if isinstance(row[1], Spooled)
                       or isinstance(row[1], (bytes, bytearray))
                       and len(row[1]) >= _STREAM_BLOBS_ABOVE]
                ex("INSERT OR IGNORE INTO blobs (hash, data, size) VALUES (?, ?, ?)",
                   [row for row in blob_rows.values() if row not in big])
                self._insert_big_blobs(big)
                ex("INSERT OR IGNORE INTO request_blobs (request_id, hash) VALUES (?, ?)", links)
                ex("INSERT OR IGNORE INTO blob_refs (parent, child) VALUES (?, ?)", refs)
            if source_rows:
                ex("INSERT INTO request_sources (request_id, source, tokens) VALUES (?, ?, ?)",
                   source_rows)
            rollups.add_written(self.conn, rolled)
            search_index.index_requests(self.conn, [r.capture.id for r in records])

    def _insert_big_blobs(self, rows_: list[tuple[str, bytes | bytearray | Spooled, int]]
                          ) -> None:
        """Blobs of megabytes (a base64 document, packed) written through an incremental
        blob handle: bound as a parameter, SQLite would copy the value twice in memory.
        A `Spooled` one is copied from its file a slice at a time."""
        for digest, data, size in rows_:
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO blobs (hash, data, size) VALUES (?, zeroblob(?), ?)",
                (digest, len(data), size))
            if cur.rowcount != 1:
                continue  # stored already
            if isinstance(data, Spooled):
                chunks: Iterable[Any] = data.chunks()
            else:
                view = memoryview(data)
                chunks = (view[i:i + (1 << 20)] for i in range(0, len(view), 1 << 20))
            with self.conn.blobopen("blobs", "data", cur.lastrowid) as blob:
                for chunk in chunks:
                    blob.write(chunk)

    def set_attribution(self, request_id: str, node: Node | None,
                        cost_usd: float | None) -> None:
        """Replace a capture's attribution tree and cost (used by `reattribute`)."""
        tree, summary = encode_tree(node)
        with self._lock, self.db.atomic():
            self._forget_rollups([request_id])
            self.conn.execute("DELETE FROM request_sources WHERE request_id = ?", (request_id,))
            self.conn.execute(
                "UPDATE requests SET cost_usd = ?, top_source = ?, attribution = ? WHERE id = ?",
                (cost_usd, summary and summary.top, tree, request_id))
            if summary is None:
                return
            self.conn.executemany(
                "INSERT INTO request_sources (request_id, source, tokens) VALUES (?, ?, ?)",
                [(request_id, k, v) for k, v in summary.totals.items()])
            known = self.conn.execute(
                "SELECT r.ts FROM requests r JOIN responses s ON s.request_id = r.id"
                " WHERE r.id = ? AND s.input_tokens IS NOT NULL", (request_id,)).fetchone()
            if known is not None:
                rollups.add_written(self.conn, [(request_id, known[0], summary.groups)])

    def _forget_rollups(self, ids: list[str]) -> None:
        """Take these requests out of the stats rollups (before they are rewritten)."""
        batch = "SELECT value AS request_id FROM json_each(?)"
        param = (json.dumps(ids),)
        for statement in rollups.forget_statements(batch):
            self.conn.execute(statement, param)

    def add_feedback(self, request_id: str, rating: int | None, note: str | None = None,
                     ts: float | None = None) -> int:
        """Record a user's rating/note on a capture; returns the feedback row id."""
        with self._lock, self.db.atomic():
            cur = self.conn.execute(
                "INSERT INTO feedback (request_id, rating, note, ts) VALUES (?, ?, ?, ?)",
                (request_id, rating, note, iso_utc(time.time() if ts is None else ts)))
            return int(cur.lastrowid or 0)

    def purge(self, older_than_epoch: float) -> int:
        """Delete captures that began before the given time; returns how many.

        Nothing of them stays behind: their rollup rows and the shared body parts no
        other capture uses go too; deleted content is overwritten (`secure_delete`), the
        freed pages are given back to the file system and the WAL is checkpointed and
        truncated, so their bytes are in neither file afterwards."""
        cutoff = iso_utc(older_than_epoch)
        conn = self.conn
        conn.execute("PRAGMA secure_delete = ON")
        try:
            with self._lock, self.db.atomic():
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS purge_ids (id TEXT PRIMARY KEY)")
                conn.execute("DELETE FROM purge_ids")
                conn.execute("INSERT INTO purge_ids SELECT id FROM requests WHERE ts < ?",
                             (cutoff,))
                n = conn.execute("SELECT count(*) FROM purge_ids").fetchone()[0]
                # requests in flight that began before the cutoff: as old as the rest
                conn.execute("DELETE FROM pending_requests WHERE ts < ?", (cutoff,))
                if n:
                    search_index.forget_purged(conn)  # needs the rows: before they go
                    # set-based here, so the per-row trigger on requests finds nothing
                    for statement in rollups.forget_statements(
                            "SELECT id AS request_id FROM temp.purge_ids"):
                        conn.execute(statement)
                    for table, col in (("feedback", "request_id"),
                                       ("request_sources", "request_id"),
                                       ("request_blobs", "request_id"),
                                       ("responses", "request_id"), ("requests", "id")):
                        conn.execute(
                            f"DELETE FROM {table} WHERE {col} IN (SELECT id FROM purge_ids)")
                    # shared parts no stored request reaches any more, through the
                    # history chains too (see bodies.py)
                    conn.execute(
                        """WITH RECURSIVE reach (hash) AS (
                               SELECT hash FROM request_blobs
                               UNION SELECT r.child FROM blob_refs r
                                     JOIN reach ON r.parent = reach.hash)
                           DELETE FROM blobs WHERE hash NOT IN (SELECT hash FROM reach)""")
                    conn.execute("DELETE FROM blob_refs"
                                 " WHERE parent NOT IN (SELECT hash FROM blobs)")
                rollups.drop_empty_days(conn)
                conn.execute("DELETE FROM purge_ids")
            if n:
                self._reclaim()
        finally:
            conn.execute("PRAGMA secure_delete = OFF")
        self._blob_cache, self._blob_chars = {}, 0
        return n

    def index_backlog(self, batch: int = 500) -> int:
        """Index up to `batch` of the captures stored before the search index existed, in
        one short transaction of its own (see `search_backlog.py`); returns how many (0: none
        left). Another writer waits at most one batch. `BEGIN IMMEDIATE` takes the write
        lock before the backlog's mark is read, so two writers never index the same batch."""
        conn = self.conn
        with self._lock:
            if search_backlog.backlog_upto(conn) is None:
                return 0
            conn.execute("BEGIN IMMEDIATE")
            try:
                done = search_backlog.index_backlog(conn, batch)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return done

    def _reclaim(self) -> None:
        """Shrink the file to what is in use and empty the WAL. A database made with
        incremental auto-vacuum frees its pages cheaply; an older one is rewritten once by
        VACUUM, which also turns incremental auto-vacuum on for next time. Another
        connection reading at the time can keep the WAL from being truncated: logged, and
        done at the next purge or clean exit."""
        conn = self.conn
        try:
            if conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:
                # executescript steps it to the end (execute would free a single page)
                conn.executescript("PRAGMA incremental_vacuum;")
            else:
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("VACUUM")
        except sqlite3.OperationalError as e:
            log.warning("could not shrink %s after purging: %s", self.path, e)
        self.checkpoint()

    def checkpoint(self) -> bool:
        """Fold the WAL into the database and truncate it to nothing (on a clean exit,
        after a purge). False when a reader kept part of it (it is then left as is)."""
        try:
            busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.OperationalError as e:
            log.warning("could not checkpoint %s: %s", self.path, e)
            return False
        return not busy

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

    def blob_texts(self, hashes: Iterable[str], *, reachable: bool = False) -> dict[str, str]:
        """Texts of shared body parts, cached: the same few are used by every request.

        With `reachable`, the parts those name (a history chain, see `bodies.py`) are read
        too, all in one query: a session's whole history at once, for a cold read.
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
        if reachable:
            rows = self.conn.execute(
                """WITH RECURSIVE reach (hash) AS (
                       SELECT value FROM json_each(?)
                       UNION ALL  -- a chain has no cycles, and each part names one before it
                       SELECT r.child FROM blob_refs r JOIN reach ON r.parent = reach.hash)
                   SELECT b.hash, b.data FROM reach JOIN blobs b ON b.hash = reach.hash""",
                (json.dumps(want),))
            chunks = [rows]
        else:
            chunks = (self.conn.execute(
                f"SELECT hash, data FROM blobs WHERE hash IN ({', '.join('?' * len(chunk))})",
                chunk) for chunk in (want[i:i + 500] for i in range(0, len(want), 500)))
        chars = 0
        for rows in chunks:
            for digest, data in rows:
                if digest not in cache:
                    text = cache[digest] = data if type(data) is str else unpack(data)
                    chars += len(text)
        self._blob_chars += chars
        return cache

    def body_pieces(self, stored: str) -> list[str]:
        """A stored body as pieces: even items text, odd items hashes of leaf parts
        (see `bodies.expand`), their texts then in `blob_texts`."""
        return bodies.expand(stored, self.blob_texts,
                             lambda hashes: self.blob_texts(hashes, reachable=True),
                             self._blob_cache)

    def body_text(self, stored: str | None) -> str | None:
        """Full request JSON text from the stored form."""
        if stored is None or "\x01" not in stored:
            return stored
        pieces = self.body_pieces(stored)
        return bodies.join(pieces, self.blob_texts(pieces[1::2]))

    def get(self, id_or_prefix: str) -> dict[str, Any] | None:
        """The full exchange (see `exchanges.get_exchange`), or None if no id matches."""
        from inspector.store.exchanges import exchange_dicts

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
