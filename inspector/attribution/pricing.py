"""What a request costs, from the shipped price table (`prices.toml`).

An unknown model costs `None` ("unknown"), never 0: a made-up zero would hide spend.
The table is read once, lazily, from the package; `load_prices(path)` reads another file
(for a user's own edited copy).
"""

from __future__ import annotations

import fnmatch
import functools
import logging
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from inspector.model import Node, Usage

log = logging.getLogger(__name__)

PER_MILLION = 1_000_000.0


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per million tokens for one model family."""

    family: str
    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float


@dataclass(frozen=True, slots=True)
class PriceTable:
    #: (glob patterns, price) in file order; the first match wins
    entries: tuple[tuple[tuple[str, ...], Price], ...]

    def lookup(self, model: str) -> Price | None:
        key = normalise_model(model)
        if not key:
            return None
        for patterns, price in self.entries:
            if any(fnmatch.fnmatchcase(key, p) for p in patterns):
                return price
        return None


_PROVIDER_PREFIX = re.compile(r"^(?:[a-z]{2,4}\.)?anthropic\.|^.*/(?=claude)")
_SUFFIXES = re.compile(r"(?:\[[^\]]*\]|@[\w.-]*|-v\d+(?::\d+)?)$")


def normalise_model(model: Any) -> str:
    """Model id in the table's terms: lower case, no cloud prefix or version suffix.

    "us.anthropic.claude-sonnet-4-5-20250929-v1:0" -> "claude-sonnet-4-5-20250929";
    "claude-opus-4-1@20250805" -> "claude-opus-4-1"; "claude-sonnet-4-5[1m]" ->
    "claude-sonnet-4-5".
    """
    if not isinstance(model, str):
        return ""
    key = model.strip().lower()
    key = _PROVIDER_PREFIX.sub("", key)
    for _ in range(3):
        stripped = _SUFFIXES.sub("", key)
        if stripped == key:
            break
        key = stripped
    return key


def parse_prices(data: dict[str, Any]) -> PriceTable:
    """A PriceTable from the parsed TOML; bad entries are skipped with a warning."""
    defaults = data.get("defaults", {}) if isinstance(data.get("defaults"), dict) else {}
    m5 = float(defaults.get("cache_write_5m_multiplier", 1.25))
    m1h = float(defaults.get("cache_write_1h_multiplier", 2.0))
    mread = float(defaults.get("cache_read_multiplier", 0.1))
    entries = []
    for raw in data.get("model", []):
        try:
            patterns = raw["match"]
            if isinstance(patterns, str):
                patterns = [patterns]
            inp = float(raw["input"])
            price = Price(
                family=str(raw.get("family", patterns[0])),
                input=inp,
                output=float(raw["output"]),
                cache_write_5m=float(raw.get("cache_write_5m", inp * m5)),
                cache_write_1h=float(raw.get("cache_write_1h", inp * m1h)),
                cache_read=float(raw.get("cache_read", inp * mread)),
            )
            entries.append((tuple(str(p).lower() for p in patterns), price))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            log.warning("skipping a bad price entry %r: %s", raw, exc)
    return PriceTable(tuple(entries))


def load_prices(path: str | Path | None = None) -> PriceTable:
    """The price table from `path`, or the one shipped with the package."""
    if path is None:
        text = resources.files("inspector.attribution").joinpath("prices.toml").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    return parse_prices(tomllib.loads(text))


@functools.lru_cache(maxsize=1)
def default_prices() -> PriceTable:
    return load_prices()


def price_for(model: Any) -> Price | None:
    """The price of `model` (any id or alias), or None when the table does not know it."""
    if not isinstance(model, str):
        return None
    return default_prices().lookup(model)


def _n(v: int | None) -> int:
    return v or 0


def input_cost(price: Price, usage: Usage) -> float:
    """Dollars for the prompt side: uncached input, cache writes and cache reads."""
    created = _n(usage.cache_creation_input_tokens)
    one_hour = _n(usage.cache_creation_1h)
    five_min = usage.cache_creation_5m
    if five_min is None:
        five_min = max(created - one_hour, 0)
    return (
        _n(usage.input_tokens) * price.input
        + five_min * price.cache_write_5m
        + one_hour * price.cache_write_1h
        + _n(usage.cache_read_input_tokens) * price.cache_read
    ) / PER_MILLION


def cost(model: Any, usage: Usage | None) -> float | None:
    """Dollars for one request (prompt and output); None if the model or usage is unknown."""
    price = price_for(model)
    if price is None or usage is None or usage.input_tokens is None:
        return None
    return input_cost(price, usage) + _n(usage.output_tokens) * price.output / PER_MILLION


def node_costs(root: Node, model: Any, usage: Usage | None) -> bool:
    """Put each node's share of the prompt cost in `meta["cost_usd"]`; False if unknown.

    Cached leaves share the cache-read dollars and the other leaves share the rest (fresh
    input and cache writes), each in proportion to its tokens; parents are sums. Without
    usage, every leaf is priced as fresh input from its estimated tokens.
    """
    price = price_for(model)
    if price is None:
        return False
    leaves = list(root.leaves())
    if usage is None or usage.input_tokens is None:
        for leaf in leaves:
            leaf.meta["cost_usd"] = leaf.tokens * price.input / PER_MILLION
    else:
        read_cost = _n(usage.cache_read_input_tokens) * price.cache_read / PER_MILLION
        rest_cost = input_cost(price, usage) - read_cost
        cached = [leaf for leaf in leaves if leaf.cached]
        fresh = [leaf for leaf in leaves if not leaf.cached]
        if not cached or not fresh:
            _share(leaves, read_cost + rest_cost)
        else:
            _share(cached, read_cost)
            _share(fresh, rest_cost)
    _sum_up(root)
    return True


def _share(leaves: list[Node], dollars: float) -> None:
    total = sum(leaf.tokens for leaf in leaves)
    for leaf in leaves:
        leaf.meta["cost_usd"] = dollars * leaf.tokens / total if total else dollars / len(leaves)


def _sum_up(node: Node) -> float:
    if node.children:
        node.meta["cost_usd"] = sum(_sum_up(c) for c in node.children)
    return node.meta.get("cost_usd", 0.0)
