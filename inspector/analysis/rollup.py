"""Catching the stats rollups up with captures the store could not sum as it wrote them.

The store keeps the per-source rollups (`inspector.store.rollups`) current as it writes
each tree. What it cannot sum then is left unmarked in `analysis_rolled`: a request whose
usage is known but that has no tree (it counts under "(unattributed)", with its
prompt-side cost, which needs prices), and a request whose reply was stored apart from
it. `refresh` sums those, for the days a query covers, before `stats` reads the rollups.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from inspector.attribution.pricing import price_for
from inspector.store.compact import decode_tree, summarize
from inspector.store.rollups import add_to_days, forget_statements

log = logging.getLogger(__name__)

#: group key for requests whose usage is known but that have no attribution tree
UNATTRIBUTED = "(unattributed)"

_PENDING = "SELECT request_id FROM temp.analysis_pending"

_ROLL_UNATTRIBUTED = """
INSERT INTO analysis_request_sources (request_id, source, ts, day, leaves, chars, tokens, cost)
SELECT p.request_id, ?, p.ts, substr(p.ts, 1, 10), 0, 0, p.prompt_tokens, p.input_cost
FROM temp.analysis_pending p WHERE NOT p.has_tree AND p.prompt_tokens IS NOT NULL
"""


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
                      r.attribution IS NOT NULL AS has_tree,
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
    for statement in forget_statements(_PENDING):
        conn.execute(statement)
    conn.execute(f"INSERT OR IGNORE INTO analysis_rolled (request_id) {_PENDING}")
    # only requests with a known prompt total are split, so sources add up to usage
    trees = conn.execute(
        """SELECT p.request_id, p.ts, r.attribution FROM temp.analysis_pending p
           JOIN requests r ON r.id = p.request_id
           WHERE p.has_tree AND p.prompt_tokens IS NOT NULL""")
    conn.executemany(
        "INSERT OR REPLACE INTO analysis_request_sources"
        " (request_id, source, ts, day, leaves, chars, tokens, cost)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(rid, group, ts, ts[:10], *sums)
         for rid, ts, stored in trees.fetchall()
         for group, sums in summarize(decode_tree(stored)).groups.items()])
    conn.execute(_ROLL_UNATTRIBUTED, (UNATTRIBUTED,))
    conn.execute(add_to_days(_PENDING, "+"))
