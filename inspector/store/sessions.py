"""Sessions among the captures a `Filter` (see `queries.py`) matches: their ids, most
recently active first, and a summary of each (requests, first and last time, the prompt
tokens of every turn, output tokens, cost) for `sessions` and the app's session list.
"""

from __future__ import annotations

from typing import Any

from inspector.store.db import Store
from inspector.store.queries import Filter, _where
from inspector.store.rows import SessionSummary


def session_ids(store: Store, f: Filter) -> list[str | None]:
    """The sessions among the matching captures, the most recently active first (None:
    the captures of no session)."""
    where, params = _where(store, f)
    return [sid for (sid,) in store.execute(
        f"SELECT r.session_id FROM requests r{where} GROUP BY r.session_id"
        " ORDER BY max(r.ts) DESC, r.session_id", params)]


def session_summaries(store: Store, f: Filter,
                      limit: int | None = None) -> list[SessionSummary]:
    """Sessions among the matching captures, newest first (by last request; ties by first
    request, then id): request count, first/last time, prompt tokens of each turn in
    order (to see the context grow), output tokens and cost.

    `limit` (default `f.limit`; 0 or None for all) and `f.offset` page the sessions. The
    grouping is one SQL query; the per-turn prompt tokens are read afterwards for the
    returned sessions only, so a page stays fast on a database of 100k captures.
    """
    where, params = _where(store, f)
    cond = (where + " AND" if where else " WHERE") + " r.session_id IS NOT NULL"
    # usage through its covering index (schema 2), not the wide rows of responses
    usage = " INDEXED BY analysis_responses_usage" if store.version >= 2 else ""
    base = f" FROM requests r LEFT JOIN responses s{usage} ON s.request_id = r.id"
    limit = f.limit if limit is None else limit
    rows = store.execute(
        "SELECT r.session_id, count(*), min(r.ts), max(r.ts),"
        " coalesce(sum(s.output_tokens), 0), sum(r.cost_usd)"
        f"{base}{cond} GROUP BY r.session_id"
        " ORDER BY max(r.ts) DESC, min(r.ts), r.session_id LIMIT ? OFFSET ?",
        [*params, limit if limit and limit > 0 else -1, max(f.offset, 0)]).fetchall()
    out = {sid: {"session_id": sid, "requests": n, "first_ts": first, "last_ts": last,
                 "prompt_tokens": [], "output_tokens": output, "cost_usd": cost}
           for sid, n, first, last, output, cost in rows}
    ids = list(out)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        turns = store.execute(
            "SELECT r.session_id, s.input_tokens, s.cache_read_tokens, s.cache_creation_tokens"
            f"{base}{cond} AND r.session_id IN ({', '.join('?' * len(chunk))})"
            " ORDER BY r.session_id, r.ts, r.id", [*params, *chunk])
        for sid, inp, cread, ccreate in turns:
            out[sid]["prompt_tokens"].append(
                None if inp is None else inp + (cread or 0) + (ccreate or 0))
    return [SessionSummary(session_id=d["session_id"], requests=d["requests"],
                           first_ts=d["first_ts"], last_ts=d["last_ts"],
                           prompt_tokens=tuple(d["prompt_tokens"]),
                           output_tokens=d["output_tokens"], cost_usd=d["cost_usd"])
            for d in out.values()]


def sessions(store: Store, f: Filter, limit: int | None = None) -> list[dict[str, Any]]:
    """`session_summaries` as dicts (for `--json`)."""
    return [s.as_dict() for s in session_summaries(store, f, limit)]


__all__ = ["SessionSummary", "session_ids", "session_summaries", "sessions"]
