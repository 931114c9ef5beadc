"""Run a plan: take counts from the cache or the API, within a budget.

Tier 0 (tools, system blocks, the first user turn's parts) and the request's full count
are always asked for; the turns' totals, newest first, then later turns' blocks, largest
first, only while fewer than `budget` new calls were made. On a next turn of a session
the tools, the system and the earlier turns are all in the cache, so it costs the full
count, its newest turn, and at most two of its blocks: four calls.
A 429, a server or network error or refused credentials stop the request's counting
(and back off): what was counted is kept, the rest stays estimated, and `Counts.notes`
says why. A count refused as invalid loses only that part.
"""

from __future__ import annotations

import threading
from typing import Any

from inspector.counting.apply import Counts
from inspector.counting.cache import CountCache
from inspector.counting.client import CountClient, CountError, Credentials, RateLimited
from inspector.counting.plan import make_plan
from inspector.model import Node

#: new calls allowed beyond tier 0 and the full count
DEFAULT_BUDGET = 3


def leaf_paths(root: Node) -> list[tuple[str, float]]:
    return [(leaf.path, float(leaf.tokens)) for leaf in root.leaves() if leaf.path]


def measure(request: dict[str, Any], root: Node, client: CountClient, cache: CountCache,
            credentials: Credentials, budget: int = DEFAULT_BUDGET,
            stop: threading.Event | None = None) -> Counts:
    plan = make_plan(request, leaf_paths(root))
    counts = Counts()
    spent = 0

    def count(body: dict[str, Any] | None, extra: bool) -> int | None:
        nonlocal spent
        if body is None:
            return 0
        hit = cache.get(body)
        if hit is not None:
            counts.cached += 1
            return hit
        if extra and spent >= budget:
            return None
        value = client.count(body, credentials, stop)
        counts.calls += 1
        if extra:
            spent += 1
        cache.put(body, value)
        return value

    def pair(plus: dict[str, Any], minus: dict[str, Any] | None, extra: bool) -> int | None:
        if extra:  # both sides within the budget, or neither
            new = sum(1 for b in (plus, minus) if b is not None and cache.get(b) is None)
            if spent + new > budget:
                return None
        a = count(plus, extra)
        b = count(minus, extra) if a is not None else None
        return None if a is None or b is None else a - b

    def take(plus: dict[str, Any], minus: dict[str, Any] | None, extra: bool) -> int | None:
        try:
            return pair(plus, minus, extra)
        except RateLimited:
            raise
        except CountError as e:  # this part could not be counted; the others may
            if len(counts.notes) < 3:
                counts.notes.append(str(e))
            return None

    try:
        counts.full = take(plan.full, None, False)
        for m in plan.measures:
            if m.tier == 0:
                value = take(m.plus, m.minus, False)
                if value is not None:
                    counts.exact[m.path] = value
        for anchor in reversed(plan.anchors):
            value = take(anchor.plus, anchor.minus, True)
            if value is not None:
                counts.turns.append((anchor.start, anchor.end, value))
        for m in sorted((m for m in plan.measures if m.tier > 0), key=lambda m: -m.weight):
            value = take(m.plus, m.minus, True)
            if value is not None:
                counts.exact[m.path] = value
    except RateLimited as e:
        pause = f"; backing off {e.retry_after:.0f} s" if e.retry_after > 0 else ""
        counts.notes.append(f"{e}{pause}; the rest stays estimated")
    counts.turns.sort()
    return counts
