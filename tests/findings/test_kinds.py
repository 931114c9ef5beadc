"""Every kind of finding on Claude Code-like traffic: the demo generator's session,
edited where a kind needs something the story does not have, written through the
runtime's capture path with usage from the simulated prompt cache. Figures are checked
against the stored attribution trees, and what_if against `stats --by source`."""

from __future__ import annotations

import copy
import json

import pytest

from inspector.analysis.findings import find
from inspector.analysis.findings.context import LARGE_RESULT_TOKENS
from inspector.demo.prompt_cache import PromptCache
from inspector.demo.traffic import demo_session
from inspector.demo.traffic_text import CWD

from .conftest import store_turns

JIRA = [{"name": f"mcp__jira__{n}", "description": f"{d} in the team's Jira project.",
         "input_schema": {"type": "object", "properties": {"key": {"type": "string"}}}}
        for n, d in (("get_ticket", "Get one ticket"), ("search_tickets", "Search tickets"))]
BIG = "\n".join(f"{i:>6}\tdef handler_{i}(request):  # routes the {i}th view" for i in range(6000))


def _items(turns):
    return [(copy.deepcopy(t.request), dict(t.headers), copy.deepcopy(t.response)) for t in turns]


def _first_read(turns):
    for t in turns:
        for block in t.response["content"]:
            if block.get("type") == "tool_use" and block["name"] == "Read":
                return block["id"]
    raise AssertionError("the story reads a file")


