"""Deterministic Claude Code-like captures for the app's tests and snapshots: fixed ids
and timestamps, a CLAUDE.md reminder, an MCP server with tools and a tool result, a
skill, built-in tool calls, usage with cache reads. Written through the real store."""

from __future__ import annotations

import json
from pathlib import Path

from inspector.attribution import attribute, cost
from inspector.ids import _encode
from inspector.model import Capture, Usage
from inspector.store import Record, Store
from inspector.timeparse import iso_utc

T0 = 1_795_000_000.0  # 2026-11-18, a fixed point so snapshots never change
NOW = T0 + 86_400.0  # the app's clock in tests: the captures are a day old, whatever the date


def fixed_clock() -> float:
    """The clock the tests give the app, so periods such as \"the last 7 days\" hold the
    fixed captures on every day the tests run."""
    return NOW
SESSION_A = "7f3c2a10-1111-4a4a-9c9c-aaaaaaaaaaaa"
SESSION_B = "b2d4e6f8-2222-4b4b-8d8d-bbbbbbbbbbbb"

SYSTEM = [
    {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
    {"type": "text", "text": "You are an interactive CLI tool that helps users with software "
                             "engineering tasks. " * 40
                             + "\n<env>\nWorking directory: /repo\nPlatform: linux\n</env>",
     "cache_control": {"type": "ephemeral"}},
]


def _tool(name: str, description: str, size: int = 1) -> dict:
    return {"name": name, "description": description * size,
            "input_schema": {"type": "object", "properties": {"arg": {"type": "string"}}}}


TOOLS = [
    _tool("Bash", "Executes a given bash command in a persistent shell session. ", 30),
    _tool("Read", "Reads a file from the local filesystem. ", 20),
    _tool("Edit", "Performs exact string replacements in files. ", 20),
    _tool("Skill", "Execute a skill within the main conversation. <available_skills>"
                   "pdf: Extract text from PDF files</available_skills> ", 6),
    _tool("mcp__github__create_issue", "Create a new issue in a GitHub repository. ", 12),
    _tool("mcp__github__list_pull_requests", "List pull requests in a repository. ", 12),
    _tool("mcp__github__get_file_contents", "Get the contents of a file. ", 12),
    _tool("mcp__sentry__search_issues", "Search Sentry issues. ", 8),
]

CLAUDE_MD = ("<system-reminder>\nAs you answer the user's questions, you can use the "
             "following context:\nContents of /repo/CLAUDE.md (project instructions):\n\n"
             + "- Run the tests with `make test` before committing.\n" * 25
             + "</system-reminder>")

PROMPTS = [
    "Why does the login test fail on CI?",
    "List the open pull requests that touch auth",
    "Open an issue for the flaky test with what you found",
    "Now fix the test",
]


def _id(n: int, ts: float) -> str:
    return _encode(int(ts * 1000), 10) + _encode(n, 10)


def conversation(turn: int) -> list[dict]:
    """Messages of turn `turn` (0-based): each turn adds a tool call and its result."""
    messages: list[dict] = []
    for t in range(turn + 1):
        content: list[dict] = []
        if t == 0:
            content.append({"type": "text", "text": CLAUDE_MD})
        content.append({"type": "text", "text": PROMPTS[t % len(PROMPTS)]})
        messages.append({"role": "user", "content": content})
        if t == turn:
            break
        tool = "mcp__github__list_pull_requests" if t % 2 else "Bash"
        use_id = f"toolu_{t:04d}"
        messages.append({"role": "assistant", "content": [
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": use_id, "name": tool, "input": {"arg": f"step {t}"}},
        ]})
        result = ("#412 Fix token refresh (auth)\n" * 40) if t % 2 else ("FAILED tests/test_login.py::test_refresh\n" * 30)
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": use_id, "content": result},
        ]})
    return messages


