"""`tree`, `rate` and `reattribute` through click's CliRunner on a real store."""

from __future__ import annotations

import json
import time

from inspector.analysis.stats import compute_stats
from inspector.model import Node

from .conftest import write_demo


def test_tree_json_is_the_stored_tree_and_depth_cuts_it(store, run_cli):
    ids = write_demo(store, seed=0, turns=3)
    data = json.loads(run_cli("tree", ids[2], "--json").output)
    for key in ("kind", "label", "chars", "tokens", "estimated", "children", "path",
                "cached", "meta"):
        assert key in data
    root = Node.from_dict(data)
    usage = store.conn.execute(
        "SELECT input_tokens + cache_read_tokens + cache_creation_tokens FROM responses "
        "WHERE request_id = ?", (ids[2],)).fetchone()[0]
    assert root.tokens == usage == sum(leaf.tokens for leaf in root.leaves())
    assert not data["estimated"]
    shallow = json.loads(run_cli("tree", ids[2], "--json", "--depth", "1").output)
    assert shallow["children"] and all(c["children"] == [] for c in shallow["children"])
    assert [c["label"] for c in shallow["children"]] == [c["label"] for c in data["children"]]


def test_tree_text_largest_first_with_percent_bar_and_window(store, run_cli, monkeypatch):
    ids = write_demo(store, seed=0, turns=2)
    monkeypatch.setenv("COLUMNS", "160")
    out = run_cli("tree", ids[1][:12], "--depth", "1").output
    data = json.loads(run_cli("tree", ids[1], "--json").output)
    tops = sorted(data["children"], key=lambda c: -c["tokens"])
    positions = [out.index(c["label"]) for c in tops]
    assert positions == sorted(positions)  # largest first
    assert "100.0%" in out and "█" in out and "context window:" in out and "200,000" in out
    assert "more below" in out


def test_tree_unknown_and_ambiguous_ids_fail_in_one_line(store, run_cli):
    ids = write_demo(store, seed=0, turns=3)
    for prefix, words in (("zzzzzz", "no capture"), (ids[0][:2], "ambiguous")):
        result = run_cli("tree", prefix, ok=False)
        assert result.exit_code == 1
        assert words in result.output and len(result.output.strip().splitlines()) == 1


def test_tree_without_a_database_says_so(run_cli):
    result = run_cli("tree", "abc", ok=False)
    assert result.exit_code == 1 and "no captures yet" in result.output


def test_ratings_round_trip_through_show_and_stats(store, run_cli):
    ids = write_demo(store, seed=0, turns=4)
    run_cli("rate", ids[1][:14], "good")
    run_cli("rate", ids[3], "BAD", "--note", "ignored the MCP result")
    shown = json.loads(run_cli("show", ids[3], "--json").output)
    assert shown["feedback"][-1]["rating"] == -1
    assert shown["feedback"][-1]["note"] == "ignored the MCP result"
    stored = json.loads(run_cli("rate", ids[1], "bad", "--json").output)
    assert stored["rating"] == "bad" and stored["request_id"] == ids[1]

    data = json.loads(run_cli("stats", "--json").output)  # latest rating counts
    assert data["total"]["rated"] == 2 and data["total"]["rated_bad"] == 2
    tree = Node.from_dict(json.loads(run_cli("tree", ids[3], "--json").output))
    sources_of_3 = {leaf.meta["source"] for leaf in tree.leaves()}
    groups = {g["key"]: g for g in data["groups"]}
    for source in sources_of_3:
        assert groups[source]["rated"] >= 1 and groups[source]["bad_share"] == 1.0
    bad = run_cli("rate", ids[0], "meh", ok=False)
    assert bad.exit_code == 2
    missing = run_cli("rate", "zzzz", "good", ok=False)
    assert missing.exit_code == 1 and "no capture" in missing.output


def test_reattribute_recomputes_trees_and_costs(store, run_cli):
    ids = write_demo(store, seed=0, turns=3)
    before = json.loads(run_cli("tree", ids[2], "--json").output)
    store.conn.execute("UPDATE requests SET attribution = NULL WHERE id = ?", (ids[2],))
    store.conn.execute("UPDATE requests SET cost_usd = 99 WHERE id = ?", (ids[1],))
    store.conn.commit()
    assert run_cli("tree", ids[2], ok=False).exit_code == 1
    out = run_cli("reattribute", "--batch", "2").output
    assert "reattributed 3 of 3" in out
    assert json.loads(run_cli("tree", ids[2], "--json").output) == before
    cost = store.conn.execute("SELECT cost_usd FROM requests WHERE id = ?", (ids[1],)).fetchone()[0]
    assert 0 < cost < 1
    total = compute_stats(store.conn, time.time() - 86400, None, "model")["total"]["cost"]
    assert total < 1
    # --since limits the work
    assert "of 0 requests" in run_cli("reattribute", "--since", "1s").output
