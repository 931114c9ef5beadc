"""Trees and texts round-trip through their compact stored forms."""

from __future__ import annotations

import dataclasses
import math

import pytest

from inspector.attribution import attribute
from inspector.demo.traffic import demo_session
from inspector.model import Node, Usage
from inspector.store import compact


def _real_trees() -> list[Node]:
    out = []
    for turn in demo_session(seed=9, turns=5):
        u = turn.response["usage"]
        usage = Usage(input_tokens=u["input_tokens"], output_tokens=u["output_tokens"],
                      cache_read_input_tokens=u["cache_read_input_tokens"],
                      cache_creation_input_tokens=u["cache_creation_input_tokens"])
        out += [attribute(turn.request, usage, headers=turn.headers), attribute(turn.request)]
    return out


def _every_field_set(cls: type, depth: int = 2) -> Node:
    """A node of `cls` whose every field differs from its default, whatever the fields
    are, with children of the same kind."""
    values = {}
    for f in dataclasses.fields(cls):
        if f.name == "children":
            continue
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        if isinstance(default, bool):
            values[f.name] = not default
        elif isinstance(default, int):
            values[f.name] = default + 7
        elif isinstance(default, dict):
            values[f.name] = {"source": f"s-{f.name}", "n": 1.5, "nested": {"l": [1, None]}}
        elif isinstance(default, list):
            values[f.name] = [f.name, 2]
        else:  # str, or a required field
            values[f.name] = f"{f.name} \"é\" \u2028 \x01"
    children = [_every_field_set(cls, depth - 1) for _ in range(2)] if depth else []
    return cls(**values, children=children)


def test_every_field_of_node_round_trips():
    for tree in _real_trees() + [_every_field_set(Node), Node("prompt", "empty")]:
        stored, summary = compact.encode_tree(tree)
        back = compact.node_from_dict(compact.decode_tree(stored))
        assert back == tree
        assert compact.decode_tree(stored) == tree.to_dict()
        leaves = list(tree.leaves()) if tree.children else [tree]
        assert sum(g[0] for g in summary.groups.values()) == len(leaves)
        assert sum(g[2] for g in summary.groups.values()) == sum(x.tokens for x in leaves)


def test_a_field_added_to_node_is_kept(monkeypatch):
    extended = dataclasses.make_dataclass(
        "ExtendedNode", [("origin", str, dataclasses.field(default="")),
                         ("weights", dict, dataclasses.field(default_factory=dict))],
        bases=(Node,))
    monkeypatch.setattr(compact, "Node", extended)
    tree = _every_field_set(extended)
    assert tree.origin and tree.children[0].weights
    stored, _ = compact.encode_tree(tree)
    assert compact.node_from_dict(compact.decode_tree(stored)) == tree


def test_odd_values_survive():
    odd = Node("prompt", 'quote " and \u2028 é \x01', meta={"a": [1, 2], "source": "s"}, children=[
        Node("k", "l", meta={"z": 1, "source": "q"}),
        Node("k", "l", meta={"source": 5}),
        Node("k", "l", meta={"source": "x", "cost_usd": float("nan"), "big": 10**30}),
        Node("k", "l", chars=3, tokens=2, meta={"cost_usd": 1e-300, "deferred": True}),
    ])
    d = compact.decode_tree(compact.encode_tree(odd)[0])
    assert math.isnan(d["children"][2]["meta"]["cost_usd"])
    assert d["children"][2]["meta"]["big"] == 10**30
    assert d["children"][3]["meta"]["cost_usd"] == 1e-300
    summary = compact.summarize(d)
    # a source that is not a string counts under the kind
    assert summary.totals == {"q": 0, "k": 2, "x": 0}
    assert summary.top == "k"


def test_summary_matches_a_walk_of_the_tree():
    tree = _real_trees()[2]
    s = compact.summarize(tree.to_dict())
    by_source: dict[str, int] = {}
    for leaf in tree.leaves():
        key = leaf.meta.get("source") or leaf.kind
        by_source[key] = by_source.get(key, 0) + leaf.tokens
    assert s.totals == by_source
    assert s.top == max(by_source.items(), key=lambda kv: kv[1])[0]


@pytest.mark.parametrize("text", [None, "", "short", "x" * 255, "é\U0001f600" * 400,
                                  "\ud800 lone surrogate " * 50])
def test_pack_round_trips_and_compresses_long_text(text):
    stored = compact.pack(text)
    assert compact.unpack(stored) == text
    if text is not None and len(text) >= compact.PACK_MIN_CHARS:
        assert isinstance(stored, bytes) and len(stored) < len(text)
    else:
        assert stored == text


def test_text_that_hardly_compresses_is_kept_as_text():
    import random

    rng = random.Random(1)
    noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(300))
    assert compact.pack(noise) == noise  # reads without a decompression
    assert isinstance(compact.pack(noise * 4), bytes)


@pytest.mark.parametrize("text", ["ascii " * 400_000, "é\U0001f600 mixed " * 300_000,
                                  "\ud800 lone surrogate " * 100_000])
def test_a_spooled_pack_reads_as_the_packed_part(text):
    start, end = 7, len(text) - 5
    spooled = compact.pack_spooled(text, start, end)
    try:
        data = b"".join(spooled.chunks())
    finally:
        spooled.close()
    assert len(data) == len(spooled)
    assert compact.unpack(data) == text[start:end]