@pytest.fixture
def session(store):
    """Ten turns (views.py is read twice), a never-called Jira MCP server, one huge file
    read, then a compaction request and the first request after it."""
    turns = demo_session(seed=1, turns=10)
    big_id = _first_read(turns)
    items = _items(turns)
    for request, _, _ in items:
        request["tools"] += copy.deepcopy(JIRA)
        for msg in request["messages"]:
            for block in msg["content"] if isinstance(msg["content"], list) else ():
                if block.get("type") == "tool_result" and block["tool_use_id"] == big_id:
                    block["content"] = BIG
    last, headers, reply = items[-1]
    ask = copy.deepcopy(last)
    ask["messages"] += [{"role": "assistant", "content": reply["content"]},
                        {"role": "user", "content": [{"type": "text", "text":
                         "Your task is to create a detailed summary of the conversation so far."}]}]
    summary = {"id": "msg_sum", "type": "message", "role": "assistant", "model": last["model"],
               "content": [{"type": "text", "text": "Summary: fixed the login 500."}],
               "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 900}}
    after = copy.deepcopy(last)
    after["messages"] = [
        {"role": "user", "content": [{"type": "text", "text":
         "This session is being continued from a previous conversation that ran out of "
         "context. Summary: fixed the login 500 in session.py."}]},
        {"role": "user", "content": [{"type": "text", "text": "Now update the README.",
                                      "cache_control": {"type": "ephemeral"}}]}]
    items += [(ask, headers, summary), (after, headers, dict(summary, id="msg_after"))]
    ids = store_turns(store, items, cache=PromptCache())
    return ids, items, big_id


def _tree_leaves(store, request_id):
    def walk(node):
        if not node["children"]:
            yield node
        for child in node["children"]:
            yield from walk(child)
    return list(walk(store.get(request_id)["attribution"]))


def of(store, kind):
    return find(store, kinds=[kind])


def test_unused_mcp_server_and_tools(store, session):
    ids, items, _ = session
    found = of(store, "unused_tool")
    jira = [f for f in found if f.source == "mcp:jira"]
    assert len(jira) == 1 and jira[0].request_id is None
    expected = sum(leaf["tokens"] for i in ids for leaf in _tree_leaves(store, i)
                   if leaf["meta"].get("source") == "mcp:jira")
    assert jira[0].tokens == expected > 0
    assert jira[0].cost_usd > 0 and "2 tools" in jira[0].detail
    # the built-in tools never called make one finding, costliest named first
    builtin = [f for f in found if f.source == "tools:built-in"]
    assert len(builtin) == 1 and not any(f.source.startswith("tool:") for f in found)
    listed = builtin[0].detail.split(": ", 1)[1]
    assert "WebFetch" in listed or "TodoWrite" in listed
    called = {"Grep", "Read", "Edit", "Bash", "Skill"}
    names = {part.split()[0] for part in listed.split(", ") if not part.startswith("+")}
    assert names and not names & called
    idle = {leaf["meta"]["tool"] for i in ids for leaf in _tree_leaves(store, i)
            if leaf["kind"] == "tool" and leaf["meta"].get("tool") not in called}
    assert f"{len(idle)} of " in builtin[0].detail
    assert builtin[0].tokens == sum(
        leaf["tokens"] for i in ids for leaf in _tree_leaves(store, i)
        if leaf["kind"] == "tool" and leaf["meta"].get("tool") in idle)
    assert not any("search_docs" in f.detail for f in found)


def test_injection_ledger(store, session):
    ids, _, _ = session
    todo = [f for f in of(store, "injection") if f.source == "reminder:todo"]
    assert len(todo) == 1
    carried = [i for i in ids if any(leaf["meta"].get("source") == "reminder:todo"
                                     for leaf in _tree_leaves(store, i))]
    assert todo[0].detail.startswith("1 injected") and f"on {len(carried)} requests" in todo[0].detail
    assert todo[0].tokens == sum(leaf["tokens"] for i in carried for leaf in _tree_leaves(store, i)
                                 if leaf["meta"].get("source") == "reminder:todo")


def test_large_tool_result(store, session):
    ids, items, big_id = session
    found = of(store, "large_tool_result")
    assert len(found) == 1
    first = next(i for i, (req, _, _) in enumerate(items)
                 if big_id in json.dumps(req["messages"]))
    f = found[0]
    assert f.request_id == ids[first] and f.source == "tool_result:Read"
    assert f.tokens >= LARGE_RESULT_TOKENS and f.cost_usd > 0
    assert "Read result" in f.detail


def test_repeated_read(store, session):
    ids, items, _ = session
    found = of(store, "repeated_read")
    assert [(f.source, f.detail) for f in found] == [
        ("tool_result:Read", f"{CWD}/src/shop/auth/views.py read 2 times in this session")]
    assert found[0].tokens > 0 and found[0].request_id in ids


def test_compaction(store, session):
    ids, items, _ = session
    found = of(store, "compaction")
    assert [(ids.index(f.request_id), f.source) for f in found] == [
        (10, "compaction"), (11, "history:summary")]
    shown = [json.loads(json.dumps(store.get(i)["usage"])) for i in ids[9:12]]
    prompt = [u["input_tokens"] + u["cache_read_tokens"] + u["cache_creation_tokens"] for u in shown]
    assert found[0].tokens == prompt[1]
    assert found[1].tokens == prompt[1] - prompt[2] > 0


def test_truncated_skill_listing_and_missing_deferred_schema(store):
    turns = demo_session(seed=2, turns=3)
    items = _items(turns)
    for request, _, _ in items:
        catalog = request["messages"][1]
        catalog["content"] = catalog["content"].replace(
            "</system-reminder>", "- brand-guidelines\n- sql-review:\n...and 4 more skills\n</system-reminder>")
        request["tools"].append({"name": "mcp__linear__create_issue", "defer_loading": True,
                                 "description": "Create a Linear issue.",
                                 "input_schema": {"type": "object"}})
    items[0][2]["content"].append({"type": "tool_use", "id": "toolu_linear", "name":
                                   "mcp__linear__create_issue", "input": {"title": "x"}})
    ids = store_turns(store, items, cache=PromptCache())
    found = of(store, "truncation")
    assert [(f.source, f.request_id) for f in found] == [
        ("skills", ids[-1]), ("mcp:linear", ids[0])]
    assert "2 skills listed without a description (brand-guidelines, sql-review)" in found[0].detail
    assert "4 skills left out" in found[0].detail
    assert "mcp__linear__create_issue" in found[1].detail


def test_what_if_matches_stats_by_source(store, session, run_cli):
    found = of(store, "what_if")
    assert found and len(found) <= 8
    stats = {g["key"]: g for g in json.loads(run_cli("stats", "--json").output)["groups"]}
    for f in found:
        assert not f.source.startswith(("user", "history:", "tool_result:"))
        # stats rounds dollars to the millionth
        assert f.cost_usd == pytest.approx(stats[f.source]["cost"], rel=1e-4, abs=1e-6)
    costs = [f.cost_usd for f in found]
    assert costs == sorted(costs, reverse=True)


def test_cli_json_shape_and_kind_filter(store, session, run_cli):
    out = json.loads(run_cli("findings", "--json").output)
    keys = {"kind", "request_id", "session_id", "source", "tokens", "cost_usd", "detail"}
    assert out["findings"] and all(set(f) == keys for f in out["findings"])
    order = ["cache_break", "unused_tool", "injection", "large_tool_result", "repeated_read",
             "compaction", "truncation", "what_if"]
    kinds = [f["kind"] for f in out["findings"]]
    assert kinds == sorted(kinds, key=order.index)
    only = json.loads(run_cli("findings", "--kind", "repeated_read", "--json").output)
    assert {f["kind"] for f in only["findings"]} == {"repeated_read"}
    text = run_cli("findings", "--kind", "unused_tool").output
    assert "mcp:jira" in text
