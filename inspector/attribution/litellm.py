"""Prices from LiteLLM's public model price list (`model_prices_and_context_window.json`).

That list is maintained by many hands and follows new models within days. Its entries
are keyed by model id, with per-token US dollar rates:

    "claude-opus-4-5-20251101": {"litellm_provider": "anthropic", "mode": "chat",
        "input_cost_per_token": 5e-06, "output_cost_per_token": 2.5e-05,
        "cache_creation_input_token_cost": 6.25e-06,            # 5-minute write
        "cache_creation_input_token_cost_above_1hr": 1e-05,     # 1-hour write
        "cache_read_input_token_cost": 5e-07,
        "input_cost_per_token_above_200k_tokens": ..., "output_cost_per_token_above_200k_tokens": ...,
        "cache_creation_input_token_cost_above_200k_tokens": ...,
        "cache_read_input_token_cost_above_200k_tokens": ...}

`claude-inspect prices --update [FILE|URL]` keeps the Claude entries of such a list in
`<home>/prices.json` (same format); the price table looks ids up there first. With no
argument it fetches LiteLLM's list, and falls back to the snapshot shipped with the
package (`prices_litellm.json`) when offline.
"""

from __future__ import annotations

import json
import urllib.request
from importlib import resources
from typing import Any

from inspector.attribution.pricing import PER_MILLION, Price, make_price, normalise_model

URL = "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
#: bodies larger than this are not a price list
MAX_BYTES = 64 * 1024 * 1024


def _rate(entry: dict[str, Any], key: str) -> float | None:
    value = entry.get(key)
    return float(value) * PER_MILLION if isinstance(value, (int, float)) else None


def _price(name: str, entry: dict[str, Any]) -> Price | None:
    inp, out = _rate(entry, "input_cost_per_token"), _rate(entry, "output_cost_per_token")
    if inp is None or out is None:
        return None
    price = make_price(name, inp, out,
                       cache_write_5m=_rate(entry, "cache_creation_input_token_cost"),
                       cache_write_1h=_rate(entry, "cache_creation_input_token_cost_above_1hr"),
                       cache_read=_rate(entry, "cache_read_input_token_cost"))
    long_in = _rate(entry, "input_cost_per_token_above_200k_tokens")
    if long_in is None:
        return price
    long = make_price(f"{name} (long context)", long_in,
                      _rate(entry, "output_cost_per_token_above_200k_tokens") or out,
                      cache_write_5m=_rate(entry, "cache_creation_input_token_cost_above_200k_tokens"),
                      cache_write_1h=_rate(entry, "cache_creation_input_token_cost_above_1hr_above_200k_tokens"),
                      cache_read=_rate(entry, "cache_read_input_token_cost_above_200k_tokens"))
    return Price(family=price.family, input=price.input, output=price.output,
                 cache_write_5m=price.cache_write_5m, cache_write_1h=price.cache_write_1h,
                 cache_read=price.cache_read, long=long)


def claude_entries(data: Any) -> dict[str, dict[str, Any]]:
    """The Claude chat models of a LiteLLM list (any provider), as given."""
    if not isinstance(data, dict):
        raise ValueError("not a LiteLLM price list (expected a JSON object)")
    out = {}
    for key, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(key, str):
            continue
        if normalise_model(key).startswith("claude") and entry.get("mode", "chat") == "chat" \
                and "input_cost_per_token" in entry:
            out[key] = entry
    return out


def exact_prices(text: str) -> dict[str, Price]:
    """Normalised model id -> Price from a LiteLLM list's text. Where several providers
    list one id, Anthropic's own entry wins."""
    found: dict[str, tuple[bool, Price]] = {}
    for key, entry in claude_entries(json.loads(text)).items():
        price = _price(key, entry)
        if price is None:
            continue
        name = normalise_model(key)
        first_party = entry.get("litellm_provider") == "anthropic"
        if name not in found or (first_party and not found[name][0]):
            found[name] = (first_party, price)
    return {name: price for name, (_, price) in found.items()}


def snapshot_text() -> str:
    """The list shipped with the package."""
    return resources.files("inspector.attribution").joinpath("prices_litellm.json").read_text("utf-8")


def fetch(source: str, timeout: float = 20.0) -> str:
    """The text of a price list from a file path or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=timeout) as reply:  # noqa: S310 (http only)
            data = reply.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise ValueError(f"{source}: larger than {MAX_BYTES} bytes")
        return data.decode("utf-8")
    with open(source, encoding="utf-8") as f:
        return f.read()


def refreshed(text: str) -> tuple[str, int]:
    """The Claude part of a LiteLLM list, as the JSON text to keep, and its model count."""
    entries = claude_entries(json.loads(text))
    if not any(_price(k, e) for k, e in entries.items()):
        raise ValueError("no Claude model prices in that list")
    return json.dumps(entries, indent=1, sort_keys=True) + "\n", len(entries)
