"""Recompute stored attributions and costs, after the attribution rules or prices change.

Requests are read in batches by keyset paging on the id (which sorts by time), so memory
stays flat however large the database, and each batch is written in one transaction so a
proxy writing at the same time waits at most one batch.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from inspector.attribution import attribute, cost
from inspector.model import Node, Usage

log = logging.getLogger(__name__)

_BATCH_SQL = """
SELECT r.id, r.model, r.headers, r.body,
       s.input_tokens, s.output_tokens, s.cache_read_tokens, s.cache_creation_tokens,
       s.cache_creation_5m_tokens, s.cache_creation_1h_tokens
FROM requests r LEFT JOIN responses s ON s.request_id = r.id
WHERE r.id > ? AND r.ts >= ? AND r.ts < ?
ORDER BY r.id LIMIT ?
"""


@dataclass
class Outcome:
    seen: int = 0
    attributed: int = 0
    #: requests without a Messages API body: their attribution is cleared
    skipped: int = 0


def usage_from_row(row: tuple) -> Usage | None:
    """Usage from the response columns (None when the input count is unknown)."""
    inp, out, read, created, c5, c1 = row
    if inp is None:
        return None
    return Usage(input_tokens=inp, output_tokens=out, cache_read_input_tokens=read,
                 cache_creation_input_tokens=created, cache_creation_5m=c5,
                 cache_creation_1h=c1)


def headers_dict(text: str | None) -> dict[str, str]:
    try:
        pairs = json.loads(text) if text else []
        return {str(k): str(v) for k, v in pairs}
    except (ValueError, TypeError):
        return {}


def recompute(body: Any, model: str | None, usage: Usage | None,
              headers: dict[str, str]) -> tuple[Node | None, float | None]:
    """Attribution tree and cost of one stored request, as when it was captured."""
    node = None
    if isinstance(body, dict) and ("messages" in body or "system" in body):
        node = attribute(body, usage, headers=headers)
    return node, (cost(model, usage) if model else None)


def count(store: Any, lo: str, hi: str) -> int:
    return store.conn.execute("SELECT count(*) FROM requests WHERE ts >= ? AND ts < ?",
                              (lo, hi)).fetchone()[0]


def _batches(store: Any, lo: str, hi: str, size: int) -> Iterator[list[tuple]]:
    last = ""
    while True:
        rows = store.conn.execute(_BATCH_SQL, (last, lo, hi, size)).fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def reattribute(store: Any, lo: str = "", hi: str = "9999", batch: int = 200,
                progress: Callable[[int], None] | None = None) -> Outcome:
    """Recompute attribution and cost of every request with lo <= ts < hi.

    `progress(n)` is called after each batch with the number of requests it held."""
    out = Outcome()
    for rows in _batches(store, lo, hi, batch):
        results = []
        for request_id, model, headers, stored_body, *usage_cols in rows:
            text = store.body_text(stored_body)
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = None
            node, cost_usd = recompute(body, model, usage_from_row(tuple(usage_cols)),
                                       headers_dict(headers))
            results.append((request_id, node, cost_usd))
            out.attributed += node is not None
            out.skipped += node is None
        with store.db.atomic():
            for request_id, node, cost_usd in results:
                store.set_attribution(request_id, node, cost_usd)
        out.seen += len(rows)
        if progress is not None:
            progress(len(rows))
    return out
