"""What prompt caching saved and cost, against Anthropic's published rates (Sonnet 4.5:
input $3, cache read $0.30, 5-minute write $3.75, 1-hour write $6 per million tokens)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from store.helpers import record

from inspector.cli import cli
from inspector.config import Config
from inspector.model import Usage
from inspector.store import Store


def _with_usage(rec, read: int, written: int, written_1h: int, model: str):
    rec.capture.model = model
    rec.capture.usage = Usage(input_tokens=10, output_tokens=5, cache_read_input_tokens=read,
                              cache_creation_input_tokens=written,
                              cache_creation_5m=written - written_1h,
                              cache_creation_1h=written_1h)
    return rec


def test_stats_say_what_cache_reads_saved_and_writes_cost(home):
    recs = [
        _with_usage(record(ago=60, session="s-a"), 1_000_000, 100_000, 40_000,
                    "claude-sonnet-4-5-20250929"),
        _with_usage(record(ago=30, session="s-b"), 500_000, 0, 0, "claude-sonnet-4-5-20250929"),
        _with_usage(record(ago=20, session="s-b"), 900_000, 0, 0, "a-model-without-a-price"),
    ]
    with Store(Config.load(home).db_path) as store:
        store.write(recs)
    out = CliRunner().invoke(cli, ["stats", "--by", "session", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    # reads: 1.5M x (3 - 0.30); writes: 60k x (3.75 - 3) + 40k x (6 - 3), per million
    assert data["total"]["cache_saved_usd"] == pytest.approx(1.5 * 2.7)
    assert data["total"]["cache_write_extra_usd"] == pytest.approx(0.045 + 0.12)
    groups = {g["key"]: g for g in data["groups"]}
    assert groups["s-a"]["cache_saved_usd"] == pytest.approx(2.7)
    assert groups["s-b"]["cache_saved_usd"] == pytest.approx(1.35)  # the unpriced adds nothing
    assert groups["s-b"]["cache_write_extra_usd"] == pytest.approx(0.0)
    shown = CliRunner().invoke(cli, ["stats", "--by", "model"])
    assert "prompt cache saved $3.8" in shown.output and "$4.05 below" in shown.output
