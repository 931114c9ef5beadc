"""Per-source rollups of the attribution table, kept up to date incrementally.

`stats --by source` must answer over a month of captures (100k requests, several million
attribution rows) in well under a second. Grouping the raw `attributions` rows each time
cannot do that, so this module keeps two small derived tables beside the store's:

* `analysis_request_sources`: one row per (request, source) with the summed leaves of the
  request's attribution tree, its share of the request's prompt-side cost and the day;
* `analysis_source_days`: the same summed per (day, source).

A query over a period reads whole days from the day table and only the partial days at
either edge from the per-request table. Both are derived data: dropping them loses
nothing, `refresh()` rebuilds what is missing.

Freshness: `Store.write` (and `Store.set_attribution`) hand each batch's per-request
sums, computed in Python from the trees they already hold in memory, to `add_written`,
which inserts them with a few set-based statements per batch when the rollup tables
exist (`ensure_schema` creates them; the runtime calls it when it opens the database).
Triggers on the store's tables take a removed tree or purged request away from both
rollups. Captures without a "rolled up" mark (written before the tables existed, by
other code, or without a tree) are summed in bulk by `refresh()`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from inspector.attribution.pricing import price_for

log = logging.getLogger(__name__)

#: group key for requests whose usage is known but that have no attribution tree
UNATTRIBUTED = "(unattributed)"


def _add_to_days(ids: str, sign: str) -> str:
    """SQL adding (sign "+") or taking away (sign "-") the per-request rows of the
    requests selected by `ids` (a SELECT of request_id) to or from the day table.

    Taking away leaves rows of zero requests behind rather than searching for them;
    queries skip them."""
    return f"""
        INSERT INTO analysis_source_days (day, source, requests, leaves, chars, tokens, cost)
        SELECT rs.day, rs.source, {sign}COUNT(*), {sign}SUM(rs.leaves), {sign}SUM(rs.chars),
               {sign}SUM(rs.tokens), {sign}SUM(rs.cost)
        FROM ({ids}) AS ids
        CROSS JOIN analysis_request_sources rs ON rs.request_id = ids.request_id
        WHERE true
        GROUP BY rs.day, rs.source
        ON CONFLICT (day, source) DO UPDATE SET
            requests = requests + excluded.requests, leaves = leaves + excluded.leaves,
            chars = chars + excluded.chars, tokens = tokens + excluded.tokens,
            cost = CASE WHEN cost IS NULL THEN excluded.cost
                        WHEN excluded.cost IS NULL THEN cost
                        ELSE cost + excluded.cost END;"""


# The leaves of each request's tree, grouped by source. Node ids are pre-order, so a node
# has children exactly when the next node names it as parent: one primary-key probe per
# row instead of a search. A leaf without a source is grouped by its kind. Each source's
# cost is the sum of its leaves' `cost_usd` (the attribution's cache-aware share of the
# prompt-side cost; absent for a model without a price), so a request's sources add up
# to its prompt-side cost. CROSS JOIN keeps SQLite's planner from scanning attributions
# when the driving set of requests is small.
def _sum_leaves(ids: str) -> str:
    return f"""
        INSERT INTO analysis_request_sources
            (request_id, source, ts, day, leaves, chars, tokens, cost)
        SELECT a.request_id, COALESCE(NULLIF(a.source, ''), a.kind, 'other') AS src,
               r.ts, substr(r.ts, 1, 10), COUNT(*), SUM(COALESCE(a.chars, 0)),
               SUM(COALESCE(a.tokens, 0)), SUM(json_extract(a.meta, '$.cost_usd'))
        FROM ({ids}) AS ids
        CROSS JOIN requests r ON r.id = ids.request_id
        CROSS JOIN responses s ON s.request_id = ids.request_id AND s.input_tokens IS NOT NULL
        CROSS JOIN attributions a ON a.request_id = ids.request_id
        LEFT JOIN attributions c
               ON c.request_id = a.request_id AND c.node_id = a.node_id + 1
              AND c.parent_id = a.node_id
        WHERE c.node_id IS NULL
        GROUP BY a.request_id, src;"""


def _forget_statements(ids: str) -> list[str]:
    """SQL statements removing what the rollups hold of the selected requests."""
    return [_add_to_days(ids, "-"),
            f"DELETE FROM analysis_request_sources WHERE request_id IN ({ids});",
            f"DELETE FROM analysis_rolled WHERE request_id IN ({ids});"]


def _forget(ids: str) -> str:
    return "\n        ".join(_forget_statements(ids))


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS analysis_rolled (
    request_id TEXT PRIMARY KEY
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS analysis_request_sources (
    request_id TEXT NOT NULL,
    source TEXT NOT NULL,
    ts TEXT NOT NULL,
    day TEXT NOT NULL,
    leaves INTEGER NOT NULL,
    chars INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    cost REAL,
    PRIMARY KEY (request_id, source)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS analysis_request_sources_ts ON analysis_request_sources (ts);
CREATE TABLE IF NOT EXISTS analysis_source_days (
    day TEXT NOT NULL,
    source TEXT NOT NULL,
    requests INTEGER NOT NULL,
    leaves INTEGER NOT NULL,
    chars INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    cost REAL,
    PRIMARY KEY (day, source)
) WITHOUT ROWID;

-- covering indexes: stats never reads the wide rows (bodies, raw SSE) of the store
CREATE INDEX IF NOT EXISTS analysis_requests_ts_cover
    ON requests (ts, id, model, session_id, cost_usd);
-- (the store's schema version 2 makes the same one)
CREATE INDEX IF NOT EXISTS analysis_responses_usage
    ON responses (request_id, input_tokens, output_tokens, cache_read_tokens,
                  cache_creation_tokens);
CREATE INDEX IF NOT EXISTS analysis_feedback_request_id ON feedback (request_id, id);

-- New trees are added by add_written(), per batch; these keep removals consistent.
CREATE TRIGGER IF NOT EXISTS analysis_tree_removed AFTER DELETE ON attributions
    WHEN OLD.node_id = 0
    BEGIN
        {_forget("SELECT OLD.request_id AS request_id")}
    END;
-- a response stored apart from its tree: redo the request at the next refresh
CREATE TRIGGER IF NOT EXISTS analysis_response_added AFTER INSERT ON responses
    BEGIN DELETE FROM analysis_rolled WHERE request_id = NEW.request_id; END;
CREATE TRIGGER IF NOT EXISTS analysis_request_removed AFTER DELETE ON requests
    BEGIN
        {_forget("SELECT OLD.id AS request_id")}
    END;
"""

