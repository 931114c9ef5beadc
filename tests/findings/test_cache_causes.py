"""Each cause of a cache break, on Claude Code-like sessions whose usage comes from the
simulated prompt cache, written through the runtime's own capture path."""

from __future__ import annotations

import copy

import pytest

from inspector.analysis.findings import find
from inspector.demo.prompt_cache import PromptCache
from inspector.demo.traffic import demo_session

from .conftest import store_turns

T0 = 1_795_000_000.0


def session(seed: int = 7, turns: int = 5):
    return [(copy.deepcopy(t.request), dict(t.headers), t.response)
            for t in demo_session(seed=seed, turns=turns)]


def breaks(store, ids):
    return [(ids.index(f.request_id), f.source, f.tokens > 0, (f.cost_usd or 0) > 0)
            for f in find(store, kinds=["cache_break"])]


def write(store, items, times=None):
    clock = [0.0]
    cache = PromptCache(clock=lambda: clock[0])
    return store_turns(store, items, cache=cache, times=times, clock=clock)


def test_model_switch_breaks_the_cache(store):
    items = session()
    for request, _, _ in items[3:]:
        request["model"] = "claude-opus-4-5-20251101"
    ids = write(store, items)
    assert breaks(store, ids) == [(3, "model", True, True)]


def test_a_gap_longer_than_the_ttl_breaks_it(store):
    ids = write(store, session(), times=[0, 20, 40, 400, 420])
    found = find(store, kinds=["cache_break"])
    assert [(ids.index(f.request_id), f.source) for f in found] == [(3, "ttl")]
    assert "5 min" in found[0].detail


def _one_hour(request):
    for block in request["system"] + [b for m in request["messages"]
                                      if isinstance(m["content"], list) for b in m["content"]]:
        if "cache_control" in block:
            block["cache_control"] = {"type": "ephemeral", "ttl": "1h"}


def test_a_one_hour_ttl_survives_the_same_gap(store):
    items = session()
    for request, _, _ in items:
        _one_hour(request)
    ids = write(store, items, times=[0, 20, 40, 400, 420])
    assert breaks(store, ids) == []


def test_a_removed_mcp_server_is_named_from_the_earlier_request(store):
    items = session()
    for request, _, _ in items[2:]:
        request["tools"] = [t for t in request["tools"] if not t["name"].startswith("mcp__")]
    ids = write(store, items)
    found = find(store, kinds=["cache_break"])
    assert [(ids.index(f.request_id), f.source) for f in found] == [(2, "mcp:github")]
    assert "removed" in found[0].detail or "changed" in found[0].detail


def test_a_moved_cache_control_marker_is_not_a_change(store):
    items = session(turns=4)
    # every turn puts the marker on its newest message, as Claude Code does; move the
    # system markers too, from the identity block to the billing block and back
    request = items[2][0]
    request["system"][0]["cache_control"] = {"type": "ephemeral"}
    ids = write(store, items)
    assert breaks(store, ids) == []


@pytest.mark.parametrize("change, source", [("beta", "anthropic-beta"),
                                            ("thinking", "thinking")])
def test_beta_and_thinking_changes(store, change, source):
    items = session()
    for request, headers, _ in items[3:]:
        if change == "beta":
            headers["anthropic-beta"] += ",context-1m-2025-08-07"
        else:
            request["thinking"] = {"type": "enabled", "budget_tokens": 8000}
    clock = [0.0]
    cache = PromptCache(clock=lambda: clock[0])
    # the real API drops the message cache on such a change: the stub does not know
    # that, so the cache entry of the messages is evicted by hand at that turn
    ids = store_turns(store, items[:3], cache=cache, clock=clock, start=T0)
    cache._entries.clear()
    ids += store_turns(store, items[3:], cache=cache, clock=clock, start=T0 + 60)
    found = find(store, kinds=["cache_break"])
    assert [(ids.index(f.request_id), f.source) for f in found] == [(3, source)]


def test_an_eviction_is_unexplained(store):
    items = session()
    clock = [0.0]
    cache = PromptCache(clock=lambda: clock[0])
    ids = store_turns(store, items[:3], cache=cache, clock=clock, start=T0)
    cache._entries.clear()  # the API let the entries go before their time
    ids += store_turns(store, items[3:], cache=cache, clock=clock, start=T0 + 60)
    found = find(store, kinds=["cache_break"])
    assert [(ids.index(f.request_id), f.source) for f in found] == [(3, "unexplained")]


def test_subagents_and_side_calls_do_not_break_the_main_chain(store):
    items = session(turns=4)
    side = ({"model": "claude-haiku-4-5-20251001", "max_tokens": 1,
             "messages": [{"role": "user", "content": "quota"}],
             "metadata": items[0][0]["metadata"]}, dict(items[0][1]),
            {"id": "msg_q", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
             "content": [{"type": "text", "text": "ok"}], "stop_reason": "max_tokens",
             "usage": {"input_tokens": 8, "output_tokens": 1}})
    ids = write(store, [items[0], side, items[1], side, items[2], items[3]])
    assert breaks(store, ids) == []


@pytest.mark.parametrize("a, b, same", [
    ({"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}},
     {"type": "text", "text": "x"}, True),  # a marker moved: the cache sees no change
    ({"type": "text", "text": "x"}, {"text": "x", "type": "text"}, False),  # key order
    ({"name": "t", "input_schema": {"max": 1}}, {"name": "t", "input_schema": {"max": 1.0}}, False),
    ({"name": "t", "input_schema": {"flag": True}}, {"name": "t", "input_schema": {"flag": 1}},
     False),
    ({"name": "t", "input_schema": {"cache_control": 1}}, {"name": "t", "input_schema": {}},
     False),  # only the block's own marker is set aside
    ("plain text", "plain text", True),
    ([{"a": [1, 2]}], [{"a": [1, 2, 3]}], False),
])
def test_blocks_compare_as_their_json_would(a, b, same):
    import json

    from inspector.analysis.findings.cache import Block

    def block(value):
        marker = value.get("cache_control") if isinstance(value, dict) else None
        return Block("/x", "tool:", value, None, marker)

    assert block(a).same(block(b)) is same

    def text(v):  # what the cache sees: the JSON text, the block's own marker aside
        if isinstance(v, dict):
            v = {k: x for k, x in v.items() if k != "cache_control"}
        return json.dumps(v)

    assert (text(a) == text(b)) is same
