"""Turn-to-turn diffs of stored requests: find the previous turn, load both, compare.

The comparison itself is `diff.diff_trees` (pure); this module only reads the store.
"""

from __future__ import annotations

from typing import Any

from inspector.analysis.diff import diff_trees, extends
from inspector.model import Node
from inspector.store import get_exchange


class NoPrevious(LookupError):
    """The request has no earlier request to compare with."""


def previous_request(store: Any, request_id: str) -> str | None:
    """The request before `request_id` in its session.

    Prefers the previous request of the same model: a client's side calls (titles, quota
    checks with a small model) interleave with the main conversation and are not turns
    of it."""
    row = store.conn.execute("SELECT ts, session_id, model FROM requests WHERE id = ?",
                             (request_id,)).fetchone()
    if row is None or row[1] is None:
        return None
    ts, session, model = row
    for same_model in (True, False):
        sql = ("SELECT id FROM requests WHERE session_id = ? AND (ts < ? OR (ts = ? AND id < ?))"
               + (" AND model IS ?" if same_model else "") + " ORDER BY ts DESC, id DESC LIMIT 1")
        params: list[Any] = [session, ts, ts, request_id] + ([model] if same_model else [])
        found = store.conn.execute(sql, params).fetchone()
        if found:
            return found[0]
    return None


def _exact(exchange: dict[str, Any]) -> bool:
    return (exchange.get("usage") or {}).get("input_tokens") is not None


def diff_exchanges(store: Any, id_prefix: str, other_prefix: str | None = None) -> dict[str, Any]:
    """The diff between a request and the previous one of its session (or `other`).

    The earlier of the two (by time) is the "before" side. Raises the store's NotFound or
    AmbiguousId for bad prefixes, NoPrevious when there is nothing to compare with."""
    if other_prefix is None:
        # the previous request is looked for before this one is read: the first request
        # of a session (nothing to compare with) costs no parse of its megabyte body
        full = store.resolve_id(id_prefix)  # AmbiguousId here; NotFound from get_exchange
        prev_id = previous_request(store, full) if full is not None else None
        if full is not None and prev_id is None:
            raise NoPrevious(f"{full} has no earlier request in its session; "
                             "name the other request: diff ID OTHER")
        this = get_exchange(store, id_prefix)
        other = get_exchange(store, prev_id)
    else:
        this = get_exchange(store, id_prefix)
        other = get_exchange(store, other_prefix)
    before, after = sorted([other, this], key=lambda e: (e["ts"], e["id"]))
    b_tree, a_tree = before.get("attribution"), after.get("attribution")
    result = diff_trees(
        Node.from_dict(b_tree) if b_tree else None,
        Node.from_dict(a_tree) if a_tree else None,
        exact=_exact(before) and _exact(after) and bool(b_tree) and bool(a_tree),
        extends_before=extends(before["request"].get("body"), after["request"].get("body")),
    ).to_dict()
    result["before_id"], result["after_id"] = before["id"], after["id"]
    return result
