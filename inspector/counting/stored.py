"""Exact counts for stored requests (`claude-inspect count`), with the user's own key."""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlsplit

from inspector.counting.apply import apply_counts
from inspector.counting.cache import CountCache
from inspector.counting.client import CountClient, Credentials, Upstream
from inspector.counting.measure import measure
from inspector.counting.worker import is_messages_call
from inspector.model import Node, Usage

#: new calls one stored request may make beyond its parts of tier 0 (paced all the same)
STORED_BUDGET = 200


def usage_of(row: dict[str, Any]) -> Usage:
    return Usage.from_stored(row.get("usage"))


def count_stored(store: Any, ids: list[str], api_key: str, upstream_url: str, upstream: Upstream,
                 report: Callable[[str, str], None] = lambda i, s: None) -> int:
    """Count each request of `ids` and replace its stored tree; returns how many were."""
    from inspector.attribution import cost
    from inspector.store.exchanges import exchange_dicts

    parts = urlsplit(upstream_url)
    client = CountClient(parts.scheme, parts.hostname or "api.anthropic.com",
                         parts.port or (443 if parts.scheme == "https" else 80), upstream)
    credentials = Credentials.from_api_key(api_key)
    cache = CountCache(store.path)
    done = 0
    try:
        for request_id in ids:
            ex = exchange_dicts(store, [request_id])[0]
            req, tree = ex.get("request") or {}, ex.get("attribution")
            if not isinstance(tree, dict) or not isinstance(req.get("body"), dict) \
                    or not is_messages_call(req.get("method") or "", req.get("path") or ""):
                report(request_id, "skipped (not a Messages API request)")
                continue
            usage = usage_of(ex)
            root = Node.from_dict(tree)
            counts = measure(req["body"], root, client, cache, credentials, STORED_BUDGET)
            model = req.get("model")
            apply_counts(root, counts, usage if usage.input_tokens is not None else None, model)
            store.set_attribution(request_id, root, cost(model, usage) if model else None)
            done += 1
            summary = f"{len(counts.exact)} parts counted, {counts.calls} calls, {counts.cached} cached"
            report(request_id, summary + (f" ({'; '.join(counts.notes)})" if counts.notes else ""))
            if counts.notes and client.pacer.backing_off():
                break
    finally:
        client.close()
        cache.close()
    return done
