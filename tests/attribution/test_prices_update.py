"""Prices that keep up: a model the table lacks is priced as its tier's newest, marked
assumed; Opus 4.5 and later at their own rates; long-context and 1-hour cache rates; and
`prices --update` from a LiteLLM-format list (a file, a loopback URL, the bundled snapshot)."""

from __future__ import annotations

import http.server
import json
import threading

import pytest
from click.testing import CliRunner

from inspector.attribution import attribute, cost, price_for
from inspector.attribution import litellm, pricing
from inspector.cli import cli
from inspector.model import Usage

from .fixtures import turn

M = 1_000_000


@pytest.fixture(autouse=True)
def fresh_table():
    pricing.use_price_file(None)
    yield
    pricing.use_price_file(None)


def test_a_model_the_table_lacks_is_priced_as_its_tiers_newest_and_marked():
    price = price_for("claude-opus-6")
    assert price.assumed and price.family == "Claude Opus 5.5"
    assert (price.input, price.output) == (4.0, 20.0)
    assert pricing.price_assumed("claude-opus-6") and not pricing.price_assumed("claude-opus-5-5")
    assert price_for("claude-sonnet-6").family == "Claude Sonnet 5.5"
    # an unlisted version between two listed ones is priced as the older of them
    assert price_for("claude-opus-4-8").family == "Claude Opus 4.7"
    req, usage, headers = turn(2)
    root = attribute({**req, "model": "claude-opus-6"}, usage, headers)
    assert root.meta["price_assumed"] is True and root.meta["priced_as"] == "Claude Opus 5.5"
    assert root.meta["request_cost_usd"] == pytest.approx(cost("claude-opus-5-5", usage))
    assert "price_assumed" not in attribute(req, usage, headers).meta


@pytest.mark.parametrize("model,rates,assumed", [
    ("claude-opus-4-8", (5.0, 25.0), True),
    ("claude-opus-4-7", (5.0, 25.0), False),
    ("claude-opus-4-6", (5.0, 25.0), False),
    ("claude-opus-4-5-20251101", (5.0, 25.0), False),
    ("claude-opus-4-1-20250805", (15.0, 75.0), False),
    ("claude-opus-4-20250514", (15.0, 75.0), False),
    ("claude-opus-4-0", (15.0, 75.0), False),
])
def test_opus_4_5_and_later_cost_a_third_of_opus_4(model, rates, assumed):
    price = price_for(model)
    assert (price.input, price.output) == rates and price.assumed is assumed


def test_long_context_rates_apply_to_the_whole_request_above_200k():
    at = Usage(input_tokens=150_000, cache_read_input_tokens=50_000, output_tokens=1_000)
    over = Usage(input_tokens=150_000, cache_read_input_tokens=50_001, output_tokens=1_000)
    assert cost("claude-sonnet-4-5", at) == pytest.approx((150_000 * 3 + 50_000 * 0.3 + 1_000 * 15) / M)
    assert cost("claude-sonnet-4-5", over) == pytest.approx((150_000 * 6 + 50_001 * 0.6 + 1_000 * 22.5) / M)
    # Haiku 4.5 has no long-context tier
    assert cost("claude-haiku-4-5", over) == pytest.approx((150_000 * 1 + 50_001 * 0.1 + 1_000 * 5) / M)


def test_one_hour_cache_writes_cost_twice_the_input_rate():
    usage = Usage(input_tokens=0, output_tokens=0, cache_creation_input_tokens=3_000,
                  cache_creation_5m=1_000, cache_creation_1h=2_000)
    assert cost("claude-opus-4-7", usage) == pytest.approx((1_000 * 6.25 + 2_000 * 10.0) / M)


def test_the_bundled_snapshot_is_a_litellm_list_that_agrees_with_the_table():
    exact = litellm.exact_prices(litellm.snapshot_text())
    assert len(exact) >= 12
    for name, price in exact.items():
        listed = pricing.load_prices().lookup(name)
        assert (price.input, price.output, price.cache_read, price.cache_write_1h) == pytest.approx(
            (listed.input, listed.output, listed.cache_read, listed.cache_write_1h)), name
    assert exact["claude-sonnet-4-5"].long.input == pytest.approx(6.0)


def _litellm_list() -> dict:
    return {
        "sample_spec": {"input_cost_per_token": 0},
        "claude-opus-6": {"litellm_provider": "anthropic", "mode": "chat",
                            "input_cost_per_token": 4.5e-06, "output_cost_per_token": 2e-05,
                            "cache_read_input_token_cost": 4e-07,
                            "cache_creation_input_token_cost": 5e-06,
                            "cache_creation_input_token_cost_above_1hr": 8e-06},
        "vertex_ai/claude-opus-6@20261101": {"litellm_provider": "vertex_ai-anthropic_models",
                                               "mode": "chat", "input_cost_per_token": 9e-06,
                                               "output_cost_per_token": 9e-05},
        "gpt-9": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
                  "output_cost_per_token": 1e-06},
    }


def test_update_from_a_file_prices_a_new_model_exactly(tmp_path, home):
    source = tmp_path / "litellm.json"
    source.write_text(json.dumps(_litellm_list()))
    out = CliRunner().invoke(cli, ["prices", "--update", str(source)])
    assert out.exit_code == 0, out.output
    assert "2 Claude model prices" in out.output
    saved = json.loads((home / "prices.json").read_text())
    assert set(saved) == {"claude-opus-6", "vertex_ai/claude-opus-6@20261101"}
    price = price_for("claude-opus-6")
    assert not price.assumed and (price.input, price.output, price.cache_write_1h) == pytest.approx((4.5, 20, 8))
    listing = CliRunner().invoke(cli, ["prices", "--json"])
    assert any(r["model"] == "claude-opus-6" and r["source"] == "price list"
               for r in json.loads(listing.output))


class _Serve(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_update_from_a_loopback_url_and_offline_from_the_snapshot(home, monkeypatch):
    _Serve.body = json.dumps(_litellm_list()).encode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Serve)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/prices.json"
        out = CliRunner().invoke(cli, ["prices", "--update", url])
        assert out.exit_code == 0, out.output
        assert price_for("claude-opus-6").input == pytest.approx(4.5)
    finally:
        server.shutdown()
        server.server_close()
    # the default list is out of reach: the bundled snapshot is used instead
    monkeypatch.setattr(litellm, "URL", url)
    out = CliRunner().invoke(cli, ["prices", "--update"])
    assert out.exit_code == 0, out.output
    assert "bundled snapshot" in out.output
    assert price_for("claude-opus-6").assumed  # the snapshot does not list it
    bad = CliRunner().invoke(cli, ["prices", "--update", url])
    assert bad.exit_code == 1 and "cannot read" in bad.output


def test_show_json_says_when_the_price_is_assumed(home):
    from store.helpers import record

    from inspector.store import Store

    store = Store(home / "captures.db")
    recs = [record(ago=60, model="claude-opus-6"), record(ago=30, model="claude-opus-4-7")]
    store.write(recs)
    store.close()
    shown = [json.loads(CliRunner().invoke(cli, ["--home", str(home), "show", "--json", r.capture.id]).output)
             for r in recs]
    assert [ex["price_assumed"] for ex in shown] == [True, False]