_PENDING = "SELECT request_id FROM temp.analysis_pending"

_ROLL_UNATTRIBUTED = """
INSERT INTO analysis_request_sources (request_id, source, ts, day, leaves, chars, tokens, cost)
SELECT p.request_id, ?, p.ts, substr(p.ts, 1, 10), 0, 0, p.prompt_tokens, p.input_cost
FROM temp.analysis_pending p WHERE NOT p.has_tree AND p.prompt_tokens IS NOT NULL
"""


#: bump when the derived tables or triggers change: older ones are dropped and rebuilt
SCHEMA_VERSION = 4
_DERIVED_TABLES = ("analysis_rolled", "analysis_queue", "analysis_request_sources",
                   "analysis_source_days", "analysis_dirty_days")
_SENTINEL = f"analysis_schema_v{SCHEMA_VERSION}"


def installed(conn: sqlite3.Connection) -> bool:
    """Do this database's rollup tables exist in the current version?"""
    return conn.execute("SELECT count(*) FROM sqlite_master WHERE name = ?",
                        (_SENTINEL,)).fetchone()[0] > 0


#: one written request for `add_written`: (request id, ts, {group: [leaves, chars,
#: tokens, cost or None]}) with the groups as `rows.flatten_tree` sums them
Written = tuple[str, str, dict[str, list]]

_BATCH_IDS = "SELECT value AS request_id FROM json_each(?)"


def add_written(conn: sqlite3.Connection, written: list[Written]) -> None:
    """Add freshly written trees to both rollups, inside the writer's transaction.

    Only requests with a tree and known usage belong here (as in `refresh`). Whatever
    the rollups held of these ids before (a rewrite) is taken away first. Does nothing
    when the rollup tables are not installed: `refresh` sums those requests later."""
    if not written or not installed(conn):
        return
    ids = json.dumps([w[0] for w in written])
    for statement in _forget_statements(_BATCH_IDS):
        conn.execute(statement, (ids,))
    conn.executemany(
        "INSERT OR REPLACE INTO analysis_request_sources"
        " (request_id, source, ts, day, leaves, chars, tokens, cost)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(rid, source, ts, ts[:10], *sums)
         for rid, ts, groups in written for source, sums in groups.items()])
    conn.execute(_add_to_days(_BATCH_IDS, "+"), (ids,))
    conn.execute(f"INSERT OR IGNORE INTO analysis_rolled (request_id) {_BATCH_IDS}", (ids,))


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the derived tables, the indexes stats needs and the freshness triggers.

    Idempotent and cheap when everything exists. Derived tables and triggers of an older
    version are dropped first (they hold nothing that cannot be summed again)."""
    sentinel = _SENTINEL
    have = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = ?",
                        (sentinel,)).fetchone()[0]
    if have:
        return
    old = [(kind, name) for kind, name in conn.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view') "
        "AND name LIKE 'analysis\\_%' ESCAPE '\\'")]
    drops = "".join(f"DROP {kind.upper()} IF EXISTS {name};" for kind, name in old)
    drops += "".join(f"DROP TABLE IF EXISTS {t};" for t in _DERIVED_TABLES)
    # IMMEDIATE: two connections installing at once wait for each other, not fail
    conn.executescript("BEGIN IMMEDIATE;" + drops + _SCHEMA
                       + f"CREATE VIEW IF NOT EXISTS {sentinel} AS SELECT {SCHEMA_VERSION} "
                       "AS version;COMMIT;")


def day_floor(iso: str) -> str:
    """'2026-11-24T10:00:00.000000Z' -> '2026-11-24'."""
    return iso[:10]


def next_day(day: str) -> str:
    d = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=timezone.utc) + timedelta(days=1)
    return d.strftime("%Y-%m-%d")


def _output_prices(conn: sqlite3.Connection, models: Iterable[str | None]) -> None:
    """Fill temp.analysis_prices with each model's output price (None when unknown)."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS analysis_prices "
                 "(model TEXT PRIMARY KEY, output REAL)")
    conn.execute("DELETE FROM temp.analysis_prices")
    rows = []
    for model in models:
        price = price_for(model) if model else None
        rows.append((model, None if price is None else price.output))
    conn.executemany("INSERT OR REPLACE INTO temp.analysis_prices VALUES (?, ?)", rows)


