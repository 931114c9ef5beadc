"""Context attribution: which source fills how much of a request's prompt.

Pure code: a request (and, when known, the response's usage) in, a tree of `Node`s out.
The public API is four names:

* `attribute(request_json, usage=None, headers=None) -> Node`
* `estimate_tokens(text) -> int`
* `cost(model, usage) -> float | None`
* `price_for(model) -> Price | None`

The tree's top level uses Claude Code's `/context` categories (System prompt, System tools,
MCP tools, Custom agents, Memory files, Skills, Messages, plus `other`); every leaf carries
`meta["source"]`, a stable grouping key for statistics ("tool:Bash", "mcp:github",
"memory:/repo/CLAUDE.md", "skill:pdf", "user", ...). See `tree.py` for the exact definition
of the content size that the leaves share out.

Node kinds: "prompt" (root), "category" (top level), "mcp_server" (one per MCP server, with
`meta["server"]` and `meta["tool_count"]`), "group"; leaves: "system_block", "tool",
"tool_loaded", "deferred_tools", "deferred_tool", "mcp_tool", "mcp_tool_loaded",
"mcp_instructions", "mcp_connecting", "agent", "memory", "skill", "skill_body", "reminder",
"hook", "harness", "user", "assistant_text", "thinking", "tool_call", "tool_result", "image",
"document", "other", and "unknown" for a section, reminder or body field this version does
not recognise (source "unknown:section", "unknown:reminder" or "unknown:field"; the root's
`meta["unknown"]` counts them by source, so a new Claude Code's changes show). Leaves may carry `meta["tool"]` (full tool
name), `meta["deferred"]` (a tool sent with defer_loading) and `meta["stripped"]` (thinking
the API drops from context). The root's meta holds "model", "context_window", "used",
"used_fraction", "content_chars", "envelope_chars", "estimated_tokens", and when the model
is priced "cost_usd" (prompt cost, shared over every node) and "request_cost_usd", with
"price_assumed" and "priced_as" (a family) when the table does not know the model itself.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from inspector.attribution.pricing import cost, node_costs, price_for
from inspector.attribution.tokens import estimate_tokens, largest_remainder
from inspector.attribution.builder import TreeBuilder, cjson
from inspector.attribution.tree import ENVELOPE_KEYS, RequestWalker
from inspector.model import Node, Usage

__all__ = ["attribute", "estimate_tokens", "cost", "price_for", "node_costs"]

log = logging.getLogger(__name__)

DEFAULT_WINDOW = 200_000
LONG_WINDOW = 1_000_000


def attribute(request_json: Any, usage: Usage | None = None,
              headers: dict[str, str] | None = None) -> Node:
    """The attribution tree of one request. Never raises: odd input becomes `other`.

    `request_json` is the parsed body (a JSON string or bytes are parsed here; text that
    is not JSON becomes one `other` leaf). With `usage`, the exact prompt total
    (input + cache read + cache creation) is shared over the leaves in proportion to their
    estimated tokens, so leaves sum to it exactly. `headers` (any case) tell the context
    window: 1M when `anthropic-beta` carries a context-1m flag.
    """
    try:
        return _attribute(request_json, usage, headers)
    except Exception:  # a bug here must never lose the capture that asked for it
        log.exception("attribution failed; reporting the request as other")
        text = request_json if isinstance(request_json, str) else cjson(request_json)
        root = Node(kind="prompt", label="request", chars=len(text), path="")
        root.children.append(Node(kind="other", label="unattributed", chars=len(text),
                                  tokens=estimate_tokens(text), path="", meta={"source": "other"}))
        root.tokens = root.children[0].tokens
        return root


def _parse(request_json: Any) -> Any:
    if isinstance(request_json, (bytes, bytearray, memoryview)):
        request_json = bytes(request_json).decode("utf-8", "replace")
    if isinstance(request_json, str):
        try:
            return json.loads(request_json)
        except (ValueError, RecursionError):
            return request_json
    return request_json


def _attribute(request_json: Any, usage: Usage | None, headers: dict[str, str] | None) -> Node:
    req = _parse(request_json)
    builder = TreeBuilder()
    model = None
    envelope = 0
    if isinstance(req, dict):
        model = req.get("model") if isinstance(req.get("model"), str) else None
        RequestWalker(req, builder).walk()
        envelope = sum(len(cjson(v)) for k, v in req.items() if k in ENVELOPE_KEYS)
    else:
        builder.next_item(None)
        text = req if isinstance(req, str) else cjson(req)
        label = "not JSON" if isinstance(req, str) else f"not an object ({type(req).__name__})"
        builder.add(("other",), "other", label, len(text), float(estimate_tokens(text)), "", "other")
    root = builder.build(model or "request")
    total = usage.prompt_tokens if usage is not None else None
    _share_tokens(builder, total)
    _sum_up(root)
    if not root.children and total is not None:
        root.tokens = total  # no content at all: the root is the only leaf
    root.estimated = total is None
    _mark_cached(builder, usage)
    _roll_up_cached(root)
    unknown: dict[str, int] = {}
    for leaf, _, _ in builder.leaves:
        if leaf.kind == "unknown":
            unknown[leaf.meta["source"]] = unknown.get(leaf.meta["source"], 0) + 1
    if unknown:
        root.meta["unknown"] = unknown
    window = context_window(headers, model)
    root.meta.update({
        "model": model,
        "content_chars": root.chars,
        "envelope_chars": envelope,
        "estimated_tokens": round(sum(w for _, w, _ in builder.leaves)),
        "context_window": window,
        "used": root.tokens,
        "used_fraction": root.tokens / window,
    })
    if model and node_costs(root, model, usage):
        root.meta["request_cost_usd"] = cost(model, usage)
        price = price_for(model)
        if price is not None and price.assumed:
            root.meta["price_assumed"] = True
            root.meta["priced_as"] = price.family
    return root


#: model ids whose context window is 1M tokens without a beta header
_NATIVE_1M = re.compile(r"(?:opus|sonnet|haiku|fable)-(?:[5-9]|\d\d)(?!\d)")


def context_window(headers: dict[str, str] | None, model: str | None = None) -> int:
    """200k tokens, or 1M when the request opted into the long context beta or the model
    has it natively (the 5.x generation: Opus, Sonnet, Haiku and Fable 5 and later)."""
    if model and _NATIVE_1M.search(model.lower()):
        return LONG_WINDOW
    beta = ""
    for k, v in (headers or {}).items():
        if isinstance(k, str) and k.lower() == "anthropic-beta" and isinstance(v, str):
            beta += "," + v.lower()
    if "context-1m" in beta or (model and "[1m]" in model.lower()):
        return LONG_WINDOW
    return DEFAULT_WINDOW


def _share_tokens(builder: TreeBuilder, total: int | None) -> None:
    """Give each leaf its tokens: its rounded estimate, or with an exact `total` a
    largest-remainder share of it so the leaves sum to `total` exactly."""
    leaves = builder.leaves
    if total is None:
        for leaf, weight, _ in leaves:
            leaf.tokens = max(1, round(weight)) if weight > 0 else 0
        return
    if not leaves:
        return
    weights = [max(w, 0.0) for _, w, _ in leaves]
    if sum(weights) <= 0:
        weights = [float(leaf.chars) or 1.0 for leaf, _, _ in leaves]
    for (leaf, _, _), n in zip(leaves, largest_remainder(weights, total)):
        leaf.tokens = n


def _sum_up(node: Node) -> None:
    if not node.children:
        return
    for child in node.children:
        _sum_up(child)
    node.chars = sum(c.chars for c in node.children)
    node.tokens = sum(c.tokens for c in node.children)


def _roll_up_cached(node: Node) -> bool:
    """A parent is cached when all of its children are."""
    if node.children:
        flags = [_roll_up_cached(c) for c in node.children]
        node.cached = all(flags)
    return node.cached


def _mark_cached(builder: TreeBuilder, usage: Usage | None) -> None:
    """Mark leaves read from the prompt cache.

    The cache covers a prefix of the prompt in the order tools, system, messages, ending
    at a `cache_control` breakpoint. A leaf counts as cached when it lies before the last
    breakpoint and its middle falls within the first `cache_read_input_tokens` tokens:
    the usage says how much was read, and a breakpoint moved to the newest message must
    not mark that message as read before it was ever written.
    """
    read = (usage.cache_read_input_tokens or 0) if usage is not None else 0
    if read <= 0 or not builder.breakpoints:
        return
    last = builder.breakpoints[-1]
    ordered = sorted(range(len(builder.leaves)), key=lambda i: builder.leaves[i][2])
    seen = 0
    for i in ordered:
        leaf, _, position = builder.leaves[i]
        if position > last or seen + leaf.tokens / 2 > read:
            break
        leaf.cached = True
        seen += leaf.tokens
