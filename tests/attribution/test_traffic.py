"""The demo traffic has the shape of Claude Code's requests and consistent usage."""

from __future__ import annotations

import json

import pytest

from inspector.attribution import attribute
from inspector.demo import token_model
from inspector.demo.traffic import demo_session, plain_sdk_request
from inspector.model import Usage

from .helpers import compact, leaves

SESSION = demo_session(seed=3, turns=8)


def _strip_cache(messages):
    out = json.loads(json.dumps(messages))
    for msg in out:
        if isinstance(msg["content"], list):
            for block in msg["content"]:
                block.pop("cache_control", None)
    return out


def test_deterministic_per_seed_and_different_across_seeds():
    a = [(t.request, t.headers, t.response) for t in demo_session(seed=3, turns=8)]
    assert a == [(t.request, t.headers, t.response) for t in SESSION]
    other = demo_session(seed=4, turns=8)
    assert other[0].request["metadata"] != SESSION[0].request["metadata"]
    assert other[0].response["id"] != SESSION[0].response["id"]


def test_request_envelope_and_headers_look_like_claude_code():
    turn = SESSION[0]
    req, headers = turn.request, turn.headers
    assert req["stream"] is True and req["model"].startswith("claude-")
    user_id = json.loads(req["metadata"]["user_id"])
    assert set(user_id) == {"device_id", "account_uuid", "session_id"}
    assert headers["X-Claude-Code-Session-Id"] == user_id["session_id"]
    assert headers["x-app"] == "cli" and headers["User-Agent"].startswith("claude-cli/")
    assert "anthropic-version" in headers and "anthropic-beta" in headers
    lowered = {k.lower() for k in headers}
    assert not lowered & {"x-api-key", "authorization", "cookie"}
    assert 70_000 < len(compact(req)) < 110_000
    builtin = [t for t in req["tools"] if not t["name"].startswith("mcp__")]
    assert 22 <= len(builtin) <= 28
    assert 55_000 < sum(len(compact(t)) for t in builtin) < 75_000
    assert max(len(compact(t)) for t in builtin) > 20_000
    servers = {t["name"].split("__")[1] for t in req["tools"] if t["name"].startswith("mcp__")}
    assert len(servers) >= 3
    assert req["messages"][0]["content"][0]["text"].startswith("<system-reminder>")
    assert "# claudeMd" in req["messages"][0]["content"][0]["text"]
    assert req["messages"][1]["role"] == "system"


def test_each_request_extends_the_previous_one():
    for prev, cur in zip(SESSION, SESSION[1:]):
        n = len(prev.request["messages"])
        assert _strip_cache(cur.request["messages"][:n]) == _strip_cache(prev.request["messages"])
        assert cur.request["messages"][n]["content"] == prev.response["content"]
        calls = [c["id"] for c in prev.response["content"] if c["type"] == "tool_use"]
        answered = [b.get("tool_use_id") for b in cur.request["messages"][n + 1]["content"]]
        assert [a for a in answered if a] == calls
        assert cur.request["tools"] == prev.request["tools"]
        assert cur.request["system"] == prev.request["system"]


def test_story_covers_builtin_mcp_and_skill_calls_with_thinking():
    names = [c["name"] for t in SESSION[:6] for c in t.response["content"] if c["type"] == "tool_use"]
    assert {"Grep", "Read", "Edit", "Bash", "Skill"} <= set(names)
    assert {"mcp__github__search_issues", "mcp__docs__search_docs", "mcp__postgres__query"} <= set(names)
    assert all(t.response["content"][0]["type"] == "thinking" for t in SESSION)
    sixth = SESSION[5].request["messages"][-1]["content"]
    assert sixth[0]["content"] == "Launching skill: release-notes"
    assert sixth[1]["text"].startswith("Base directory for this skill:")
    assert SESSION[5].response["stop_reason"] == "end_turn"
    assert SESSION[6].request["messages"][-1]["content"][0]["type"] == "text"  # the user speaks again


def test_usage_is_consistent_with_prompt_caching():
    prefix = 0
    for i, turn in enumerate(SESSION):
        usage = turn.response["usage"]
        assert 0 < usage["input_tokens"] < 20 and usage["output_tokens"] > 0
        assert usage["cache_read_input_tokens"] <= prefix
        if i < 6:  # within the first tool-use loop the whole previous prompt is read back
            assert usage["cache_read_input_tokens"] == prefix
        if i == 0:
            assert usage["cache_read_input_tokens"] == 0 and usage["cache_creation_input_tokens"] > 10_000
        else:
            assert 0 < usage["cache_creation_input_tokens"] < usage["cache_read_input_tokens"]
        assert usage["cache_creation"]["ephemeral_5m_input_tokens"] == usage["cache_creation_input_tokens"]
        prefix = usage["cache_read_input_tokens"] + usage["cache_creation_input_tokens"]
        # the exact total is the stub's token model, not the estimator under test
        total = Usage.from_api(usage).prompt_tokens
        assert total == token_model.count_request(turn.request)
        assert sum(leaf.tokens for leaf in leaves(attribute(turn.request, Usage.from_api(usage)))) == total


def test_every_source_kind_shows_up_in_a_demo_tree():
    root = attribute(SESSION[5].request, Usage.from_api(SESSION[5].response["usage"]), SESSION[5].headers)
    sources = {leaf.meta["source"] for leaf in leaves(root)}
    prefixes = {s.split(":")[0] for s in sources}
    assert {"system", "tool", "mcp", "agents", "memory", "skill", "skills", "user", "history",
            "tool_result", "reminder", "image"} <= prefixes
    assert [c.label for c in root.children] == ["System prompt", "System tools", "MCP tools",
                                                "Custom agents", "Memory files", "Skills", "Messages"]


@pytest.mark.parametrize("turns", [0, 1, 12])
def test_any_number_of_turns(turns):
    session = demo_session(seed=0, turns=turns)
    assert len(session) == turns
    for t in session:
        json.dumps(t.request), json.dumps(t.response)


def test_plain_sdk_request_shape():
    req = plain_sdk_request()
    assert isinstance(req["system"], str) and "tools" not in req
    assert all(isinstance(m["content"], str) for m in req["messages"])