#: from this many requests to sum at once, `refresh` tells its caller first (it takes
#: about half a millisecond each)
BULK_NOTICE = 2000


def refresh(conn: sqlite3.Connection, since_iso: str | None, until_iso: str | None,
            notice: Callable[[int], None] | None = None) -> int:
    """Bring the rollups up to date for every request on the days touching the period.

    Returns how many requests were (re)rolled. Whole days are covered (not just the
    period) because a day's row in `analysis_source_days` must sum all of that day.
    `notice(n)` is called before summing `n` >= BULK_NOTICE requests in bulk (captures
    stored before the analysis tables existed), so a front end can say why it waits."""
    ensure_schema(conn)
    lo = day_floor(since_iso) if since_iso else "0000-00-00"
    hi = next_day(day_floor(until_iso)) if until_iso else "9999-99-99"
    own = not conn.in_transaction  # inside a caller's transaction: a savepoint
    conn.execute("BEGIN IMMEDIATE" if own else "SAVEPOINT analysis_refresh")
    try:
        conn.execute("DROP TABLE IF EXISTS temp.analysis_pending")
        conn.execute(
            """CREATE TEMP TABLE analysis_pending AS
               SELECT r.id AS request_id, r.ts AS ts, r.model AS model, r.cost_usd AS cost,
                      s.input_tokens + COALESCE(s.cache_read_tokens, 0)
                          + COALESCE(s.cache_creation_tokens, 0) AS prompt_tokens,
                      COALESCE(s.output_tokens, 0) AS output_tokens,
                      EXISTS (SELECT 1 FROM attributions a
                              WHERE a.request_id = r.id AND a.node_id = 0) AS has_tree,
                      CAST(NULL AS REAL) AS input_cost
               FROM requests r INDEXED BY analysis_requests_ts_cover
               LEFT JOIN analysis_rolled m ON m.request_id = r.id
               LEFT JOIN responses s INDEXED BY analysis_responses_usage
                      ON s.request_id = r.id
               WHERE m.request_id IS NULL AND r.ts >= ? AND r.ts < ?""",
            (lo, hi),
        )
        n = conn.execute("SELECT count(*) FROM temp.analysis_pending").fetchone()[0]
        if n >= BULK_NOTICE and notice is not None:
            notice(n)
        if n:
            _roll_pending(conn)
        conn.execute("DROP TABLE IF EXISTS temp.analysis_pending")
        conn.execute("COMMIT" if own else "RELEASE analysis_refresh")
    except BaseException:
        if own:
            conn.execute("ROLLBACK")
        elif conn.in_transaction:
            conn.execute("ROLLBACK TO analysis_refresh")
            conn.execute("RELEASE analysis_refresh")
        raise
    if n:
        log.info("rolled up %d requests", n)
    return n


def _roll_pending(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE INDEX temp.analysis_pending_id ON analysis_pending (request_id)")
    models = [r[0] for r in conn.execute("SELECT DISTINCT model FROM temp.analysis_pending")]
    _output_prices(conn, models)
    # prompt-side cost = total cost - output cost (unknown when either is unknown)
    conn.execute(
        """UPDATE temp.analysis_pending SET input_cost = cost - output_tokens *
               (SELECT output FROM temp.analysis_prices pr
                WHERE pr.model IS temp.analysis_pending.model) / 1000000.0"""
    )
    for statement in _forget_statements(_PENDING):
        conn.execute(statement)
    conn.execute(f"INSERT OR IGNORE INTO analysis_rolled (request_id) {_PENDING}")
    # only requests with a known prompt total are split, so sources add up to usage
    conn.execute(_sum_leaves(_PENDING + " WHERE has_tree"))
    conn.execute(_ROLL_UNATTRIBUTED, (UNATTRIBUTED,))
    conn.execute(_add_to_days(_PENDING, "+"))
