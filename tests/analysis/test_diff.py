"""Turn-to-turn diffs: pure on attribution trees, and through the store and the CLI."""

from __future__ import annotations

import copy
import json

from inspector.analysis.diff import ADDED, SAME, diff_trees, extends
from inspector.attribution import attribute
from inspector.demo.traffic import demo_session
from inspector.model import Usage

from .conftest import write_demo


def mcp_results(request: dict) -> set[str]:
    """Names of the MCP tools whose results the request carries."""
    names = {}
    for message in request["messages"]:
        for block in message["content"] if isinstance(message["content"], list) else []:
            if block.get("type") == "tool_use":
                names[block["id"]] = block["name"]
    found = set()
    for message in request["messages"]:
        for block in message["content"] if isinstance(message["content"], list) else []:
            if block.get("type") == "tool_result":
                name = names.get(block["tool_use_id"], "")
                if name.startswith("mcp__"):
                    found.add(name)
    return found


def first_new_mcp_result(turns) -> tuple[int, str]:
    """Index of the first turn that carries an MCP tool result the previous did not."""
    for i in range(1, len(turns)):
        new = mcp_results(turns[i].request) - mcp_results(turns[i - 1].request)
        if new:
            return i, sorted(new)[0]
    raise AssertionError("the demo session has no MCP tool call")


def tree(turn):
    return attribute(turn.request, Usage.from_api(turn.response["usage"]), headers=turn.headers)


def test_turn_after_mcp_call_names_that_tool_result_as_added():
    turns = demo_session(seed=0, turns=8)
    i, tool = first_new_mcp_result(turns)
    result = diff_trees(tree(turns[i - 1]), tree(turns[i]), exact=True,
                        extends_before=extends(turns[i - 1].request, turns[i].request))
    added = [c for c in result.changes if c.status == ADDED and c.kind == "tool_result"]
    assert any(tool in c.label and c.source.startswith("mcp:") for c in added), result.changes
    # nothing of the earlier turn's content was dropped
    assert not [c for c in result.changes if c.status == "dropped"]


def test_calibration_uses_the_difference_of_exact_totals():
    turns = demo_session(seed=1, turns=5)
    before, after = tree(turns[2]), tree(turns[3])
    assert extends(turns[2].request, turns[3].request)
    result = diff_trees(before, after, exact=True, extends_before=True)
    assert result.calibrated_new_tokens == after.tokens - before.tokens > 0
    assert sum(c.delta for c in result.changes) == result.calibrated_new_tokens
    assert "exactly" in result.note
    # content that did not change shows no drift
    for c in result.changes:
        if c.before_chars == c.after_chars:
            assert c.delta == 0 and c.status == SAME
    # estimates only: no calibration claimed
    loose = diff_trees(attribute(turns[2].request), attribute(turns[3].request))
    assert loose.calibrated_new_tokens is None and "estimate" in loose.note


def test_extends_ignores_moved_cache_breakpoints_and_sees_edits():
    turns = demo_session(seed=0, turns=3)
    a, b = turns[1].request, turns[2].request
    assert extends(a, b) and not extends(b, a)
    edited = copy.deepcopy(b)
    edited["messages"][0]["content"][-1]["text"] = "something else entirely"
    assert not extends(a, edited)
    assert not extends(a, {"messages": "nope"}) and not extends(None, b)


def test_diff_of_dropped_and_empty_trees():
    turns = demo_session(seed=0, turns=2)
    result = diff_trees(tree(turns[1]), None)
    assert result.after_total == 0
    assert result.changes and all(c.status == "dropped" for c in result.changes)
    assert diff_trees(None, None).changes == []


def test_diff_command_finds_the_previous_turn_of_the_session(store, run_cli):
    ids = write_demo(store, seed=0, turns=8)
    write_demo(store, seed=9, turns=3)  # another session in between must not interfere
    i, tool = first_new_mcp_result(demo_session(seed=0, turns=8))
    data = json.loads(run_cli("diff", ids[i], "--json").output)
    assert (data["before_id"], data["after_id"]) == (ids[i - 1], ids[i])
    assert data["exact"] and data["extends"]
    assert data["calibrated_new_tokens"] == data["after_total"] - data["before_total"]
    assert any(c["status"] == "added" and tool in c["label"] for c in data["changes"])
    # OTHER given explicitly, in either order
    both = json.loads(run_cli("diff", ids[i], ids[0], "--json").output)
    assert (both["before_id"], both["after_id"]) == (ids[0], ids[i])
    text = run_cli("diff", ids[i]).output
    assert "added" in text and "exactly" in text
    first = run_cli("diff", ids[0], ok=False)
    assert first.exit_code == 1 and "no earlier request" in first.output
    unknown = run_cli("diff", "zzzz", ok=False)
    assert unknown.exit_code == 1 and len(unknown.output.strip().splitlines()) == 1
