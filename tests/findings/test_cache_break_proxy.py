"""The heart of the findings: a Claude Code-like session sent through the real proxy to a
stub API that caches prompt prefixes as the real one does. An MCP server's tool
description changes at one turn, the project's CLAUDE.md at another: exactly those two
requests are reported as cache breaks, each naming its source and what it cost."""

from __future__ import annotations

import copy
import json

from inspector.demo.prompt_cache import PromptCache
from inspector.demo.traffic import demo_session
from inspector.demo.traffic_text import CWD

from .conftest import through_proxy

TOOL_TURN, MEMORY_TURN, TURNS = 2, 5, 8
PROJECT_MD = f"{CWD}/CLAUDE.md"


def edited_session():
    """The demo session with the docs server's search tool reworded from TOOL_TURN on
    and a line of the project's CLAUDE.md changed from MEMORY_TURN on."""
    turns = demo_session(seed=3, turns=TURNS)
    for i, turn in enumerate(turns):
        request = turn.request = copy.deepcopy(turn.request)
        if i >= TOOL_TURN:
            tool = next(t for t in request["tools"] if t["name"] == "mcp__docs__search_docs")
            tool["description"] += " Results now carry the section anchor of each hit."
        if i >= MEMORY_TURN:
            first = request["messages"][0]["content"][0]
            assert "uv run pytest -q" in first["text"]
            first["text"] = first["text"].replace("uv run pytest -q", "uv run pytest -q -x")
    return turns


def test_two_edits_make_exactly_two_named_cache_breaks(home, tmp_path, run_cli):
    turns = edited_session()
    ids, _ = through_proxy(home, tmp_path, turns, cache=PromptCache())
    shown = [json.loads(run_cli("show", i, "--json").output)["usage"] for i in ids]
    # the stub really cached: later turns read what the earlier ones wrote
    assert shown[1]["cache_read_tokens"] > 0
    assert shown[TOOL_TURN]["cache_read_tokens"] == 0  # tools come first: nothing left
    assert 0 < shown[MEMORY_TURN]["cache_read_tokens"] < (
        shown[MEMORY_TURN - 1]["cache_read_tokens"]
        + shown[MEMORY_TURN - 1]["cache_creation_tokens"])

    found = json.loads(run_cli("findings", "--kind", "cache_break", "--json").output)
    breaks = sorted(found["findings"], key=lambda f: ids.index(f["request_id"]))
    assert [(ids.index(f["request_id"]), f["source"]) for f in breaks] == [
        (TOOL_TURN, "mcp:docs"), (MEMORY_TURN, f"memory:{PROJECT_MD}")]
    for f in breaks:
        i = ids.index(f["request_id"])
        before = shown[i - 1]
        lost = before["cache_read_tokens"] + before["cache_creation_tokens"] - shown[i]["cache_read_tokens"]
        assert f["tokens"] == lost > 0
        assert f["cost_usd"] > 0
        assert f["session_id"] == turns[0].headers["X-Claude-Code-Session-Id"]
    # a CLAUDE.md edit loses the messages only; a tool edit loses everything after the tools
    assert breaks[0]["tokens"] > breaks[1]["tokens"]


def test_an_unchanged_session_reports_no_cache_break(home, tmp_path, run_cli):
    turns = demo_session(seed=4, turns=6)
    through_proxy(home, tmp_path, turns, cache=PromptCache())
    found = json.loads(run_cli("findings", "--kind", "cache_break", "--json").output)
    assert found == {"findings": []}
