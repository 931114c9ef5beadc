"""Costs follow the shipped price table; unknown models are unknown, never free."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from inspector.attribution import attribute, cost, price_for
from inspector.attribution.pricing import load_prices, node_costs
from inspector.model import Usage

from .fixtures import turn
from .helpers import leaves, walk

TABLE = tomllib.loads(resources.files("inspector.attribution").joinpath("prices.toml").read_text())


def _entry(family: str) -> dict:
    return next(e for e in TABLE["model"] if e["family"] == family)


@pytest.mark.parametrize("model,family", [
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5"),
    ("claude-sonnet-4-5", "Claude Sonnet 4.5"),
    ("sonnet", "Claude Sonnet 5.5"),
    ("opus", "Claude Opus 5.5"),
    ("haiku", "Claude Haiku 4.5"),
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude Sonnet 4.5"),
    ("claude-sonnet-4-5@20250929", "Claude Sonnet 4.5"),
    ("claude-sonnet-4-5-20250929[1m]", "Claude Sonnet 4.5"),
    ("claude-sonnet-4-20250514", "Claude Sonnet 4"),
    ("claude-opus-4-1", "Claude Opus 4.1"),
    ("claude-opus-4-1-20250805", "Claude Opus 4.1"),
    ("claude-opus-4-20250514", "Claude Opus 4"),
    ("claude-opus-4-5-20251101", "Claude Opus 4.5"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5"),
    ("claude-3-5-haiku-20241022", "Claude Haiku 3.5"),
    ("claude-3-7-sonnet-latest", "Claude Sonnet 3.7"),
    ("claude-3-haiku-20240307", "Claude Haiku 3"),
    ("Claude-Opus-4-1", "Claude Opus 4.1"),
])
def test_model_ids_and_aliases_find_their_family(model, family):
    price = price_for(model)
    assert price is not None and price.family == family and not price.assumed
    entry = _entry(family)
    assert price.input == entry["input"] and price.output == entry["output"]


@pytest.mark.parametrize("model", ["gpt-4o", "claude-unknown-9", "", None, 12, "mystery-model"])
def test_unknown_model_costs_none_not_zero(model):
    assert price_for(model) is None
    assert cost(model, Usage(input_tokens=1000, output_tokens=10)) is None


def test_cost_of_a_request_uses_every_rate():
    usage = Usage(input_tokens=1_000, output_tokens=2_000, cache_read_input_tokens=100_000,
                  cache_creation_input_tokens=30_000, cache_creation_5m=20_000, cache_creation_1h=10_000)
    e = _entry("Claude Sonnet 4.5")
    m = TABLE["defaults"]
    expected = (1_000 * e["input"] + 2_000 * e["output"] + 100_000 * e["input"] * m["cache_read_multiplier"]
                + 20_000 * e["input"] * m["cache_write_5m_multiplier"]
                + 10_000 * e["input"] * m["cache_write_1h_multiplier"]) / 1e6
    assert cost("claude-sonnet-4-5-20250929", usage) == pytest.approx(expected)
    # without the 5m/1h split, all cache creation is priced as 5-minute writes
    plain = Usage(input_tokens=0, output_tokens=0, cache_creation_input_tokens=1_000_000)
    assert cost("claude-opus-4-1", plain) == pytest.approx(_entry("Claude Opus 4.1")["input"] * 1.25)


def test_explicit_cache_prices_in_the_table_win():
    haiku3 = price_for("claude-3-haiku-20240307")
    assert haiku3.cache_write_5m == _entry("Claude Haiku 3")["cache_write_5m"]
    assert haiku3.cache_read == _entry("Claude Haiku 3")["cache_read"]


def test_an_edited_table_is_honoured(tmp_path):
    path = tmp_path / "prices.toml"
    path.write_text('[[model]]\nfamily = "Test"\nmatch = ["claude-test*"]\ninput = 2.0\noutput = 4.0\n'
                    '[[model]]\nmatch = ["broken*"]\n')
    table = load_prices(path)
    price = table.lookup("claude-test-1")
    assert price.input == 2.0 and price.cache_read == pytest.approx(0.2)
    assert table.lookup("broken-1") is None and table.lookup("claude-sonnet-4-5") is None


def test_node_costs_share_the_input_cost_and_cached_leaves_are_cheaper():
    req, usage, headers = turn(4)
    root = attribute(req, usage, headers)
    price = price_for(req["model"])
    input_cost = (usage.input_tokens * price.input + usage.cache_read_input_tokens * price.cache_read
                  + usage.cache_creation_input_tokens * price.cache_write_5m) / 1e6
    assert root.meta["cost_usd"] == pytest.approx(input_cost)
    assert root.meta["request_cost_usd"] == pytest.approx(cost(req["model"], usage))
    for node in walk(root):
        assert "cost_usd" in node.meta
        if node.children:
            assert node.meta["cost_usd"] == pytest.approx(sum(c.meta["cost_usd"] for c in node.children))
    cached = [leaf for leaf in leaves(root) if leaf.cached and leaf.tokens]
    fresh = [leaf for leaf in leaves(root) if not leaf.cached and leaf.tokens]
    assert cached and fresh
    per_token = lambda leaf: leaf.meta["cost_usd"] / leaf.tokens  # noqa: E731
    assert max(map(per_token, cached)) < min(map(per_token, fresh))


def test_a_model_of_no_known_tier_gets_no_cost_meta():
    req, usage, _ = turn(1)
    root = attribute({**req, "model": "mystery-model"}, usage)
    assert all("cost_usd" not in n.meta for n in walk(root))
    assert node_costs(root, "mystery-model", usage) is False


def test_without_usage_costs_are_estimated_at_input_price():
    req, _, _ = turn(1)
    root = attribute(req)
    price = price_for(req["model"])
    assert root.meta["cost_usd"] == pytest.approx(root.tokens * price.input / 1e6)
    assert root.meta["request_cost_usd"] is None


@pytest.mark.parametrize("usage", [
    Usage(input_tokens=1_000, output_tokens=2_000, cache_read_input_tokens=100_000,
          cache_creation_input_tokens=30_000, cache_creation_5m=20_000, cache_creation_1h=10_000),
    Usage(input_tokens=12, output_tokens=0, cache_creation_input_tokens=5_000),  # no split known
    Usage(input_tokens=5_000, output_tokens=800, cache_read_input_tokens=300_000),  # long context
])
def test_cost_lines_say_what_each_kind_of_token_cost_and_add_up(usage):
    from inspector.analysis.caching import request_effect
    from inspector.attribution.pricing import cost_lines

    model = "claude-sonnet-4-5-20250929"
    lines = {line.name: line for line in cost_lines(model, usage)}
    assert sum(line.usd for line in lines.values()) == pytest.approx(cost(model, usage))
    rates = price_for(model).for_usage(usage)  # over 200k tokens: the long-context rates
    assert lines["input (uncached)"].rate == rates.input
    assert lines["cache read"].tokens == (usage.cache_read_input_tokens or 0)
    assert lines["cache write 5m"].tokens + lines["cache write 1h"].tokens == (
        usage.cache_creation_input_tokens or 0)
    assert lines["output"].usd == pytest.approx(usage.output_tokens * rates.output / 1e6)
    saved, extra = request_effect(model, usage)
    # caching's effect: the same tokens priced as plain input, less what they did cost
    plain = ((usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)
             ) * rates.input / 1e6
    cached = lines["cache read"].usd + lines["cache write 5m"].usd + lines["cache write 1h"].usd
    assert saved - extra == pytest.approx(plain - cached)
    assert cost_lines("no-such-model", usage) is None and request_effect("x", usage) is None
