"""The cache of `tools`/`system` leaves changes nothing: trees are byte-for-byte those of
an uncached walk, whatever comes before or around the cached items."""

from __future__ import annotations

import copy
import json

import pytest

from inspector.attribution import attribute, replay
from inspector.demo.traffic import demo_session
from inspector.model import Usage


def _dump(node) -> str:
    return json.dumps(node.to_dict(), sort_keys=True)


def _usage(turn) -> Usage:
    u = turn.response["usage"]
    return Usage(input_tokens=u["input_tokens"], output_tokens=u["output_tokens"],
                 cache_read_input_tokens=u["cache_read_input_tokens"],
                 cache_creation_input_tokens=u["cache_creation_input_tokens"])


@pytest.fixture
def fresh_cache():
    replay.clear()
    yield
    replay.enabled = True
    replay.clear()


def _uncached(request, usage, headers):
    replay.enabled = False
    try:
        return _dump(attribute(request, usage, headers=headers))
    finally:
        replay.enabled = True


def test_cached_trees_equal_uncached_over_sessions(fresh_cache):
    turns = demo_session(seed=5, turns=10) + demo_session(seed=6, turns=4)
    for turn in turns:
        usage = _usage(turn)
        want = _uncached(turn.request, usage, turn.headers)
        first = _dump(attribute(turn.request, usage, headers=turn.headers))
        again = _dump(attribute(turn.request, usage, headers=turn.headers))
        assert first == want and again == want
        assert _dump(attribute(turn.request, None)) == _uncached(turn.request, None, None)
    # the cache was actually used: one entry per distinct tools/system content
    assert 0 < len(replay._cache) <= 4


def test_replayed_leaves_are_fresh_nodes(fresh_cache):
    turn = demo_session(seed=2, turns=1)[0]
    a = attribute(turn.request, _usage(turn))
    b = attribute(turn.request, _usage(turn))
    leaves_a, leaves_b = list(a.leaves()), list(b.leaves())
    assert all(x is not y and x.meta is not y.meta for x, y in zip(leaves_a, leaves_b))
    # mutating one tree (costs, tokens) leaves the next one untouched
    for leaf in leaves_a:
        leaf.meta["cost_usd"] = 123.0
        leaf.tokens = -1
    c = attribute(turn.request, _usage(turn))
    assert _dump(c) == _dump(b)


def test_cached_items_at_other_positions(fresh_cache):
    """The same tools/system after unknown top-level keys (which shift every position and
    breakpoint), and with a tool search that refers back to cached tool definitions."""
    turns = demo_session(seed=1, turns=6)
    for turn in turns:
        attribute(turn.request, _usage(turn))  # warm the cache
    for turn in turns:
        shifted = copy.deepcopy(turn.request)
        shifted = {"zz_unknown": [1, 2, 3], "yy_other": "x" * 50, **shifted}
        assert _dump(attribute(shifted, _usage(turn))) == _uncached(shifted, _usage(turn), None)
    # with no breakpoint in the messages, the last one lies in the cached system items
    for turn in turns:
        bare = {"zz_unknown": 1, **copy.deepcopy(turn.request)}
        for msg in bare["messages"]:
            for block in msg["content"] if isinstance(msg["content"], list) else ():
                block.pop("cache_control", None)
        assert _dump(attribute(bare, _usage(turn))) == _uncached(bare, _usage(turn), None)
    deferred = copy.deepcopy(turns[-1].request)
    name = deferred["tools"][0]["name"]
    deferred["tools"][0]["defer_loading"] = True
    deferred["messages"].append({"role": "user", "content": [{
        "type": "tool_result", "tool_use_id": "toolu_x",
        "content": [{"type": "tool_reference", "tool_name": name}]}]})
    for _ in range(2):
        assert _dump(attribute(deferred, None)) == _uncached(deferred, None, None)


def test_cache_is_bounded(fresh_cache):
    turn = demo_session(seed=0, turns=1)[0]
    for i in range(replay.MAX_ENTRIES + 10):
        req = copy.deepcopy(turn.request)
        req["tools"][0]["description"] += f" variant {i}"
        attribute(req, None)
    assert len(replay._cache) <= replay.MAX_ENTRIES
