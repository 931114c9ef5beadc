"""Why the prompt cache broke: compare a request with the previous one of its chain.

A request that reads less from the cache than the previous request of its chain had
cached (read + written) lost part of its prefix. The cause, in order of precedence:

* the model changed (each model has its own cache);
* the gap since the previous reply is longer than the cache's TTL (5 minutes, or an hour
  when the previous request asked for it);
* a block of the cached prefix changed: the first one, in the order the API caches
  (tools, system, messages), comparing blocks without their `cache_control` markers (the
  client moves those every turn). The source is the new request's attribution leaf that
  holds the first differing character: an edited CLAUDE.md inside a reminder names
  `memory:<path>`, a changed MCP tool description `mcp:<server>`;
* the `anthropic-beta` header or the thinking / effort settings changed;
* none of these: the entry was evicted, reported as `unexplained`.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from inspector.analysis.findings.model import Finding
from inspector.analysis.findings.threads import Turn
from inspector.attribution.pricing import PER_MILLION, price_for
from inspector.model import Node

#: a shortfall smaller than this is not a break: the API caches nothing shorter, and
#: thinking it drops from old turns makes small differences on every new user turn
MIN_BREAK_TOKENS = 1024
TTL_5M = 300.0
TTL_1H = 3600.0

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


class Block:
    """One cacheable block: where it is, what it holds (its marker aside)."""

    __slots__ = ("pointer", "tag", "value", "text", "marked", "ttl")

    def __init__(self, pointer: str, tag: str, value: Any, text: str | None,
                 marker: Any) -> None:
        self.pointer = pointer
        self.tag = tag
        self.value = value
        self.text = text
        self.marked = bool(marker)
        self.ttl = TTL_1H if isinstance(marker, dict) and marker.get("ttl") == "1h" else TTL_5M

    def same(self, other: Block) -> bool:
        """Whether the cache sees the same block: the same JSON, its marker aside (the
        client moves markers every turn). Compared in place, not encoded: a long
        session's requests repeat hundreds of blocks each."""
        a, b = self.value, other.value
        if self.tag != other.tag:
            return False
        if a is b:
            return True
        if type(a) is dict and type(b) is dict:
            keys = [k for k in a if k != "cache_control"]
            return keys == [k for k in b if k != "cache_control"] and all(
                _same(a[k], b[k]) for k in keys)
        return _same(a, b)


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON text is: dict keys in the same order, 1 not 1.0 nor True."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


def blocks(body: dict[str, Any]) -> list[Block]:
    """The request's blocks in the order the API caches them."""
    out: list[Block] = []

    def add(pointer: str, tag: str, block: Any, text: str | None = None) -> None:
        marker = None
        if isinstance(block, dict):
            marker = block.get("cache_control")
            if text is None and block.get("type") == "text" and isinstance(block.get("text"), str):
                text = block["text"]
        out.append(Block(pointer, tag, block, text, marker))

    tools = body.get("tools")
    for i, tool in enumerate(tools if isinstance(tools, list) else ()):
        add(f"/tools/{i}", "tool:", tool)
    system = body.get("system")
    if isinstance(system, str):
        add("/system", "system:", system, system)
    elif isinstance(system, list):
        for j, block in enumerate(system):
            add(f"/system/{j}", "system:", block)
    for k, msg in enumerate(body.get("messages") or []):
        if not isinstance(msg, dict):
            add(f"/messages/{k}", "message:", msg)
            continue
        role = f"{msg.get('role')}:"
        content = msg.get("content")
        if isinstance(content, list):
            for m, block in enumerate(content):
                add(f"/messages/{k}/content/{m}", role, block)
        else:
            add(f"/messages/{k}/content", role, content,
                content if isinstance(content, str) else None)
    return out


def first_change(before: list[Block], after: list[Block]) -> tuple[int, int] | None:
    """(block index, character offset) of the first difference inside the prefix the
    earlier request cached (up to its last breakpoint); None when that prefix is intact.
    The offset counts in the block's text when both are text, else in its JSON."""
    marks = [i for i, b in enumerate(before) if b.marked]
    if not marks:
        return None
    for i in range(marks[-1] + 1):
        old = before[i]
        if i >= len(after):
            return i, 0
        new = after[i]
        if old.same(new):
            continue
        if old.text is not None and new.text is not None and old.pointer == new.pointer:
            return i, _common_prefix(old.text, new.text)
        return i, 0
    return None


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:  # binary search on equal prefixes: long texts differ late
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def leaf_at(tree: Node | None, pointer: str, offset: int) -> Node | None:
    """The leaf of `tree` covering character `offset` of the block at `pointer`."""
    if tree is None:
        return None
    inside = []
    for leaf in tree.leaves():
        base, _, span = leaf.path.partition("#")
        if base == pointer or base.startswith(pointer + "/"):
            inside.append((leaf, span))
    for leaf, span in inside:
        if span:
            a, _, b = span.partition(":")
            if a.isdigit() and b.isdigit() and int(a) <= offset < int(b):
                return leaf
    return inside[0][0] if inside else None


