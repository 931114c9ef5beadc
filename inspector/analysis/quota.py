"""Subscription quota: the 5-hour and 7-day utilization Claude's replies report
(`anthropic-ratelimit-unified-*`, kept per exchange in `responses.quota`), and an
estimate of which sources used the 5-hour window.

Utilization is account-wide: the figure on a reply covers everything the account did,
not that request alone. Each request is given the change in 5-hour utilization since
the reply before it (a drop means a new window began: the request gets the whole new
figure), shared over its sources by their share of its billed tokens (its attribution
leaves, and its output). This is an apportioned estimate, and is labelled so.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

OUTPUT = "(output)"
#: recent replies searched for the latest quota figures
RECENT = 500


def utilization(quota: dict[str, Any] | None, window: str) -> float | None:
    """A window's utilization ("5h" or "7d") as a fraction, or None when not sent."""
    if not quota:
        return None
    try:
        return float(quota.get(f"{window}_utilization"))
    except (TypeError, ValueError):
        return None


def latest(conn: sqlite3.Connection) -> dict[str, str] | None:
    """The quota headers of the newest reply that carried them (among recent ones)."""
    row = conn.execute(
        "SELECT quota FROM (SELECT quota FROM responses ORDER BY request_id DESC LIMIT ?)"
        " WHERE quota IS NOT NULL LIMIT 1", (RECENT,)).fetchone()
    return json.loads(row[0]) if row else None


def five_hour_by_source(conn: sqlite3.Connection, lo: str, hi: str) -> dict[str, Any] | None:
    """{"estimate": "apportioned", "total": used, "sources": {source: used}} over the
    period (fractions of the 5-hour window); None when no reply carried the figure."""
    rows = conn.execute(
        "SELECT r.id, s.quota, s.output_tokens FROM requests r"
        " JOIN responses s ON s.request_id = r.id"
        " WHERE s.quota IS NOT NULL AND r.ts >= ? AND r.ts < ? ORDER BY r.ts, r.id",
        (lo, hi)).fetchall()
    shares: dict[str, float] = {}
    previous: float | None = None
    seen = False
    for request_id, quota_text, output in rows:
        used = utilization(json.loads(quota_text), "5h")
        if used is None:
            continue
        seen = True
        if previous is None:
            previous = used  # the first figure is the baseline
            continue
        delta = used - previous if used >= previous else used
        previous = used
        if delta <= 0:
            continue
        tokens = dict(conn.execute(
            "SELECT source, tokens FROM request_sources WHERE request_id = ?", (request_id,)))
        if output:
            tokens[OUTPUT] = tokens.get(OUTPUT, 0) + output
        billed = sum(tokens.values())
        for source, n in tokens.items():
            if billed and n:
                shares[source] = shares.get(source, 0.0) + delta * n / billed
    if not seen:
        return None
    ranked = dict(sorted(((k, round(v, 6)) for k, v in shares.items()),
                         key=lambda kv: (-kv[1], kv[0])))
    return {"estimate": "apportioned", "total": round(sum(shares.values()), 6),
            "sources": ranked,
            "note": "5-hour utilization is account-wide: each request's change is shared "
                    "over its sources by their share of its billed tokens"}
