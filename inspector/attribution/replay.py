"""A small cache of the leaves that `tools` and `system` turn into.

Claude Code resends the same `system` and `tools` (~65 KB of an 80 KB request) on every
turn of a session, and walking them (compact JSON of each tool, a token estimate of each
piece) is about half of the attribution's time. The leaves of those two items depend on
nothing but their own content, so they are recorded once per distinct content and
replayed afterwards: fresh `Node`s with the same fields, at the same positions relative
to the item's start, with the same `cache_control` breakpoints. The tree built from
replayed leaves is identical to one built by walking (the tests compare them byte for
byte).

The key is the item's compact JSON text (the exact content, not a digest that could
collide). The cache is a bounded LRU shared by all threads, guarded by a lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from inspector.attribution.builder import TreeBuilder, cjson
from inspector.model import Node

#: distinct `tools` / `system` contents remembered (a few sessions' worth)
MAX_ENTRIES = 32
#: items smaller than this are walked every time (the key would cost about as much)
MIN_CHARS = 2048


@dataclass(frozen=True)
class _Recorded:
    #: (kind, label, chars, path, meta, weight, position offset) per leaf, in order
    leaves: tuple[tuple[str, str, int, str, dict[str, Any], float, int], ...]
    placement: tuple[tuple[str, ...], ...]
    #: breakpoints as offsets from the position before the item
    breakpoints: tuple[int, ...]
    #: how far the item moved the builder's position
    advance: int
    #: what the walk left behind for later items (tool definitions by name)
    state: tuple[tuple[str, str], ...]


_cache: OrderedDict[tuple[str, str], _Recorded] = OrderedDict()
_lock = threading.Lock()
enabled = True


def clear() -> None:
    with _lock:
        _cache.clear()


def walk_cached(kind: str, value: Any, builder: TreeBuilder, walk: Callable[[Any], None],
                state_out: dict[str, str] | None = None) -> None:
    """Feed `builder` what `walk(value)` would, from the cache when this exact content
    was walked before. `state_out` receives what the walk records for later items (the
    walker's tool definitions); only additions to it are recorded."""
    if value is None or not enabled:
        walk(value)
        return
    text = cjson(value)
    if len(text) < MIN_CHARS:
        walk(value)
        return
    key = (kind, text)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
    if hit is not None:
        _replay(hit, builder, state_out)
        return
    first_leaf, start = len(builder.leaves), builder.position
    first_break = len(builder.breakpoints)
    before = dict(state_out) if state_out is not None else {}
    walk(value)
    recorded = _Recorded(
        leaves=tuple((leaf.kind, leaf.label, leaf.chars, leaf.path, dict(leaf.meta), weight,
                      position - start)
                     for leaf, weight, position in builder.leaves[first_leaf:]),
        placement=tuple(builder.placement[first_leaf:]),
        breakpoints=tuple(b - start for b in builder.breakpoints[first_break:]),
        advance=builder.position - start,
        state=tuple((k, v) for k, v in (state_out or {}).items()
                    if k not in before or before[k] is not v),
    )
    with _lock:
        _cache[key] = recorded
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)


def _replay(rec: _Recorded, builder: TreeBuilder, state_out: dict[str, str] | None) -> None:
    start = builder.position
    append = builder.leaves.append
    for kind, label, chars, path, meta, weight, offset in rec.leaves:
        append((Node(kind=kind, label=label, chars=chars, path=path, meta=dict(meta)),
                weight, start + offset))
    builder.placement.extend(rec.placement)
    builder.breakpoints.extend(start + b for b in rec.breakpoints)
    builder.position = start + rec.advance
    if state_out is not None:
        state_out.update(rec.state)
