"""Builders of stored captures for the analysis tests.

`claude_code_turns()` makes a small Claude Code-like conversation (system blocks, built-in
and MCP tools, memory in a system-reminder, a built-in and an MCP tool call); `record()`
turns a request body and its usage into what the writer stores, attributed and priced the
same way the runtime does it.
"""

from __future__ import annotations

import copy
from typing import Any

from inspector.attribution import attribute, cost
from inspector.ids import new_id
from inspector.model import Capture, Usage
from inspector.store import Record
from inspector.timeparse import iso_utc

SYSTEM = [
    {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.0.50"},
    {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
    {"type": "text", "text": "You are an interactive CLI tool. " * 120
     + "\n# Environment\nWorking directory: /repo\nPlatform: linux\n",
     "cache_control": {"type": "ephemeral"}},
]

TOOLS = [
    {"name": "Bash", "description": "Run a shell command. " * 60,
     "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}},
    {"name": "Read", "description": "Read a file. " * 40,
     "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}},
    {"name": "mcp__github__get_issue", "description": "Get an issue from GitHub. " * 10,
     "input_schema": {"type": "object", "properties": {"number": {"type": "integer"}}}},
    {"name": "mcp__github__list_prs", "description": "List pull requests. " * 10,
     "input_schema": {"type": "object", "properties": {"repo": {"type": "string"}}}},
]

MEMORY = ("<system-reminder>\nAs you answer the user's questions, you can use the following "
          "context:\n# claudeMd\nContents of /repo/CLAUDE.md (project instructions):\n\n"
          + "Use tabs. " * 50 + "\n</system-reminder>")


def claude_code_turns() -> list[dict[str, Any]]:
    """Four request bodies of one session, each extending the previous one's messages:
    a first turn, a turn after a Read call, a turn after an MCP call, a follow-up."""
    meta = {"user_id": '{"session_id": "sess-1"}'}
    first = {"model": "claude-sonnet-4-5-20250929", "max_tokens": 32000, "stream": True,
             "system": SYSTEM, "tools": TOOLS, "metadata": meta,
             "messages": [{"role": "user", "content": [
                 {"type": "text", "text": MEMORY},
                 {"type": "text", "text": "Why does the build fail?"}]}]}
    turns = [first]
    steps = [
        ("toolu_1", "Read", {"file_path": "/repo/setup.py"}, "import setuptools\n" * 80),
        ("toolu_2", "mcp__github__get_issue", {"number": 7},
         [{"type": "text", "text": "Issue 7: build fails on CI. " * 60}]),
    ]
    body = first
    for tool_id, name, args, result in steps:
        body = copy.deepcopy(body)
        body["messages"].append({"role": "assistant", "content": [
            {"type": "text", "text": f"Let me call {name}."},
            {"type": "tool_use", "id": tool_id, "name": name, "input": args}]})
        body["messages"].append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": tool_id, "content": result}]})
        turns.append(body)
    body = copy.deepcopy(body)
    body["messages"].append({"role": "assistant", "content": [
        {"type": "text", "text": "The issue says the build fails on CI."}]})
    body["messages"].append({"role": "user", "content": [
        {"type": "text", "text": "Fix it please."}]})
    turns.append(body)
    return turns


def record(body: dict[str, Any], usage: Usage | None, *, ts: float,
           session: str | None = "sess-1", model: str | None = None,
           status: int = 200) -> Record:
    """A stored record of one exchange, attributed and priced as the runtime does."""
    model = model or body.get("model")
    body = dict(body, model=model)
    capture = Capture(
        id=new_id(ts), ts=iso_utc(ts), connection_id="c1", mode="intercept", method="POST",
        scheme="https", host="api.anthropic.com", port=443, path="/v1/messages?beta=true",
        model=model, stream=True, session_id=session,
        request_headers=[("anthropic-version", "2023-06-01")], request_json=body,
        request_bytes=len(str(body)), status=status, usage=usage or Usage(),
        response_json={"type": "message", "role": "assistant", "content": [
            {"type": "text", "text": "ok"}], "usage": (usage or Usage()).to_dict()},
        complete=True,
    )
    node = attribute(body, usage if usage and usage.input_tokens is not None else None,
                     headers={"anthropic-version": "2023-06-01"})
    return Record(capture=capture, attribution=node,
                  cost_usd=cost(model, usage) if model else None)
