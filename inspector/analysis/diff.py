"""What changed between two requests' attribution trees. Pure: no I/O.

The leaves of each tree are grouped by what they are: their source (`meta["source"]`) and
kind, and for tool results the tool that produced them, so a turn after an MCP tool call
shows "tool_result mcp:github (mcp__github__get_issue)" as added rather than folding it
into the server's tool definitions. Each group is then added, grown, shrunk, dropped or
unchanged.

Calibration: when both requests' usage is known, each tree's leaves are exact shares of an
exact total, but the shares are scaled per request, so content that did not change can
show a token or two of drift. When the later request extends the earlier one (its
messages start with the earlier one's messages), the new content is exactly the difference
of the two exact totals; groups whose content did not change (same characters) get a
delta of 0 and the changed groups' deltas are scaled to add up to that exact difference.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from inspector.model import Node

ADDED, GROWN, SHRUNK, DROPPED, SAME = "added", "grown", "shrunk", "dropped", "unchanged"
#: content changed but its token share did not move
CHANGED = "changed"


@dataclass
class SourceChange:
    """One group of leaves compared across the two requests."""

    key: str
    source: str
    kind: str
    label: str
    status: str
    before_tokens: int
    after_tokens: int
    delta: int
    before_chars: int
    after_chars: int
    #: where the group's leaves live in the later (or, when dropped, earlier) request
    paths: list[str] = field(default_factory=list)


@dataclass
class TreeDiff:
    before_total: int
    after_total: int
    #: both totals are exact (from usage), not estimates
    exact: bool
    #: the later request's messages start with the earlier request's messages
    extends: bool
    #: exact token count of the new content (only when exact and extends)
    calibrated_new_tokens: int | None
    changes: list[SourceChange]
    note: str = ""

    @property
    def delta(self) -> int:
        return self.after_total - self.before_total

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["delta"] = self.delta
        return d


@dataclass
class _Group:
    source: str
    kind: str
    label: str
    tokens: int = 0
    chars: int = 0
    paths: list[str] = field(default_factory=list)


def group_key(leaf: Node) -> tuple[str, str, str, str]:
    """(key, source, kind, label) of the group a leaf belongs to."""
    meta = leaf.meta or {}
    source = meta.get("source") if isinstance(meta.get("source"), str) else None
    source = source or leaf.kind or "other"
    kind = leaf.kind or "other"
    tool = meta.get("tool") if kind == "tool_result" and isinstance(meta.get("tool"), str) else ""
    label = f"{kind} {source}" if kind not in source else source
    if tool and tool not in label:
        label += f" ({tool})"
    return f"{source}|{kind}|{tool}", source, kind, label


def group_leaves(root: Node | None) -> dict[str, _Group]:
    groups: dict[str, _Group] = {}
    if root is None:
        return groups
    for leaf in root.leaves():
        if leaf is root and not root.children and not (root.meta or {}).get("source"):
            continue  # an empty tree: nothing to compare
        key, source, kind, label = group_key(leaf)
        g = groups.get(key)
        if g is None:
            g = groups[key] = _Group(source, kind, label)
        g.tokens += leaf.tokens or 0
        g.chars += leaf.chars or 0
        if leaf.path and len(g.paths) < 5:
            g.paths.append(leaf.path)
    return groups


def _strip_cache_control(value: Any) -> Any:
    """Messages with `cache_control` markers removed: clients move the breakpoint to the
    newest message each turn, which must not count as a change of the older ones."""
    if isinstance(value, dict):
        return {k: _strip_cache_control(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_strip_cache_control(v) for v in value]
    return value


def extends(before_request: Any, after_request: Any) -> bool:
    """True when `after_request`'s messages start with all of `before_request`'s."""
    if not isinstance(before_request, dict) or not isinstance(after_request, dict):
        return False
    a, b = before_request.get("messages"), after_request.get("messages")
    if not isinstance(a, list) or not isinstance(b, list) or len(b) < len(a):
        return False
    if a == b[: len(a)]:
        return True
    return _strip_cache_control(a) == _strip_cache_control(b[: len(a)])


def _status(before: _Group | None, after: _Group | None) -> str:
    if before is None:
        return ADDED
    if after is None:
        return DROPPED
    if after.chars == before.chars and after.tokens == before.tokens:
        return SAME
    if after.chars > before.chars or (after.chars == before.chars and after.tokens > before.tokens):
        return GROWN
    return SHRUNK


def _calibrate(changes: list[SourceChange], exact_delta: int) -> None:
    """Zero the drift of unchanged content and scale the rest to the exact difference."""
    for c in changes:
        if c.before_chars == c.after_chars and c.status not in (ADDED, DROPPED):
            c.delta = 0
            c.status = SAME
    moving = [c for c in changes if c.delta]
    estimated = sum(c.delta for c in moving)
    if not moving or estimated == 0 or (estimated > 0) != (exact_delta > 0):
        return
    factor = exact_delta / estimated
    for c in moving:
        c.delta = round(c.delta * factor)
    residue = exact_delta - sum(c.delta for c in moving)
    if residue:
        max(moving, key=lambda c: abs(c.delta)).delta += residue
    for c in moving:  # e.g. only a moved cache_control marker: no tokens to speak of
        if c.delta == 0 and c.status not in (ADDED, DROPPED):
            c.status = SAME


def _settle(changes: list[SourceChange]) -> None:
    """Name each change by its final token delta, so a label never contradicts its number:
    a leaf's characters can grow while its (scaled or calibrated) share of tokens shrinks."""
    for c in changes:
        if c.status in (ADDED, DROPPED):
            continue
        if c.delta > 0:
            c.status = GROWN
        elif c.delta < 0:
            c.status = SHRUNK
        else:
            c.status = SAME if c.before_chars == c.after_chars else CHANGED


def diff_trees(before: Node | None, after: Node | None, *, exact: bool = False,
               extends_before: bool = False) -> TreeDiff:
    """Compare two attribution trees (earlier request first).

    `exact`: both trees' totals come from usage. `extends_before`: the later request
    extends the earlier one (see `extends`). Changes are sorted largest delta first."""
    g_before, g_after = group_leaves(before), group_leaves(after)
    changes = []
    for key in g_before.keys() | g_after.keys():
        b, a = g_before.get(key), g_after.get(key)
        ref = a or b
        assert ref is not None
        changes.append(SourceChange(
            key=key, source=ref.source, kind=ref.kind, label=ref.label,
            status=_status(b, a),
            before_tokens=b.tokens if b else 0, after_tokens=a.tokens if a else 0,
            delta=(a.tokens if a else 0) - (b.tokens if b else 0),
            before_chars=b.chars if b else 0, after_chars=a.chars if a else 0,
            paths=list(ref.paths),
        ))
    before_total = before.tokens if before is not None else 0
    after_total = after.tokens if after is not None else 0
    calibrated = None
    if exact and extends_before:
        calibrated = after_total - before_total
        _calibrate(changes, calibrated)
        note = (f"the later request extends the earlier one and both usages are known: "
                f"the new content is exactly {calibrated:+,} tokens (difference of the exact "
                f"prompt totals); per-source deltas are estimates scaled to it")
    elif exact:
        note = ("totals are exact; the later request does not extend the earlier one, so "
                "per-source deltas are estimates")
    else:
        note = "usage unknown for at least one request: all figures are estimates"
    _settle(changes)
    changes.sort(key=lambda c: (c.status == SAME, -abs(c.delta), c.label))
    return TreeDiff(before_total=before_total, after_total=after_total, exact=exact,
                    extends=extends_before, calibrated_new_tokens=calibrated,
                    changes=changes, note=note)
