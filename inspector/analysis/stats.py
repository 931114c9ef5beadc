"""Usage and cost over a period, grouped by source, model, day or session.

Everything is summed by SQLite (GROUP BY over indexed columns and the rollup tables of
`rollup.py`); Python only shapes the few resulting rows. Shapes:

    {"by": "model", "since": ISO|None, "until": ISO|None,
     "groups": [{"key", "requests", "prompt_tokens", "input_tokens", "cache_read_tokens",
                 "cache_creation_tokens", "output_tokens", "cost", "cache_hit_ratio",
                 "cost_unknown_requests", "rated", "rated_bad", "bad_share",
                 "cache_saved_usd", "cache_write_extra_usd", ...}],
     "total": {same fields, "key": None}}

Grouped by source, the groups partition the attribution leaves of the requests whose
usage is known, so their `prompt_tokens` add up to the total's; one more group,
"(output)", holds the output tokens and their cost, so the groups' costs add up to the
total cost too. Figures a source cannot split (cache parts, output) are null. A cost is
null when no request of the group has a known price ("unknown", never a made-up 0).
"""

from __future__ import annotations

import sqlite3
from typing import Any, Callable

from inspector.analysis import rollup
from inspector.analysis.caching import cache_money
from inspector.analysis.ratings import BAD
from inspector.attribution.pricing import price_for
from inspector.timeparse import iso_utc

GROUPINGS = ("source", "model", "day", "session")
OUTPUT_GROUP = "(output)"

_KEYS = {
    "model": "r.model",
    "day": "substr(r.ts, 1, 10)",
    "session": "r.session_id",
}

# The latest rating of each rated request.
_LATEST_RATING = """
latest_rating AS (
    SELECT f.request_id AS request_id, f.rating AS rating FROM feedback f
    WHERE f.id IN (SELECT MAX(id) FROM feedback WHERE rating IS NOT NULL GROUP BY request_id)
)"""

# Both tables are read through covering indexes (made by the store's migrations): left to
# itself the planner walks an index that matches the GROUP BY and then reads every wide
# row (bodies, trees, raw SSE), several times slower.
_REQUEST_AGGREGATE = """
WITH {latest}
SELECT {key} AS key,
       COUNT(*) AS requests,
       SUM(s.input_tokens + COALESCE(s.cache_read_tokens, 0)
           + COALESCE(s.cache_creation_tokens, 0)) AS prompt_tokens,
       SUM(s.input_tokens) AS input_tokens,
       SUM(CASE WHEN s.input_tokens IS NOT NULL THEN COALESCE(s.cache_read_tokens, 0) END)
           AS cache_read_tokens,
       SUM(CASE WHEN s.input_tokens IS NOT NULL THEN COALESCE(s.cache_creation_tokens, 0) END)
           AS cache_creation_tokens,
       SUM(s.output_tokens) AS output_tokens,
       SUM(r.cost_usd) AS cost,
       SUM(r.cost_usd IS NULL AND s.input_tokens IS NOT NULL) AS cost_unknown_requests,
       COUNT(lr.rating) AS rated,
       SUM(lr.rating = {bad}) AS rated_bad
FROM requests r INDEXED BY analysis_requests_ts_cover
LEFT JOIN responses s INDEXED BY analysis_responses_usage ON s.request_id = r.id
LEFT JOIN latest_rating lr ON lr.request_id = r.id
WHERE r.ts >= ? AND r.ts < ?
GROUP BY key
"""


_FIELDS = ("requests", "prompt_tokens", "input_tokens", "cache_read_tokens",
           "cache_creation_tokens", "output_tokens", "cost", "cost_unknown_requests",
           "rated", "rated_bad")


def period(since: float | None, until: float | None) -> tuple[str, str]:
    """Epoch bounds -> ISO text bounds for `requests.ts` (open ends become extremes)."""
    return (iso_utc(since) if since is not None else "",
            iso_utc(until) if until is not None else "9999")


def request_groups(conn: sqlite3.Connection, lo: str, hi: str, by: str) -> list[dict[str, Any]]:
    """One aggregate row per group of the period's requests."""
    key = _KEYS[by]
    sql = _REQUEST_AGGREGATE.format(latest=_LATEST_RATING, key=key, bad=BAD)
    cur = conn.execute(sql, (lo, hi))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur]


def output_cost(by_model: list[dict[str, Any]]) -> tuple[int, float | None]:
    """Output tokens of the period and what they cost (None if no model's price is
    known), from the per-model rows."""
    tokens, cost = 0, None
    for row in by_model:
        out = row.get("output_tokens") or 0
        tokens += out
        price = price_for(row["key"]) if row.get("key") else None
        if price is not None:
            cost = (cost or 0.0) + out * price.output / 1_000_000.0
    return tokens, cost


