"""What prompt caching saved and cost: per group of `stats` and for the whole period.

A cache read is billed at a fraction of the input price: `cache_saved_usd` is what the
period's cache reads would have cost more as plain input. A cache write is billed above
it (1.25x for 5 minutes, 2x for an hour): `cache_write_extra_usd` is that surcharge. Their
difference is what caching saved on balance. Each model's own prices are used (a write
whose 5-minute / 1-hour split is not known counts as 5-minute); a model without a known
price adds nothing, and figures stay None when no model of the group is priced.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Callable

from inspector.attribution.pricing import Price, price_for, write_split
from inspector.model import Usage

PER_MILLION = 1_000_000.0

_BY_MODEL = """
SELECT {key} AS key, r.model,
       SUM(COALESCE(s.cache_read_tokens, 0)),
       SUM(COALESCE(s.cache_creation_1h_tokens, 0)),
       SUM(COALESCE(s.cache_creation_tokens, 0))
FROM requests r JOIN responses s ON s.request_id = r.id
WHERE r.ts >= ? AND r.ts < ? AND s.input_tokens IS NOT NULL
GROUP BY key, r.model
"""


def effect(price: Price, read: int, written_5m: int, written_1h: int) -> tuple[float, float]:
    """(saved, extra): what `read` cache-read tokens cost less than plain input, and what
    the writes cost more, at `price`."""
    saved = read * (price.input - price.cache_read) / PER_MILLION
    extra = (written_5m * (price.cache_write_5m - price.input)
             + written_1h * (price.cache_write_1h - price.input)) / PER_MILLION
    return saved, extra


def request_effect(model: Any, usage: Usage | None) -> tuple[float, float] | None:
    """(saved, extra) of one request, at the rates it was billed (long context or not);
    None when its model or usage is unknown."""
    price = price_for(model)
    if price is None or usage is None or usage.input_tokens is None:
        return None
    return effect(price.for_usage(usage), usage.cache_read_input_tokens or 0,
                  *write_split(usage))


def describe(saved: float, extra: float, money: Callable[[float], str]) -> tuple[str, str]:
    """(headline, detail) of a request's caching effect in words, dollars by `money`:
    ("saved $0.059", "reads $0.060 under the uncached price, writes $0.0001 over it")."""
    net = saved - extra
    headline = f"saved {money(net)}" if net >= 0 else f"cost {money(-net)} more"
    reads = f"reads {money(saved)} under the uncached price" if saved else ""
    writes = (f"writes {money(extra)} over {'it' if reads else 'the uncached price'}"
              if extra else "")
    return headline, ", ".join(p for p in (reads, writes) if p)


def _figures(model: str | None, read: int, written_1h: int, written: int
             ) -> tuple[float, float] | None:
    price = price_for(model) if model else None
    if price is None:
        return None
    return effect(price, read, max(written - written_1h, 0), written_1h)


def cache_money(conn: sqlite3.Connection, lo: str, hi: str, key: str | None
                ) -> dict[Any, dict[str, float | None]]:
    """{group key: {"cache_saved_usd", "cache_write_extra_usd"}} for the requests of
    [lo, hi) grouped by the SQL expression `key` (None: one group, keyed None)."""
    out: dict[Any, dict[str, float | None]] = {}
    sql = _BY_MODEL.format(key=key or "NULL")
    for group, model, read, written_1h, written in conn.execute(sql, (lo, hi)):
        entry = out.setdefault(group, {"cache_saved_usd": None, "cache_write_extra_usd": None})
        figures = _figures(model, read or 0, written_1h or 0, written or 0)
        if figures is None:
            continue
        entry["cache_saved_usd"] = (entry["cache_saved_usd"] or 0.0) + figures[0]
        entry["cache_write_extra_usd"] = (entry["cache_write_extra_usd"] or 0.0) + figures[1]
    return out
