"""`stats`: group totals against the captured usage, costs against the price table, the
incremental rollups against a from-scratch sum of the stored attribution trees."""

from __future__ import annotations

import json
import time
from collections import defaultdict

import pytest

from inspector.analysis.stats import OUTPUT_GROUP, compute_stats
from inspector.attribution import attribute, cost, price_for
from inspector.demo.traffic import demo_session
from inspector.model import Node, Usage
from inspector.store import Filter, get_exchange, iter_exchanges
from inspector.timeparse import iso_utc

from .conftest import write_demo

UNKNOWN_MODEL = "claude-nonesuch-9"


def stored_usage(store):
    """(model, Usage) of every stored exchange with known usage, read back raw."""
    out = []
    for model, inp, outp, read, created in store.conn.execute(
            "SELECT r.model, s.input_tokens, s.output_tokens, s.cache_read_tokens, "
            "s.cache_creation_tokens FROM requests r JOIN responses s ON s.request_id = r.id"):
        out.append((model, Usage(input_tokens=inp, output_tokens=outp,
                                 cache_read_input_tokens=read,
                                 cache_creation_input_tokens=created)))
    return out


def brute_force_sources(store, lo: str, hi: str) -> dict[str, int]:
    """Tokens per source from the stored trees, summed in Python (the slow, obvious way)."""
    totals: dict[str, int] = defaultdict(int)
    for ex in iter_exchanges(store, Filter()):
        if not lo <= ex["ts"] < hi or ex["usage"]["input_tokens"] is None:
            continue
        tree = ex["attribution"]
        if tree is None:
            continue
        for leaf in Node.from_dict(tree).leaves():
            totals[leaf.meta.get("source") or leaf.kind] += leaf.tokens
    return dict(totals)


def test_totals_equal_captured_usage_for_every_grouping(store, run_cli):
    write_demo(store, seed=0, turns=6)
    write_demo(store, seed=1, turns=4, model=UNKNOWN_MODEL)
    usage = [turn.response["usage"] for turn in demo_session(0, 6) + demo_session(1, 4)]
    prompt = sum(u["input_tokens"] + u["cache_read_input_tokens"]
                 + u["cache_creation_input_tokens"] for u in usage)
    output = sum(u["output_tokens"] for u in usage)
    for by in ("source", "model", "day", "session"):
        data = json.loads(run_cli("stats", "--since", "1d", "--by", by, "--json").output)
        total = data["total"]
        assert total["requests"] == 10
        assert total["prompt_tokens"] == prompt
        assert total["output_tokens"] == output
        groups = data["groups"]
        assert sum(g["prompt_tokens"] or 0 for g in groups) == prompt, by
        assert sum(g["output_tokens"] or 0 for g in groups) == output, by
        assert sum(g["cost"] or 0 for g in groups) == pytest.approx(total["cost"], rel=1e-6)
        if by != "source":
            assert sum(g["requests"] for g in groups) == 10
            for part in ("input_tokens", "cache_read_tokens", "cache_creation_tokens"):
                assert sum(g[part] for g in groups) == total[part]


def test_costs_follow_the_price_table_and_unknown_models_are_null(store):
    write_demo(store, seed=0, turns=5)
    write_demo(store, seed=1, turns=3, model=UNKNOWN_MODEL)
    expected = sum(cost(m, u) for m, u in stored_usage(store) if price_for(m) is not None)
    assert expected > 0
    data = compute_stats(store.conn, time.time() - 86400, None, "model")
    by_model = {g["key"]: g for g in data["groups"]}
    assert by_model[UNKNOWN_MODEL]["cost"] is None
    assert by_model[UNKNOWN_MODEL]["cost_unknown_requests"] == 3
    known = by_model["claude-sonnet-4-5-20250929"]
    assert known["cost"] == pytest.approx(expected, rel=1e-6)
    # input $3/M, output $15/M, cache write 1.25x, cache read 0.1x for Sonnet 4.5
    manual = sum((u.input_tokens * 3 + u.cache_creation_input_tokens * 3.75
                  + u.cache_read_input_tokens * 0.3 + u.output_tokens * 15) / 1e6
                 for m, u in stored_usage(store) if m != UNKNOWN_MODEL)
    assert known["cost"] == pytest.approx(manual, rel=1e-6)
    assert data["total"]["cost"] == pytest.approx(expected, rel=1e-6)
    assert data["total"]["cost_unknown_requests"] == 3