def make_record(n: int, ts: float, session: str, turn: int,
                model: str = "claude-sonnet-4-5-20250929", status: int = 200) -> Record:
    body = {
        "model": model, "max_tokens": 32000, "stream": True,
        "metadata": {"user_id": f"user_abc_account_def_session_{session}"},
        "system": SYSTEM, "tools": TOOLS, "messages": conversation(turn),
    }
    prompt = len(json.dumps(body)) // 4
    cached = prompt - 900 if turn else 0
    usage = Usage(input_tokens=prompt - max(cached, 0), output_tokens=120 + 40 * turn,
                  cache_read_input_tokens=max(cached, 0), cache_creation_input_tokens=0)
    answer = {"id": f"msg_{n:04d}", "type": "message", "role": "assistant", "model": model,
              "content": [{"type": "text", "text": f"Here is what I found in turn {turn + 1}."}],
              "stop_reason": "end_turn", "stop_sequence": None,
              "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
                        "cache_read_input_tokens": usage.cache_read_input_tokens,
                        "cache_creation_input_tokens": 0}}
    ok = status < 400
    capture = Capture(
        id=_id(n, ts), ts=iso_utc(ts), connection_id=f"c{n}", mode="intercept",
        method="POST", scheme="https", host="api.anthropic.com", port=443,
        path="/v1/messages?beta=true", model=model, stream=True, session_id=session,
        request_headers=[("content-type", "application/json"), ("x-api-key", "[redacted]"),
                         ("user-agent", "claude-cli/2.0.14 (external, cli)")],
        request_text=json.dumps(body), request_json=body, request_bytes=len(json.dumps(body)),
        status=status, reason="OK" if ok else "Too Many Requests",
        response_headers=[("content-type", "text/event-stream"), ("request-id", f"req_{n}")],
        response_json=answer if ok else {"type": "error", "error": {
            "type": "rate_limit_error", "message": "Rate limited"}},
        raw_sse="event: message_start\ndata: {}\n\n" if ok else None,
        stream_complete=True if ok else None, stop_reason="end_turn" if ok else None,
        usage=usage if ok else Usage(),
        request_sent_ms=2.0, ttfb_ms=400.0 + 10 * n, total_ms=1500.0 + 100 * n,
        upstream_connect_ms=35.0, proxy_overhead_ms=0.6, complete=True,
    )
    node = attribute(body, usage if ok else None, headers={})
    return Record(capture=capture, attribution=node,
                  cost_usd=cost(model, usage) if ok else None)


def sample_records() -> list[Record]:
    """Two sessions: four turns in A (sonnet), two in B (opus), plus one 429."""
    records = []
    n = 0
    for turn in range(4):
        records.append(make_record(n, T0 + 60 * turn, SESSION_A, turn))
        n += 1
    for turn in range(2):
        records.append(make_record(n, T0 + 300 + 60 * turn, SESSION_B, turn,
                                   model="claude-opus-4-1-20250805"))
        n += 1
    records.append(make_record(n, T0 + 500, SESSION_B, 2, model="claude-opus-4-1-20250805",
                               status=429))
    return records


def write_sample(db_path: Path) -> list[Record]:
    records = sample_records()
    with Store(db_path) as store:
        store.write(records)
    return records


def demo_records(seed: int = 0, turns: int = 6, t0: float = T0 + 1000,
                 first: int = 100) -> list[Record]:
    """The demo generator's session (the one newcomers see), as stored records with
    fixed ids and timestamps."""
    from inspector.capture import session_id_of
    from inspector.demo.traffic import demo_session

    records = []
    for i, turn in enumerate(demo_session(seed, turns)):
        ts = t0 + 45 * i
        headers = [(k.lower(), v) for k, v in turn.headers.items()]
        usage = Usage.from_api(turn.response.get("usage"))
        model = turn.request.get("model")
        text = json.dumps(turn.request)
        capture = Capture(
            id=_id(first + i, ts), ts=iso_utc(ts), connection_id="demo", mode="intercept",
            method="POST", scheme="https", host="api.anthropic.com", port=443,
            path="/v1/messages?beta=true", model=model, stream=True,
            session_id=session_id_of(headers, turn.request), request_headers=headers,
            request_text=text, request_json=turn.request, request_bytes=len(text),
            status=200, reason="OK", response_headers=[("content-type", "text/event-stream")],
            response_json=turn.response, stream_complete=True,
            stop_reason=turn.response.get("stop_reason"), usage=usage,
            request_sent_ms=1.2, ttfb_ms=650.0 + 20 * i, total_ms=2400.0 + 310 * i,
            upstream_connect_ms=40.0 if i == 0 else None, proxy_overhead_ms=0.4,
            complete=True,
        )
        node = attribute(turn.request, usage, headers=dict(headers))
        records.append(Record(capture=capture, attribution=node, cost_usd=cost(model, usage)))
    return records
