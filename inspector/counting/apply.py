"""Put the API's counts into an attribution tree.

* A leaf whose part was measured gets its count, `estimated: false` and
  `meta["counted"] = "api"`; a group whose children all are exact is exact too.
* Leaves of a turn whose total was counted, but that were not measured one by one, share
  that total (minus the turn's measured leaves) by their estimates.
* What the request's full count holds beyond its parts (the tool-use preamble, system
  and message framing) becomes a node of kind `overhead`.
* Leaves still estimated share what remains of the billed usage, so the leaves sum to it
  exactly; a negative remainder is clipped to zero and said in `meta["exact"]["note"]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inspector.attribution.tokens import largest_remainder
from inspector.model import Node, Usage

OVERHEAD_LABEL = "Tool-use preamble and framing"


@dataclass
class Counts:
    """What the API said about one request."""

    exact: dict[str, int] = field(default_factory=dict)
    #: (first message, end message, exact total of those messages)
    turns: list[tuple[int, int, int]] = field(default_factory=list)
    full: int | None = None
    calls: int = 0
    cached: int = 0
    notes: list[str] = field(default_factory=list)


def apply_counts(root: Node, counts: Counts, usage: Usage | None, model: str | None = None) -> Node:
    """Change `root` in place (and return it) to carry `counts`."""
    root.children = [c for c in root.children if c.kind != "overhead"]
    leaves = list(root.leaves()) if root.children else []
    seen: dict[str, int] = {}
    for leaf in leaves:
        seen[leaf.path] = seen.get(leaf.path, 0) + 1
    exact, turned, free = [], {}, []
    for leaf in leaves:
        if leaf.path in counts.exact and seen[leaf.path] == 1:
            leaf.tokens = max(counts.exact[leaf.path], 0)
            leaf.estimated = False
            leaf.meta["counted"] = "api"
            exact.append(leaf)
            continue
        leaf.estimated = True
        leaf.meta.pop("counted", None)
        turn = _turn_of(leaf.path, counts.turns)
        if turn is not None:
            turned.setdefault(turn, []).append(leaf)
        else:
            free.append(leaf)
    notes = list(counts.notes)
    for turn in counts.turns:
        start, end, total = turn
        inside = [x for x in exact if _turn_of(x.path, [turn]) is not None]
        left = total - sum(x.tokens for x in inside)
        group = turned.get(turn, [])
        if group:
            if left < 0:
                notes.append(f"messages {start}-{end - 1}: parts exceed the turn's count by {-left}")
            _share(group, max(left, 0))
            for leaf in group:
                leaf.meta["share_of"] = "a turn counted by the API"
    counted = sum(x.tokens for x in exact) + sum(x.tokens for g in turned.values() for x in g)
    guessed = sum(x.tokens for x in free)
    overhead = None
    if counts.full is not None:
        overhead = counts.full - counted - guessed
        if overhead < 0:
            notes.append(f"parts exceed the request's count by {-overhead}")
            overhead = 0
    billed = usage.prompt_tokens if usage is not None else None
    if billed is not None:
        left = billed - counted - (overhead or 0)
        if free:
            if left < 0:
                notes.append(f"counted parts exceed billed usage by {-left}; estimates clipped to 0")
            _share(free, max(left, 0))
        elif overhead is not None:
            overhead += left
            if overhead < 0:
                notes.append(f"counted parts exceed billed usage by {-overhead}")
                overhead = 0
    if overhead is not None:
        # exact only when every part was counted; else it carries the guesses' error
        root.children.append(Node(kind="overhead", label=OVERHEAD_LABEL, tokens=overhead,
                                  estimated=bool(free), cached=any(x.cached for x in leaves),
                                  meta={"counted": "api", "source": "overhead"} if not free
                                  else {"source": "overhead"}))
    _sum_up(root)
    root.estimated = billed is None and counts.full is None
    if billed is None and counts.full is not None:
        root.tokens = sum(x.tokens for x in root.leaves())
    if model:
        from inspector.attribution.pricing import node_costs

        node_costs(root, model, usage)
    root.meta["exact"] = {"parts": len(exact), "calls": counts.calls, "cached": counts.cached,
                          "full_count": counts.full}
    if notes:
        root.meta["exact"]["note"] = "; ".join(notes)
    root.meta["used"] = root.tokens
    return root


def _turn_of(path: str, turns: list[tuple[int, int, int]]) -> tuple[int, int, int] | None:
    if not path.startswith("/messages/"):
        return None
    index = path.split("/")[2].split("#")[0]
    if not index.isdigit():
        return None
    m = int(index)
    for turn in turns:
        if turn[0] <= m < turn[1]:
            return turn
    return None


def _share(leaves: list[Node], total: int) -> None:
    """Largest-remainder shares of `total`, in proportion to the leaves' estimates."""
    weights = [max(x.tokens, 0) for x in leaves]
    if sum(weights) <= 0:
        weights = [max(x.chars, 1) for x in leaves]
    for leaf, n in zip(leaves, largest_remainder(weights, total)):
        leaf.tokens = n


def _sum_up(node: Node) -> None:
    if not node.children:
        return
    for child in node.children:
        _sum_up(child)
    node.tokens = sum(c.tokens for c in node.children)
    node.chars = sum(c.chars for c in node.children)
    node.estimated = any(c.estimated for c in node.children)
    if not node.estimated:
        node.meta["counted"] = "api"
    else:
        node.meta.pop("counted", None)


def tree_summary(root: dict[str, Any]) -> str | None:
    """One line on how a stored tree was counted, or None when it was not."""
    info = (root.get("meta") or {}).get("exact")
    if not isinstance(info, dict):
        return None
    line = f"{info.get('parts', 0)} parts counted by the API"
    if info.get("note"):
        line += f" ({info['note']})"
    return line