def test_by_source_partitions_the_leaves_and_output_closes_the_cost(store):
    write_demo(store, seed=2, turns=8)
    data = compute_stats(store.conn, time.time() - 86400, None, "source")
    groups = {g["key"]: g for g in data["groups"]}
    expected = brute_force_sources(store, "", "9999")
    assert {k: g["prompt_tokens"] for k, g in groups.items() if k != OUTPUT_GROUP} == expected
    assert any(k.startswith("mcp:") for k in groups)
    out = groups[OUTPUT_GROUP]
    assert out["prompt_tokens"] is None and out["output_tokens"] == data["total"]["output_tokens"]
    assert sum(g["cost"] for g in groups.values()) == pytest.approx(data["total"]["cost"])
    assert sum(g["token_share"] or 0 for g in groups.values()) == pytest.approx(1.0, abs=1e-3)
    for g in groups.values():  # a source cannot split cache parts: null, not made up
        if g["key"] != OUTPUT_GROUP:
            assert g["cache_read_tokens"] is None and g["cache_hit_ratio"] is None


def test_periods_with_partial_days_match_a_brute_force_sum(store):
    day = 86400
    base = (int(time.time()) // day - 4) * day  # midnight UTC four days ago
    write_demo(store, seed=3, turns=6, start=base + 3 * 3600, step=5 * 3600)   # spans 2 days
    write_demo(store, seed=4, turns=5, start=base + 2 * day + 600, step=7 * 3600)
    write_demo(store, seed=5, turns=3, start=base + 3 * day + 20 * 3600, step=1800)
    compute_stats(store.conn, None, None, "source")  # build the rollups once
    windows = [(base + 5 * 3600, base + 3 * day + 21 * 3600), (base, base + 2 * day),
               (base + 2 * day + 1, None), (base + 7 * 3600, base + 8 * 3600),
               (None, base + day + 1)]
    for since, until in windows:
        lo = iso_utc(since) if since is not None else ""
        hi = iso_utc(until) if until is not None else "9999"
        data = compute_stats(store.conn, since, until, "source")
        got = {g["key"]: g["prompt_tokens"] for g in data["groups"] if g["key"] != OUTPUT_GROUP}
        assert got == brute_force_sources(store, lo, hi), (since, until)


def test_rollups_follow_rewrites_purges_and_reattribution(store, run_cli):
    old = time.time() - 3 * 86400
    write_demo(store, seed=6, turns=4, start=old)
    recent = write_demo(store, seed=7, turns=4)
    before = compute_stats(store.conn, old - 60, None, "source")
    assert before["total"]["requests"] == 8
    # reattribution rewrites every tree: figures must stay consistent with the trees
    doubled = Node.from_dict(get_exchange(store, recent[0])["attribution"])
    for leaf in doubled.leaves():
        leaf.tokens *= 2
    store.set_attribution(recent[0], doubled, None)
    run_cli("reattribute")
    after = compute_stats(store.conn, old - 60, None, "source")
    assert after["groups"] == before["groups"]
    # a purge drops the old session from every figure
    store.purge(old + 3600)
    purged = compute_stats(store.conn, old - 60, None, "source")
    assert purged["total"]["requests"] == 4
    got = {g["key"]: g["prompt_tokens"] for g in purged["groups"] if g["key"] != OUTPUT_GROUP}
    assert got == brute_force_sources(store, "", "9999")
    # new captures show up at the next query
    write_demo(store, seed=8, turns=2)
    assert compute_stats(store.conn, old - 60, None, "source")["total"]["requests"] == 6


def test_stats_text_output_and_bad_grouping(store, run_cli, monkeypatch):
    write_demo(store, seed=0, turns=3)
    monkeypatch.setenv("COLUMNS", "150")
    out = run_cli("stats", "--by", "model").output
    assert "claude-sonnet-4-5-20250929" in out and "total" in out and "$" in out
    assert "cache read" in out  # a wide terminal shows the prompt's parts
    write_demo(store, seed=1, turns=2, model=UNKNOWN_MODEL)
    out = run_cli("stats", "--by", "model").output
    row = next(line for line in out.splitlines() if UNKNOWN_MODEL in line)
    assert "unknown" in row and "$0 " not in row
    assert "without a known price" in out
    out = run_cli("stats").output
    assert "usage by source" in out and "(output)" in out
    bad = run_cli("stats", "--by", "color", ok=False)
    assert bad.exit_code == 2


def test_rollups_kept_by_triggers_equal_a_bulk_rebuild(store):
    day = 86400
    base = (int(time.time()) // day - 2) * day
    ids = write_demo(store, seed=10, turns=7, start=base + 20 * 3600, step=3 * 3600)
    write_demo(store, seed=11, turns=5, model=UNKNOWN_MODEL)
    store.write(store_records_again(store, ids[:2]))  # rewritten captures replace their rows
    since = base - day

    def snapshot():
        return {w: compute_stats(store.conn, since + w * 3600, None, "source")["groups"]
                for w in (0, 30, 45)}

    kept = snapshot()
    store.conn.executescript("DELETE FROM analysis_rolled; DELETE FROM analysis_request_sources;"
                             "DELETE FROM analysis_source_days;")
    rebuilt = snapshot()
    assert kept == rebuilt
    assert {g["key"]: g["prompt_tokens"] for g in kept[0] if g["key"] != OUTPUT_GROUP} == \
        brute_force_sources(store, iso_utc(since), "9999")


def store_records_again(store, ids):
    """Records rebuilt from stored exchanges, as a capture written twice would be."""
    from inspector.model import Capture
    from inspector.store import Record, get_exchange

    records = []
    for request_id in ids:
        ex = get_exchange(store, request_id)
        u = ex["usage"]
        usage = Usage(input_tokens=u["input_tokens"], output_tokens=u["output_tokens"],
                      cache_read_input_tokens=u["cache_read_tokens"],
                      cache_creation_input_tokens=u["cache_creation_tokens"])
        body = ex["request"]["body"]
        capture = Capture(id=request_id, ts=ex["ts"], connection_id="c", mode="intercept",
                          method="POST", scheme="https", host="api.anthropic.com", port=443,
                          path="/v1/messages", model=body["model"], session_id="again",
                          request_json=body, usage=usage, status=200)
        records.append(Record(capture, attribute(body, usage), cost(body["model"], usage)))
    return records


def test_an_empty_period_has_every_field(store):
    write_demo(store, seed=0, turns=2)
    for by in ("source", "model", "day", "session"):
        data = compute_stats(store.conn, time.time() + 3600, None, by)
        assert data["groups"] == []
        total = data["total"]
        assert total["requests"] == 0 and total["cost"] is None
        for name in ("prompt_tokens", "input_tokens", "cache_read_tokens",
                     "cache_creation_tokens", "output_tokens", "cache_hit_ratio", "rated"):
            assert name in total


def test_bulk_summing_is_announced(store, monkeypatch):
    from inspector.analysis import rollup

    write_demo(store, seed=0, turns=3)
    monkeypatch.setattr(rollup, "BULK_NOTICE", 2)
    heard: list[int] = []
    store.conn.executescript("DELETE FROM analysis_rolled;")  # as if stored before the tables
    compute_stats(store.conn, time.time() - 86400, None, "source", heard.append)
    assert heard == [3]
    compute_stats(store.conn, time.time() - 86400, None, "source", heard.append)
    assert heard == [3]  # once