def sum_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The total of several aggregate rows: a sum stays None only if every part is None
    (an unknown cost is not a zero cost)."""
    total: dict[str, Any] = {name: None for name in _FIELDS}
    total.update(requests=0, rated=0, rated_bad=0, cost_unknown_requests=0)
    for row in rows:
        for name, value in row.items():
            if name == "key":
                continue
            if value is not None:
                total[name] = (total.get(name) or 0) + value
            else:
                total.setdefault(name, None)
    return total


def source_groups(conn: sqlite3.Connection, lo: str, hi: str) -> list[dict[str, Any]]:
    """Per source: requests carrying it, leaves, chars, tokens, cost, rated, rated_bad.

    Whole days come from the day table; the partial days at the period's edges from the
    per-request table."""
    first_full = lo[:10] if lo[10:] in ("", "T00:00:00.000000Z") else rollup.next_day(lo[:10])
    if not lo:
        first_full = "0000-00-00"
    end_full = hi[:10] if hi != "9999" else "9999-99-99"
    parts = []
    params: list[Any] = []
    if first_full < end_full:
        parts.append("""SELECT source, requests, leaves, chars, tokens, cost
                        FROM analysis_source_days WHERE day >= ? AND day < ?""")
        params += [first_full, end_full]
        edges = [(lo, first_full), (end_full, hi)]
    else:
        edges = [(lo, hi)]
    for a, b in edges:
        if a < b:
            parts.append("""SELECT source, 1 AS requests, leaves, chars, tokens, cost
                            FROM analysis_request_sources WHERE ts >= ? AND ts < ?""")
            params += [a, b]
    if not parts:
        return []
    sql = ("SELECT source, SUM(requests), SUM(leaves), SUM(chars), SUM(tokens), SUM(cost) "
           "FROM (" + " UNION ALL ".join(parts) + ") GROUP BY source HAVING SUM(requests) > 0")
    groups = {src: {"key": src, "requests": n, "leaves": leaves, "chars": chars,
                    "prompt_tokens": tokens, "cost": cost, "rated": 0, "rated_bad": 0}
              for src, n, leaves, chars, tokens, cost in conn.execute(sql, params)}
    rated_sql = f"""WITH {_LATEST_RATING}
        SELECT a.source, COUNT(*), SUM(lr.rating = {BAD}) FROM latest_rating lr
        JOIN analysis_request_sources a ON a.request_id = lr.request_id
        WHERE a.ts >= ? AND a.ts < ? GROUP BY a.source"""
    for src, rated, bad in conn.execute(rated_sql, (lo, hi)):
        if src in groups:
            groups[src]["rated"] = rated
            groups[src]["rated_bad"] = bad or 0
    return list(groups.values())


def finish(group: dict[str, Any], total: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fill the derived fields of a group: ratios, shares; ints for empty sums."""
    g = dict(group)
    for name in ("requests", "rated", "rated_bad", "cost_unknown_requests"):
        if name in g:
            g[name] = int(g[name] or 0)
    prompt = g.get("prompt_tokens")
    read = g.get("cache_read_tokens")
    g["cache_hit_ratio"] = (round(read / prompt, 4)
                            if prompt and read is not None else None)
    g["bad_share"] = round(g["rated_bad"] / g["rated"], 4) if g.get("rated") else None
    if g.get("cost") is not None:
        g["cost"] = round(g["cost"], 9)
    if total is not None:
        tp, tc = total.get("prompt_tokens"), total.get("cost")
        g["token_share"] = (round(prompt / tp, 4) if prompt is not None and tp else None)
        g["cost_share"] = (round(g["cost"] / tc, 4)
                           if g.get("cost") is not None and tc else None)
    return g


_EMPTY_PARTS = {"input_tokens": None, "cache_read_tokens": None,
                "cache_creation_tokens": None, "output_tokens": None,
                "cost_unknown_requests": None}


def compute_stats(conn: sqlite3.Connection, since: float | None, until: float | None,
                  by: str = "source",
                  notice: Callable[[int], None] | None = None) -> dict[str, Any]:
    """The figures of `claude-inspect stats` as a JSON-ready dict (see module docstring).

    `notice(n)`: called before a one-time bulk summing of `n` captures (see
    `rollup.refresh`)."""
    if by not in GROUPINGS:
        raise ValueError(f"cannot group by {by!r}: use one of {', '.join(GROUPINGS)}")
    lo, hi = period(since, until)
    # one pass over the period's requests: the total is the sum of the groups
    rows = request_groups(conn, lo, hi, "model" if by == "source" else by)
    total = finish(sum_rows(rows)) | {"key": None}
    if by == "source":
        rollup.refresh(conn, lo or None, None if hi == "9999" else hi, notice)
        raw = source_groups(conn, lo, hi)
        out_tokens, out_cost = output_cost(rows)
        groups = [finish(g | _EMPTY_PARTS, total) for g in raw]
        groups.sort(key=lambda g: (-(g["prompt_tokens"] or 0), g["key"]))
        if out_tokens or out_cost:
            groups.append(finish({"key": OUTPUT_GROUP, "requests": total["requests"],
                                  "prompt_tokens": None, "output_tokens": out_tokens,
                                  "cost": out_cost, "rated": 0, "rated_bad": 0,
                                  "input_tokens": None, "cache_read_tokens": None,
                                  "cache_creation_tokens": None}, total))
    else:
        groups = [finish(g, total) for g in rows]
        if by == "day":
            groups.sort(key=lambda g: g["key"] or "")
        else:
            groups.sort(key=lambda g: (-(g["cost"] or 0), -(g["prompt_tokens"] or 0),
                                       str(g["key"])))
    money = cache_money(conn, lo, hi, None).get(None) or {}
    total.update(cache_saved_usd=money.get("cache_saved_usd"),
                 cache_write_extra_usd=money.get("cache_write_extra_usd"))
    if by != "source":
        per_group = cache_money(conn, lo, hi, _KEYS[by])
        for g in groups:
            g.update(per_group.get(g["key"]) or {"cache_saved_usd": None,
                                                  "cache_write_extra_usd": None})
    out = {"by": by, "since": lo or None, "until": None if hi == "9999" else hi,
           "groups": groups, "total": total}
    if by == "source":
        from inspector.analysis.quota import five_hour_by_source

        quota = five_hour_by_source(conn, lo, hi)
        if quota is not None:
            out["quota_5h"] = quota
    return out
