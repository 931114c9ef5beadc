"""The database schema, as numbered migrations applied in order.

Each migration runs once, inside a transaction, and is recorded by sqlite-utils'
`Migrations` in `_sqlite_migrations`; `PRAGMA user_version` holds the number of the last
one applied, so any tool can read the schema version. Never edit a released migration:
add the next number.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

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


@_numbered
def response_quota(db: Database) -> None:
    """Subscription replies carry `anthropic-ratelimit-unified-*` headers (5-hour and
    7-day utilization, status, resets): kept per exchange as a JSON object of the values
    as sent, so quota figures never parse every stored header list."""
    db.execute("ALTER TABLE responses ADD COLUMN quota TEXT")


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
