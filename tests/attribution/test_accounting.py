"""Every character of the content lands in exactly one leaf, and tokens add up exactly."""

from __future__ import annotations

import json

import pytest

from inspector.attribution import attribute
from inspector.model import Usage

from .fixtures import GARBAGE, PLAIN, SESSION, hand_built, turn
from .helpers import compact, content_size, leaves, resolve, walk

REQUESTS = [pytest.param(t.request, id=f"turn{i + 1}") for i, t in enumerate(SESSION)] + [
    pytest.param(PLAIN, id="plain-sdk"), pytest.param(hand_built(), id="hand-built")]


@pytest.mark.parametrize("req", REQUESTS)
def test_leaf_chars_sum_to_content_size(req):
    root = attribute(req)
    assert sum(leaf.chars for leaf in leaves(root)) == content_size(req) == root.chars
    assert root.meta["content_chars"] == root.chars


@pytest.mark.parametrize("req", REQUESTS)
def test_leaves_tile_each_item_without_overlap(req):
    """Slices of one text item cover it end to end; whole items are counted once."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for leaf in leaves(attribute(req)):
        base, _, sl = leaf.path.partition("#")
        item = resolve(req, base)
        if sl:
            a, b = map(int, sl.split(":"))
            assert b - a == leaf.chars
            spans.setdefault(base, []).append((a, b))
        else:
            assert base not in spans, f"{base} counted twice"
            spans[base] = [(0, leaf.chars)]
            whole = item["text"] if isinstance(item, dict) and isinstance(item.get("text"), str) \
                and item.get("type", "text") == "text" else item if isinstance(item, str) else None
            # A tool_result split into wrapper + items is the one whole-path exception.
            if whole is not None:
                assert len(whole) == leaf.chars
    for base, parts in spans.items():
        parts.sort()
        for (a1, b1), (a2, b2) in zip(parts, parts[1:]):
            assert b1 == a2, f"gap or overlap in {base}: {parts}"


@pytest.mark.parametrize("req", REQUESTS)
def test_parents_are_sums_and_every_node_has_a_path_and_leaves_a_source(req):
    root = attribute(req)
    for node in walk(root):
        assert isinstance(node.path, str)
        if node.children:
            assert node.tokens == sum(c.tokens for c in node.children)
            assert node.chars == sum(c.chars for c in node.children)
        else:
            assert node.meta["source"]
            assert node.chars > 0


@pytest.mark.parametrize("n", range(1, 7))
def test_with_usage_leaves_sum_exactly_to_the_prompt_total(n):
    req, usage, headers = turn(n)
    root = attribute(req, usage, headers)
    total = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
    assert sum(leaf.tokens for leaf in leaves(root)) == total == root.tokens
    assert root.estimated is False
    assert all(leaf.estimated for leaf in leaves(root))
    assert root.meta["used"] == total


@pytest.mark.parametrize("total", [0, 1, 7, 999, 123_457])
def test_odd_totals_still_add_up(total):
    root = attribute(hand_built(), Usage(input_tokens=total))
    assert sum(leaf.tokens for leaf in leaves(root)) == total
    assert all(leaf.tokens >= 0 for leaf in leaves(root))


def test_shares_follow_the_estimates():
    req, usage, _ = turn(3)
    estimated = {leaf.path: leaf.tokens for leaf in leaves(attribute(req))}
    scaled = {leaf.path: leaf.tokens for leaf in leaves(attribute(req, usage))}
    ratio = usage.prompt_tokens / sum(estimated.values())
    big = [p for p, t in estimated.items() if t > 200]
    assert big
    for path in big:
        assert abs(scaled[path] - estimated[path] * ratio) <= 1


def test_without_usage_everything_is_estimated():
    root = attribute(PLAIN)
    assert root.estimated and all(n.estimated for n in walk(root))
    assert root.tokens == sum(leaf.tokens for leaf in leaves(root)) > 0


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_never_raises_and_lands_in_other(garbage):
    root = attribute(garbage, Usage(input_tokens=50), {"anthropic-beta": None})  # type: ignore[dict-item]
    assert root.kind == "prompt"
    assert sum(leaf.chars for leaf in leaves(root)) == content_size(
        garbage.decode() if isinstance(garbage, bytes) else garbage)
    if leaves(root) != [root]:
        assert sum(leaf.tokens for leaf in leaves(root)) == 50
    json.dumps(root.to_dict())  # storable as is


def test_truncated_json_is_one_other_leaf_with_its_size():
    text = compact(SESSION[0].request)[:5000]
    root = attribute(text)
    assert [c.label for c in root.children] == ["other"]
    assert root.chars == 5000 and root.children[0].children[0].meta["source"] == "other"


def test_unknown_top_level_field_is_its_own_unknown_node():
    root = attribute(hand_built())
    other = next(c for c in root.children if c.label == "other")
    fields = next(c for c in other.children if c.label == "Unknown fields")
    [leaf] = fields.children
    assert (leaf.kind, leaf.label, leaf.path) == ("unknown", "mystery_field", "/mystery_field")
    assert leaf.meta["source"] == "unknown:field"
    assert leaf.chars == len(compact({"a": [1, 2, 3]}))


def test_json_text_and_bytes_give_the_same_tree_as_the_object():
    req = SESSION[1].request
    a = attribute(req).to_dict()
    assert attribute(json.dumps(req)).to_dict() == a
    assert attribute(json.dumps(req).encode()).to_dict() == a
