"""Assembling the attribution tree from leaves collected in prompt order.

The walker (`tree.py`) decides what each piece of the request is; this module keeps the
leaves with their token weights and positions, notes the `cache_control` breakpoints, and
builds the nested nodes: categories in `/context` order, groups below them, MCP servers
with their tool counts, and a JSON-pointer path on every group.
"""

from __future__ import annotations

import json
import os.path
from typing import Any

from inspector.attribution import sources as S
from inspector.attribution.tokens import KIND_FACTORS, estimate_tokens_float
from inspector.model import Node


# one encoder for every call: `json.dumps` with options builds a new one each time
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def cjson(x: Any) -> str:
    """Compact JSON of x, the unit of size for non-text items."""
    try:
        return _encode(x)
    except (ValueError, TypeError, RecursionError):
        return str(x)


class TreeBuilder:
    """Collects leaves with their token weights and request order, then builds the tree."""

    def __init__(self) -> None:
        self.leaves: list[tuple[Node, float, int]] = []  # (leaf, weight, position)
        self.placement: list[tuple[str, ...]] = []
        self.breakpoints: list[int] = []
        self.position = -1

    def next_item(self, item: Any) -> int:
        """A new content item in prompt order (tools, system, messages)."""
        self.position += 1
        if isinstance(item, dict) and item.get("cache_control"):
            self.breakpoints.append(self.position)
        return self.position

    def add(self, groups: tuple[str, ...], kind: str, label: str, chars: int, weight: float,
            path: str, source: str, **meta: Any) -> Node | None:
        if chars <= 0:
            return None
        if not meta.get("deferred"):
            weight *= KIND_FACTORS.get(kind, 1.0)
        leaf = Node(kind=kind, label=label, chars=chars, path=path, meta={"source": source, **meta})
        self.leaves.append((leaf, weight, self.position))
        self.placement.append(groups)
        return leaf

    def add_text(self, text: str, segments: list[S.Segment], path: str, whole: bool) -> None:
        """Leaves for the segments of a text item (`whole`: one segment covers it all)."""
        for seg in segments:
            piece = text if whole and len(segments) == 1 else text[seg.start:seg.end]
            where = path if len(segments) == 1 else f"{path}#{seg.start}:{seg.end}"
            self.add(seg.groups, seg.kind, seg.label, seg.end - seg.start,
                     estimate_tokens_float(piece), where, seg.source)

    def build(self, label: str) -> Node:
        root = Node(kind="prompt", label=label, path="")
        index: dict[tuple[str, ...], Node] = {}
        tops: dict[str, Node] = {}
        for (leaf, _, _), groups in zip(self.leaves, self.placement):
            known = index.get(groups)
            if known is not None:
                known.children.append(leaf)
                continue
            parent = root
            for depth in range(1, len(groups) + 1):
                key = groups[:depth]
                node = index.get(key)
                if node is None:
                    kind = "category" if depth == 1 else "group"
                    if depth == 2 and groups[0] == S.MCP:
                        kind = "mcp_server"
                    node = Node(kind=kind, label=key[-1])
                    index[key] = node
                    if depth == 1:
                        tops[key[0]] = node
                    else:
                        parent.children.append(node)
                parent = node
            parent.children.append(leaf)
        order = {name: i for i, name in enumerate(S.CATEGORIES)}
        root.children = sorted(tops.values(), key=lambda n: order.get(n.label, len(order)))
        _fill_paths(root)
        mcp = tops.get(S.MCP)
        for server in mcp.children if mcp else ():
            server.meta["server"] = server.label
            server.meta["tool_count"] = sum(1 for c in server.children if c.kind == "mcp_tool")
        return root


def _fill_paths(node: Node) -> str:
    """A group's path: the longest JSON pointer shared by everything under it."""
    if not node.children:
        return node.path
    paths = [_fill_paths(c) for c in node.children]
    lo, hi = min(paths), max(paths)  # the common prefix of all is that of these two
    common = os.path.commonprefix([lo, hi]).split("#", 1)[0]
    n = len(common)
    if not all(len(p) == n or p[n] in "/#" for p in (lo, hi)):
        common = common[:common.rfind("/")] if "/" in common else ""
    node.path = common
    return common
