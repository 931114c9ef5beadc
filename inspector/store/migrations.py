"""The database schema, as numbered migrations applied in order.

Each migration runs once, inside a transaction, and is recorded by sqlite-utils'
`Migrations` in `_sqlite_migrations`; `PRAGMA user_version` holds the number of the last
one applied, so any tool can read the schema version. Never edit a released migration:
add the next number.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from inspector.store import rollups, search_backlog, search_index
from inspector.store.version import SCHEMA_VERSION

migrations = Migrations("claude-inspect")

#: Numbered migrations in order; SCHEMA_VERSION is the number of the last.
_NUMBERED: list[str] = []


def _numbered(fn):
    _NUMBERED.append(fn.__name__)
    return migrations(name=f"{len(_NUMBERED):04d}_{fn.__name__}")(fn)


@_numbered
def initial_schema(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE requests (
            id TEXT PRIMARY KEY,
            ts TEXT NOT NULL,
            connection_id TEXT,
            mode TEXT,
            method TEXT,
            scheme TEXT,
            host TEXT,
            port INTEGER,
            path TEXT,
            model TEXT,
            stream INTEGER NOT NULL DEFAULT 0,
            session_id TEXT,
            headers TEXT,
            body TEXT,             -- compact JSON; shared parts as U+0001 sha256 U+0001 markers
            body_text TEXT,        -- a body that is text but not JSON
            body_raw BLOB,         -- a body that is not text (or not decodable)
            body_bytes INTEGER,
            truncated INTEGER NOT NULL DEFAULT 0,
            note TEXT,
            cost_usd REAL,
            top_source TEXT,
            attribution TEXT       -- the tree as nested JSON; `attributions` rows hold the
                                   -- same nodes flat, for queries by source
        );
        -- with the id in each index, filters that look elsewhere by id (responses,
        -- request_sources) never read the wide rows of requests that do not match
        CREATE INDEX requests_ts ON requests (ts, id);
        CREATE INDEX requests_session_ts ON requests (session_id, ts, id);
        CREATE INDEX requests_model_ts ON requests (model, ts, id);

        CREATE TABLE responses (
            request_id TEXT PRIMARY KEY REFERENCES requests (id),
            status INTEGER,
            reason TEXT,
            headers TEXT,
            body TEXT,             -- JSON: the final message (reassembled for streams)
            body_text TEXT,        -- a body that is text but not JSON
            body_raw BLOB,
            body_bytes INTEGER,
            truncated INTEGER NOT NULL DEFAULT 0,
            note TEXT,
            raw_sse TEXT,          -- the raw events as a JSON string literal (export splices it)
            stream_complete INTEGER,
            stop_reason TEXT,
            input_tokens INTEGER,
            output_tokens INTEGER,
            cache_read_tokens INTEGER,
            cache_creation_tokens INTEGER,
            cache_creation_5m_tokens INTEGER,
            cache_creation_1h_tokens INTEGER,
            request_sent_ms REAL,
            ttfb_ms REAL,
            total_ms REAL,
            upstream_connect_ms REAL,
            proxy_overhead_ms REAL,
            error TEXT,
            complete INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX responses_status ON responses (status);

        CREATE TABLE blobs (
            hash TEXT PRIMARY KEY,  -- sha256 of data
            data TEXT NOT NULL,     -- compact JSON of the shared part
            size INTEGER NOT NULL
        );
        CREATE TABLE request_blobs (
            request_id TEXT NOT NULL,
            hash TEXT NOT NULL,
            PRIMARY KEY (request_id, hash)
        ) WITHOUT ROWID;
        CREATE INDEX request_blobs_hash ON request_blobs (hash);

        CREATE TABLE attributions (
            request_id TEXT NOT NULL,
            node_id INTEGER NOT NULL,
            parent_id INTEGER,
            kind TEXT,
            label TEXT,
            source TEXT,
            chars INTEGER,
            tokens INTEGER,
            estimated INTEGER,
            cached INTEGER,
            path TEXT,
            meta TEXT,             -- node meta as JSON, without `source`; NULL if nothing else
            PRIMARY KEY (request_id, node_id)
        ) WITHOUT ROWID;

        -- each request's leaves summed per source (leaves without a source count under
        -- their kind): a handful of rows per request, for `--source` filters and the
        -- table's top source
        CREATE TABLE request_sources (
            request_id TEXT NOT NULL,
            source TEXT NOT NULL,
            tokens INTEGER NOT NULL,
            PRIMARY KEY (request_id, source)
        ) WITHOUT ROWID;

        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,
            rating INTEGER,
            note TEXT,
            ts TEXT NOT NULL
        );
        CREATE INDEX feedback_request ON feedback (request_id);
        """
    )


