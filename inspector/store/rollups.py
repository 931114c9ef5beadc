"""Per-source rollups of the attribution trees, kept by the store as it writes.

`stats --by source` must answer over a month of captures (100k requests) in well under a
second, so two small derived tables sit beside the captures:

* `analysis_request_sources`: one row per (request, source) with the summed leaves of the
  request's attribution tree, its share of the request's prompt-side cost and the day;
* `analysis_source_days`: the same summed per (day, source).

A query over a period reads whole days from the day table and only the partial days at
either edge from the per-request table. `Store.write` adds each batch's trees (summed in
Python from the trees in memory) in the same transaction as the captures; a trigger takes
a deleted request away from both. `analysis_rolled` marks the requests summed; a request
not marked (usage known but no tree, or a reply stored apart from its request) is summed
later by `inspector.analysis.rollup.refresh`. The tables, indexes and triggers are made by
the store's migrations.
"""

from __future__ import annotations

import json
import sqlite3

#: one written request: (request id, ts, {group: [leaves, chars, tokens, cost or None]})
Written = tuple[str, str, dict[str, list]]


def add_to_days(ids: str, sign: str) -> str:
    """SQL adding (sign "+") or taking away (sign "-") the per-request rows of the
    requests selected by `ids` (a SELECT of request_id) to or from the day table.

    Taking away can leave rows of zero requests behind; queries skip them and `purge`
    deletes them."""
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


def forget_statements(ids: str) -> list[str]:
    """SQL statements removing what the rollups hold of the selected requests."""
    return [add_to_days(ids, "-"),
            f"DELETE FROM analysis_request_sources WHERE request_id IN ({ids});",
            f"DELETE FROM analysis_rolled WHERE request_id IN ({ids});"]


def _forget(ids: str) -> str:
    return "\n        ".join(forget_statements(ids))


#: The derived tables, their indexes and the triggers keeping them consistent. Every
#: statement is idempotent, so a database whose tables an older version made keeps them.
SCHEMA = f"""
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
CREATE INDEX IF NOT EXISTS analysis_responses_usage
    ON responses (request_id, input_tokens, output_tokens, cache_read_tokens,
                  cache_creation_tokens);
CREATE INDEX IF NOT EXISTS analysis_feedback_request_id ON feedback (request_id, id);

-- a response stored apart from its tree: sum the request again at the next refresh
CREATE TRIGGER IF NOT EXISTS analysis_response_added AFTER INSERT ON responses
    BEGIN DELETE FROM analysis_rolled WHERE request_id = NEW.request_id; END;
CREATE TRIGGER IF NOT EXISTS analysis_request_removed AFTER DELETE ON requests
    BEGIN
        {_forget("SELECT OLD.id AS request_id")}
    END;
"""

_BATCH_IDS = "SELECT value AS request_id FROM json_each(?)"


def add_written(conn: sqlite3.Connection, written: list[Written]) -> None:
    """Add freshly written trees to both rollups, inside the writer's transaction.

    Only requests with a tree and known usage belong here. Whatever the rollups held of
    these ids before (a rewrite) is taken away first."""
    if not written:
        return
    ids = json.dumps([w[0] for w in written])
    for statement in forget_statements(_BATCH_IDS):
        conn.execute(statement, (ids,))
    conn.executemany(
        "INSERT OR REPLACE INTO analysis_request_sources"
        " (request_id, source, ts, day, leaves, chars, tokens, cost)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(rid, source, ts, ts[:10], *sums)
         for rid, ts, groups in written for source, sums in groups.items()])
    conn.execute(add_to_days(_BATCH_IDS, "+"), (ids,))
    conn.execute(f"INSERT OR IGNORE INTO analysis_rolled (request_id) {_BATCH_IDS}", (ids,))


def drop_empty_days(conn: sqlite3.Connection) -> None:
    """Delete day rows that no request counts in any more (left by removals)."""
    conn.execute("DELETE FROM analysis_source_days WHERE requests <= 0")
