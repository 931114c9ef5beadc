"""What a request costs, from the shipped price table (`prices.toml`).

A model the table does not list is priced as the newest listed model of its tier (Opus,
Sonnet, Haiku), and that price says `assumed=True`: Claude Code adopts new models before
any table knows them, and "cost unknown" on every row helps nobody. A model of no known
tier costs `None` ("unknown"), never 0: a made-up zero would hide spend.

The table is read once, lazily, from the package; exact ids from a refreshed LiteLLM price
list (`<home>/prices.json`, written by `claude-inspect prices --update`, see `litellm.py`)
come before it. `load_prices(path)` reads another TOML file (a user's own edited copy).
"""

from __future__ import annotations

import dataclasses
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
LONG_ABOVE = 200_000
_TIER = re.compile(r"\b(opus|sonnet|haiku|fable)\b")
#: the version in a model id after its tier: "claude-opus-4-8-2026..." -> 4, 8 (a date is
#: no minor version)
_ID_VERSION = re.compile(r"(?:opus|sonnet|haiku|fable)-(\d{1,2})(?:-(\d{1,2}))?(?!\d)")
_VERSION = re.compile(r"(\d+(?:\.\d+)*)\s*$")


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per million tokens for one model family."""

    family: str
    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    #: the rates of a request whose prompt is over `long_above` tokens (None: no such tier)
    long: Price | None = None
    long_above: int = LONG_ABOVE
    #: True when the table does not know the model and this is its tier's newest price
    assumed: bool = False

    def for_usage(self, usage: Usage | None) -> Price:
        """The rates that apply to a request of this usage (long context or not)."""
        total = usage.prompt_tokens if usage is not None else None
        if self.long is not None and total is not None and total > self.long_above:
            return self.long
        return self


def tier_version(family: str) -> tuple[str | None, tuple[int, ...]]:
    """("opus", (4, 5)) from "Claude Opus 4.5"."""
    low = family.lower()
    tier = _TIER.search(low)
    version = _VERSION.search(low)
    return (tier.group(1) if tier else None,
            tuple(int(p) for p in version.group(1).split(".")) if version else ())


@dataclass(frozen=True, slots=True)
class PriceTable:
    #: (glob patterns, price) in file order; the first match wins
    entries: tuple[tuple[tuple[str, ...], Price], ...]
    #: exact normalised ids (from a LiteLLM list), looked up before the globs
    exact: tuple[tuple[str, Price], ...] = ()

    def lookup(self, model: str) -> Price | None:
        """The listed price of `model`, else its tier's newest with `assumed=True`."""
        key = normalise_model(model)
        if not key:
            return None
        for name, price in self.exact:
            if name == key:
                return price
        for patterns, price in self.entries:
            if any(fnmatch.fnmatchcase(key, p) for p in patterns):
                return price
        tier = _TIER.search(key.replace("-", " "))
        found = _ID_VERSION.search(key)
        version = tuple(int(g) for g in found.groups() if g) if found else None
        newest = self.newest(tier.group(1), version) if tier else None
        if newest is None:
            return None
        # A bare alias ("opus") means the tier's newest model: that is no assumption.
        return newest if key == tier.group(1) else dataclasses.replace(newest, assumed=True)

    def newest(self, tier: str, at_most: tuple[int, ...] | None = None) -> Price | None:
        """The tier's newest listed price; with `at_most`, the newest not newer than that
        version (an unlisted Opus 4.8 is priced as Opus 4.7, not as Opus 5.5), falling back
        to the newest of all when the version is older than every listed one."""
        best: tuple[tuple[int, ...], Price] | None = None
        below: tuple[tuple[int, ...], Price] | None = None
        for _, price in self.entries:
            t, version = tier_version(price.family)
            if t != tier or "long context" in price.family:
                continue
            if best is None or version > best[0]:
                best = (version, price)
            if at_most is not None and version <= at_most and (below is None or version > below[0]):
                below = (version, price)
        chosen = below or best
        return chosen[1] if chosen else None


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


def make_price(family: str, inp: float, out: float, m5: float = 1.25, m1h: float = 2.0,
               mread: float = 0.1, **given: float | None) -> Price:
    """A Price whose cache rates default to multiples of `inp` (given ones win)."""
    def rate(name: str, default: float) -> float:
        value = given.get(name)
        return float(value) if value is not None else default
    return Price(family=family, input=inp, output=out,
                 cache_write_5m=rate("cache_write_5m", inp * m5),
                 cache_write_1h=rate("cache_write_1h", inp * m1h),
                 cache_read=rate("cache_read", inp * mread))