@_numbered
def covering_indexes(db: Database) -> None:
    """Session summaries and stats read a few narrow columns of wide rows (request bodies
    and trees, reassembled replies and raw SSE spill into overflow pages): with those
    columns in an index, they never read the rows. Grouping 100k captures by session:
    650 -> 60 ms. The session index keeps its name and gains `cost_usd`; the usage index
    is the one the stats rollups made (same name and columns), now always there."""
    db.executescript(
        """
        DROP INDEX IF EXISTS requests_session_ts;
        CREATE INDEX requests_session_ts ON requests (session_id, ts, id, cost_usd);
        CREATE INDEX IF NOT EXISTS analysis_responses_usage
            ON responses (request_id, input_tokens, output_tokens, cache_read_tokens,
                          cache_creation_tokens);
        """
    )


def _run(db: Database, script: str) -> None:
    """Run a script statement by statement on the migration's connection, inside its
    transaction (`executescript` would commit first)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            db.execute(pending)
            pending = ""
    if pending.strip():
        db.execute(pending)


#: derived tables an older version made outside the migrations, under other names
_OLD_DERIVED = ("analysis_queue", "analysis_dirty_days")


@_numbered
def rollup_tables(db: Database) -> None:
    """The per-source rollups of `stats` (see `rollups.py`), made and kept by the store.

    Before this, `stats` and the recorder installed them on first use, versioned by a
    view `analysis_schema_vN`. Tables of the last such version (4) have these columns and
    are kept; anything older is dropped and summed again. Every tree not yet summed is
    summed here from the per-node rows, which the next migration removes."""
    old = db.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view') "
        "AND name LIKE 'analysis\\_%' ESCAPE '\\'").fetchall()
    current = any(name == "analysis_schema_v4" for _, name in old)
    for kind, name in old:
        db.execute(f"DROP {kind.upper()} IF EXISTS {name}")
    dropped = _OLD_DERIVED if current else _OLD_DERIVED + (
        "analysis_rolled", "analysis_request_sources", "analysis_source_days")
    for table in dropped:
        db.execute(f"DROP TABLE IF EXISTS {table}")
    _run(db, rollups.SCHEMA)
    db.execute("""CREATE TEMP TABLE migrate_unrolled AS
                  SELECT r.id AS request_id FROM requests r
                  JOIN responses s ON s.request_id = r.id AND s.input_tokens IS NOT NULL
                  WHERE NOT EXISTS (SELECT 1 FROM analysis_rolled m WHERE m.request_id = r.id)
                    AND EXISTS (SELECT 1 FROM attributions a
                                WHERE a.request_id = r.id AND a.node_id = 0)""")
    ids = "SELECT request_id FROM temp.migrate_unrolled"
    # The leaves of each tree grouped by source (else kind). Node ids are pre-order, so
    # a node has children exactly when the next node names it as parent.
    db.execute(f"""
        INSERT OR REPLACE INTO analysis_request_sources
            (request_id, source, ts, day, leaves, chars, tokens, cost)
        SELECT a.request_id, COALESCE(NULLIF(a.source, ''), a.kind, 'other') AS src,
               r.ts, substr(r.ts, 1, 10), COUNT(*), SUM(COALESCE(a.chars, 0)),
               SUM(COALESCE(a.tokens, 0)), SUM(json_extract(a.meta, '$.cost_usd'))
        FROM ({ids}) AS ids
        CROSS JOIN requests r ON r.id = ids.request_id
        CROSS JOIN attributions a ON a.request_id = ids.request_id
        LEFT JOIN attributions c
               ON c.request_id = a.request_id AND c.node_id = a.node_id + 1
              AND c.parent_id = a.node_id
        WHERE c.node_id IS NULL
        GROUP BY a.request_id, src""")
    db.execute(rollups.add_to_days(ids, "+"))
    db.execute(f"INSERT OR IGNORE INTO analysis_rolled (request_id) {ids}")
    db.execute("DROP TABLE temp.migrate_unrolled")


@_numbered
def compact_storage(db: Database) -> None:
    """Storage that grows with what is new in each request, not with the square of a
    session's length. A request's tree is kept once, compressed, in
    `requests.attribution` (see `compact.py`): the per-node rows go (trees written before
    stay readable as the JSON text they are). A conversation's history is stored as a
    chain of shared parts (see `bodies.py`); `blob_refs` records which part names which."""
    db.execute("DROP TABLE attributions")
    db.execute("""CREATE TABLE blob_refs (
                      parent TEXT NOT NULL,
                      child TEXT NOT NULL,
                      PRIMARY KEY (parent, child)
                  ) WITHOUT ROWID""")


@_numbered
def response_quota(db: Database) -> None:
    """Subscription replies carry `anthropic-ratelimit-unified-*` headers (5-hour and
    7-day utilization, status, resets): kept per exchange as a JSON object of the values
    as sent, so quota figures never parse every stored header list."""
    db.execute("ALTER TABLE responses ADD COLUMN quota TEXT")


@_numbered
def count_cache(db: Database) -> None:
    """Token counts that `--exact` and `claude-inspect count` got from the API, by the
    SHA-256 of the exact body counted (see `inspector/counting/cache.py`): no content, no
    credential, only how many tokens that question came to."""
    db.execute("""CREATE TABLE IF NOT EXISTS count_cache (
                      hash TEXT PRIMARY KEY,
                      tokens INTEGER NOT NULL,
                      ts REAL NOT NULL
                  )""")


@_numbered
def text_search(db: Database) -> None:
    """Full-text search over every stored part of a capture, shared parts included (see
    `search_index.py`). Only the schema and a mark of what is left to index: the captures
    stored so far are indexed afterwards, a short transaction at a time, by the recorder
    while idle (`search_backlog.index_backlog`), and searched by scanning meanwhile. Indexing
    them here held the write lock for tens of seconds on 100k captures."""
    _run(db, search_index.SCHEMA)
    search_backlog.start_backlog(db.conn)


@_numbered
def pending_requests(db: Database) -> None:
    """Requests in flight: the recorder writes a row here when a request starts and the
    full capture when it ends; a trigger deletes the pending row in the same transaction
    as the capture's insert, so a reader sees one or the other, never both, never neither.

    A table of its own rather than a `state` column on `requests`: a column added to
    `requests` lands after its bodies, in their overflow pages, and every count and list
    would have to read it to leave pending rows out. Here `list`, `stats` and `export`
    see completed exchanges with no condition at all, and this table holds a handful of
    rows. `recorder` is the pid of the process that wrote the row: a recorder starting
    deletes rows whose writer is gone (exchanges lost with it)."""
    _run(db, """
        CREATE TABLE pending_requests (
            id TEXT PRIMARY KEY,
            ts TEXT NOT NULL,
            method TEXT,
            host TEXT,
            path TEXT,
            recorder INTEGER
        );
        CREATE TRIGGER pending_requests_done AFTER INSERT ON requests
        BEGIN
            DELETE FROM pending_requests WHERE id = NEW.id;
        END;
        """)

# the version readers check without importing sqlite-utils must match the migrations
assert SCHEMA_VERSION == len(_NUMBERED), "update inspector/store/version.py"


def migrate(db: Database) -> int:
    """Apply pending migrations; return the schema version now in force."""
    pending = migrations.pending(db)
    if pending:
        migrations.apply(db)
    applied = len(migrations.applied(db))
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current != applied:
        db.execute(f"PRAGMA user_version = {int(applied)}")
    return applied


def schema_version(db: Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]
