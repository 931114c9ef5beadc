"""Requests to attribute: turns of the demo session and hand-built shapes."""

from __future__ import annotations

import json
from typing import Any

from inspector.demo.traffic import demo_session, plain_sdk_request
from inspector.model import Usage

SESSION = demo_session(seed=7, turns=6)


def turn(n: int):
    """The n-th request of the demo session (1-based) and its usage."""
    t = SESSION[n - 1]
    return t.request, Usage.from_api(t.response["usage"]), t.headers


def hand_built() -> dict[str, Any]:
    """A small Claude Code-shaped request written by hand, with a tool search result that
    loads a deferred MCP tool on demand, an MCP result given as a list, a document and an
    unknown top-level field."""
    return {
        "model": "claude-opus-4-1-20250805",
        "max_tokens": 8000,
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.0.1; cc_entrypoint=cli"},
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
            {"type": "text", "text": "Help the user.\n\n# Output Style: Explanatory\nExplain choices.\n\n"
                                     "# MCP Server Instructions\nServers:\n\n## linear\nUse team KEY.\n\n"
                                     "# Environment\nWorking directory: /w\n\ngitStatus: clean\n",
             "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Always answer in French."},
        ],
        "tools": [
            {"name": "Read", "description": "Read a file.", "input_schema": {"type": "object"}},
            {"name": "ToolSearch", "description": "Find deferred tools.", "input_schema": {"type": "object"}},
            {"name": "mcp__linear__create_ticket", "description": "Create a ticket. " * 40,
             "input_schema": {"type": "object", "properties": {"title": {"type": "string"}}},
             "defer_loading": True},
        ],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "<system-reminder>\nHook PostToolUse said: formatted 2 files\n</system-reminder>\n"
                                         "File a ticket for the flaky test please."},
                {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "CI log: test_x flaked"}},
            ]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "s1", "name": "ToolSearch", "input": {"query": "linear ticket"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "s1",
                 "content": [{"type": "tool_reference", "tool_name": "mcp__linear__create_ticket"}]},
            ]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "c1", "name": "mcp__linear__create_ticket", "input": {"title": "Flaky"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "c1",
                 "content": [{"type": "text", "text": "Created KEY-12"}]},
                {"type": "tool_result", "tool_use_id": "nobody", "content": "orphan", "is_error": True},
            ]},
        ],
        "mystery_field": {"a": [1, 2, 3]},
    }


GARBAGE: list[Any] = [
    None, 42, 3.5, True, [], [1, "two"], "", "not json at all", '{"model": "claude-sonnet-4-5", "messages": [{"ro',
    b'{"messages": [1, 2', {"messages": "hello"}, {"messages": [None, 5, {"role": "user"}]},
    {"system": 12, "tools": {"name": "x"}, "messages": [{"role": "user", "content": [None, 7, {"type": "text", "text": 3}]}]},
    {"tools": [None, {"name": 5}, {"name": "mcp__"}, {"name": "mcp__srv"}], "system": [None, {"text": None}]},
    {"messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": ["x"], "name": 3}]},
                  {"role": "user", "content": [{"type": "tool_result", "tool_use_id": ["x"], "content": {"odd": 1}}]},
                  {"role": "user", "content": [{"type": "image", "source": {"type": "base64", "data": "!!notbase64"}}]},
                  {"role": "user", "content": [{"type": "image", "source": "nope"}]},
                  {"role": "robot", "content": "beep"}]},
    json.dumps({"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}]})[:-7],
]

PLAIN = plain_sdk_request()