def _ttl(old: list[Block]) -> float:
    """The life of the request's longest cached prefix (its last breakpoint's)."""
    marks = [b.ttl for b in old if b.marked]
    return marks[-1] if marks else TTL_5M


def _thinking(body: dict[str, Any]) -> str:
    effort = (body.get("output_config") or {}).get("effort") if isinstance(
        body.get("output_config"), dict) else None
    return _encode([body.get("thinking"), effort])


def _cause(before: Turn, after: Turn, old: list[Block], new: list[Block]) -> tuple[str, str]:
    """(source, detail) of the break between two consecutive requests of a chain, whose
    blocks are `old` and `new`."""
    if before.model != after.model:
        return "model", f"model changed from {before.model} to {after.model}"
    ended = before.t + (before.total_ms or 0) / 1000.0
    gap, ttl = after.t - ended, _ttl(old)
    if gap > ttl:
        return "ttl", (f"{gap / 60:.1f} min since the previous reply; the cache lives "
                       f"{ttl / 60:.0f} min")
    change = first_change(old, new)
    if change is not None:
        i, offset = change
        # a block missing from its section (an MCP server gone) is named by the request
        # that still had it
        removed = i >= len(new) or new[i].pointer != old[i].pointer
        leaf = leaf_at(before.tree if removed else after.tree, old[i].pointer, offset)
        source = (leaf.meta.get("source") if leaf is not None else None) or old[i].pointer
        what = f"{leaf.label} ({old[i].pointer})" if leaf is not None else old[i].pointer
        verb = "removed from" if removed else "changed in"
        return source, f"{what} {verb} the cached prefix"
    if before.headers.get("anthropic-beta", "") != after.headers.get("anthropic-beta", ""):
        return "anthropic-beta", "the anthropic-beta header changed"
    if _thinking(before.body) != _thinking(after.body):
        return "thinking", "the thinking or effort settings changed"
    return "unexplained", "nothing in the prefix changed: the cache entry was evicted"


def cache_breaks(chain: list[Turn]) -> Iterator[Finding]:
    """Cache breaks along one chain (its turns oldest first)."""
    last: tuple[str | None, list[Block]] = (None, [])  # a request's blocks, kept for its next pair
    for before, after in zip(chain, chain[1:]):
        had = before.cached
        read = after.usage.cache_read_input_tokens or 0
        lost = had - read
        if not broke(had, after):
            continue
        old = last[1] if last[0] == before.id else blocks(before.body)
        new = blocks(after.body)
        last = (after.id, new)
        source, why = _cause(before, after, old, new)
        created = after.usage.cache_creation_input_tokens or 0
        fresh = after.usage.input_tokens or 0
        tokens = max(0, min(lost, created + fresh))
        yield Finding(
            kind="cache_break", request_id=after.id, session_id=after.session_id,
            source=source, tokens=tokens, cost_usd=_extra_cost(after, tokens),
            detail=(f"{why}; read {read:,} of the {had:,} tokens the previous request "
                    f"({before.id[:10]}) cached"))


def broke(had: int, after: Turn) -> bool:
    """Whether `after` broke the cache: it read much less than the `had` tokens the
    previous request of its chain left there (the table's marks ask only this)."""
    lost = had - (after.usage.cache_read_input_tokens or 0)
    return had > 0 and lost >= MIN_BREAK_TOKENS


def _extra_cost(turn: Turn, tokens: int) -> float | None:
    """What writing `tokens` again cost over reading them from the cache."""
    price = price_for(turn.model)
    if price is None:
        return None
    u = turn.usage
    if (u.cache_creation_input_tokens or 0) <= 0:
        rate = price.input
    elif (u.cache_creation_1h or 0) > (u.cache_creation_5m or 0):
        rate = price.cache_write_1h
    else:
        rate = price.cache_write_5m
    return round(tokens * (rate - price.cache_read) / PER_MILLION, 6)
