"""Claude Code's `/context`, audited.

`/context` asks count_tokens about each item, e.g. one call per MCP tool with that tool
alone, so each figure carries the whole tool-use preamble. Those calls pass through the
proxy and are recorded like any exchange of the client. `annotate` finds the ones made
near a request (within `WINDOW`) and puts what `/context` claimed for each tool in that
tool's node (`meta["context_claimed"]`) and each MCP server's sum in the server's node,
beside the figure measured for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

COUNT_PATH = "/v1/messages/count_tokens"
WINDOW = timedelta(hours=1)


def claim_of(body: Any, reply: Any) -> tuple[str, int] | None:
    """(tool name, tokens) for a count call about one tool alone, else None."""
    if not isinstance(body, dict) or not isinstance(reply, dict):
        return None
    tools, tokens = body.get("tools"), reply.get("input_tokens")
    if not isinstance(tokens, int) or not isinstance(tools, list) or len(tools) != 1:
        return None
    name = tools[0].get("name") if isinstance(tools[0], dict) else None
    return (name, tokens) if isinstance(name, str) else None


def claims_near(store: Any, ts: str) -> dict[str, int]:
    """Tool name -> tokens /context claimed, from count calls within WINDOW of `ts`
    (the call nearest in time wins)."""
    from inspector.store.exchanges import exchange_dicts

    try:
        at = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return {}
    lo = (at - WINDOW).strftime("%Y-%m-%dT%H:%M:%S")
    hi = (at + WINDOW).strftime("%Y-%m-%dT%H:%M:%S")
    ids = [r[0] for r in store.execute(
        "SELECT id FROM requests WHERE path LIKE ? AND ts >= ? AND ts <= ? ORDER BY ts",
        (COUNT_PATH + "%", lo, hi))]
    found: dict[str, tuple[float, int]] = {}
    for ex in exchange_dicts(store, ids) if ids else []:
        claim = claim_of((ex.get("request") or {}).get("body"), (ex.get("response") or {}).get("body"))
        if claim is None:
            continue
        try:
            gap = abs((datetime.fromisoformat(ex["ts"].replace("Z", "+00:00")) - at).total_seconds())
        except (KeyError, AttributeError, ValueError):
            continue
        if claim[0] not in found or gap < found[claim[0]][0]:
            found[claim[0]] = (gap, claim[1])
    return {name: tokens for name, (_, tokens) in found.items()}


def annotate(store: Any, exchange: dict[str, Any]) -> int:
    """Put /context's claims into `exchange["attribution"]`; returns how many nodes."""
    root = exchange.get("attribution")
    path = str((exchange.get("request") or {}).get("path") or "")
    if not isinstance(root, dict) or path.startswith(COUNT_PATH):
        return 0
    claims = claims_near(store, exchange.get("ts") or "")
    if not claims:
        return 0
    return _mark(root, claims)[1]


def _mark(node: dict[str, Any], claims: dict[str, int]) -> tuple[int, int]:
    """(claimed sum below, nodes marked)."""
    meta = node.setdefault("meta", {})
    children = node.get("children") or []
    if not children:
        tool = meta.get("tool")
        if node.get("kind") in ("tool", "mcp_tool") and tool in claims:
            meta["context_claimed"] = claims[tool]
            return claims[tool], 1
        return 0, 0
    total = marked = 0
    for child in children:
        t, m = _mark(child, claims)
        total, marked = total + t, marked + m
    if node.get("kind") == "mcp_server" and total:
        meta["context_claimed"] = total
        marked += 1
    return total, marked