def parse_prices(data: dict[str, Any]) -> PriceTable:
    """A PriceTable from the parsed TOML; bad entries are skipped with a warning."""
    defaults = data.get("defaults", {}) if isinstance(data.get("defaults"), dict) else {}
    m5 = float(defaults.get("cache_write_5m_multiplier", 1.25))
    m1h = float(defaults.get("cache_write_1h_multiplier", 2.0))
    mread = float(defaults.get("cache_read_multiplier", 0.1))
    above = int(defaults.get("long_above", LONG_ABOVE))
    entries = []
    for raw in data.get("model", []):
        try:
            patterns = raw["match"]
            if isinstance(patterns, str):
                patterns = [patterns]
            family = str(raw.get("family", patterns[0]))
            price = make_price(family, float(raw["input"]), float(raw["output"]), m5, m1h, mread,
                               cache_write_5m=raw.get("cache_write_5m"),
                               cache_write_1h=raw.get("cache_write_1h"),
                               cache_read=raw.get("cache_read"))
            if "long_input" in raw:
                long = make_price(f"{family} (long context)", float(raw["long_input"]),
                                  float(raw.get("long_output", price.output)), m5, m1h, mread)
                price = dataclasses.replace(price, long=long, long_above=above)
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


_user_file: Path | None = None


def use_price_file(path: str | Path | None) -> None:
    """Take exact prices from this LiteLLM-format file too (None: the home folder's)."""
    global _user_file
    _user_file = Path(path) if path is not None else None
    default_prices.cache_clear()


def user_price_file() -> Path:
    """Where `prices --update` writes and the table looks: `<home>/prices.json`."""
    if _user_file is not None:
        return _user_file
    from inspector.config import resolve_home
    return resolve_home() / "prices.json"


@functools.lru_cache(maxsize=1)
def default_prices() -> PriceTable:
    table = load_prices()
    path = user_price_file()
    if not path.is_file():
        return table
    from inspector.attribution.litellm import exact_prices
    try:
        exact = exact_prices(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring the price list %s: %s", path, exc)
        return table
    return dataclasses.replace(table, exact=tuple(exact.items()))


def price_for(model: Any) -> Price | None:
    """The price of `model` (any id or alias): listed, or assumed from its tier's newest
    (`price.assumed`); None when not even its tier is known."""
    if not isinstance(model, str):
        return None
    return default_prices().lookup(model)


def _n(v: int | None) -> int:
    return v or 0


def price_assumed(model: Any) -> bool:
    """True when `model` is priced as its tier's newest listed model, not by its own."""
    price = price_for(model)
    return price is not None and price.assumed


def write_split(usage: Usage) -> tuple[int, int]:
    """(5-minute, 1-hour) cache writes; a write whose split is not known is 5-minute."""
    one_hour = _n(usage.cache_creation_1h)
    five_min = usage.cache_creation_5m
    if five_min is None:
        five_min = max(_n(usage.cache_creation_input_tokens) - one_hour, 0)
    return five_min, one_hour


@dataclass(frozen=True, slots=True)
class CostLine:
    """One kind of token of a request: how many, its rate (USD per million), the dollars."""

    name: str
    tokens: int
    rate: float
    usd: float


def cost_lines(model: Any, usage: Usage | None) -> list[CostLine] | None:
    """What each kind of token of a request cost at the rate it was billed (the lines add
    up to `cost`); None when the model or the usage is unknown."""
    price = price_for(model)
    if price is None or usage is None or usage.input_tokens is None:
        return None
    rates = price.for_usage(usage)
    five_min, one_hour = write_split(usage)
    kinds = (("input (uncached)", usage.input_tokens, rates.input),
             ("cache read", _n(usage.cache_read_input_tokens), rates.cache_read),
             ("cache write 5m", five_min, rates.cache_write_5m),
             ("cache write 1h", one_hour, rates.cache_write_1h),
             ("output", _n(usage.output_tokens), rates.output))
    return [CostLine(name, tokens, rate, tokens * rate / PER_MILLION)
            for name, tokens, rate in kinds]


def input_cost(price: Price, usage: Usage) -> float:
    """Dollars for the prompt side: uncached input, cache writes and cache reads (at the
    long-context rates when the prompt is over their threshold)."""
    price = price.for_usage(usage)
    five_min, one_hour = write_split(usage)
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
    return input_cost(price, usage) + _n(usage.output_tokens) * price.for_usage(usage).output / PER_MILLION


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
        read_cost = _n(usage.cache_read_input_tokens) * price.for_usage(usage).cache_read / PER_MILLION
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
