"""Byte fixtures shaped like the Anthropic Messages API, and an Exchange builder."""

from __future__ import annotations

import json
import time

from inspector.ids import new_id
from inspector.model import CapturedBody, Exchange, Timings

#: The message the non-streamed API returns for the same reply as STREAM_EVENTS.
FINAL_MESSAGE = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [
        {"type": "thinking", "thinking": "The user wants the weather. I should call the tool.",
         "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
        {"type": "text", "text": "Let me check the weather in Paris — one moment."},
        {"type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather",
         "input": {"location": "Paris, France", "unit": "celsius", "days": [1, 2]}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 472,
        "cache_creation_input_tokens": 2100,
        "cache_read_input_tokens": 18000,
        "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 2000},
        "output_tokens": 89,
        "service_tier": "standard",
    },
}


def _ev(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream_events(final: dict = FINAL_MESSAGE) -> list[str]:
    """The SSE events the streaming API sends for `final`, text split into deltas."""
    start = {k: v for k, v in final.items() if k not in ("content", "usage")}
    start.update(content=[], stop_reason=None, stop_sequence=None)
    usage = dict(final["usage"], output_tokens=1)
    start["usage"] = usage
    out = [_ev("message_start", {"type": "message_start", "message": start}),
           _ev("ping", {"type": "ping"})]
    for i, block in enumerate(final["content"]):
        if block["type"] == "thinking":
            first = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": block["thinking"][:10]},
                      {"type": "thinking_delta", "thinking": block["thinking"][10:]},
                      {"type": "signature_delta", "signature": block["signature"]}]
        elif block["type"] == "text":
            first = {"type": "text", "text": ""}
            t = block["text"]
            deltas = [{"type": "text_delta", "text": t[j:j + 7]} for j in range(0, len(t), 7)]
        elif block["type"] == "tool_use":
            first = dict(block, input={})
            js = json.dumps(block["input"])
            deltas = [{"type": "input_json_delta", "partial_json": ""}] + [
                {"type": "input_json_delta", "partial_json": js[j:j + 5]}
                for j in range(0, len(js), 5)]
        else:
            first, deltas = block, []
        out.append(_ev("content_block_start",
                       {"type": "content_block_start", "index": i, "content_block": first}))
        for d in deltas:
            out.append(_ev("content_block_delta",
                           {"type": "content_block_delta", "index": i, "delta": d}))
        out.append(_ev("content_block_stop", {"type": "content_block_stop", "index": i}))
    out.append(_ev("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": final["stop_reason"], "stop_sequence": final["stop_sequence"]},
        "usage": {"output_tokens": final["usage"]["output_tokens"]}}))
    out.append(_ev("message_stop", {"type": "message_stop"}))
    return out


def stream_bytes(final: dict = FINAL_MESSAGE) -> bytes:
    return "".join(stream_events(final)).encode("utf-8")


SECRET_KEY = "sk-ant-api03-" + "Zq9XwV3bT7yL2mK8pR4sN6hJ1cF5dG0aE" + "-a1b2QQ"


def request_body(session: str = "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f", big: int = 0,
                 stream: bool = True, model: str = "claude-sonnet-4-5-20250929") -> dict:
    """A Claude Code-like request body; `big` adds that many chars of system + tools."""
    system = [{"type": "text", "text": "You are Claude Code, Anthropic's official CLI."},
              {"type": "text", "text": "Instructions. " + "x" * (big // 2),
               "cache_control": {"type": "ephemeral"}}]
    tools = [{"name": "Bash", "description": "Run a command. " + "y" * (big // 2),
              "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}]
    return {
        "model": model,
        "max_tokens": 32000,
        "stream": stream,
        "system": system,
        "tools": tools,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "What's the weather?"}]}],
        "metadata": {"user_id": json.dumps({"device_id": "d" * 64, "session_id": session})},
    }


def make_exchange(req_body: bytes = b"", resp_body: bytes | None = b"",
                  req_headers: list | None = None, resp_headers: list | None = None,
                  status: int = 200, limit: int = 1 << 26, started_wall: float | None = None,
                  complete: bool = True, error: str | None = None,
                  target: str = "/v1/messages?beta=true") -> Exchange:
    """An Exchange as the proxy would hand it over, bodies fed through CapturedBody."""
    rb = CapturedBody(limit)
    rb.append(req_body)
    sb = None
    if resp_body is not None:
        sb = CapturedBody(limit)
        for i in range(0, len(resp_body), 1000):
            sb.append(resp_body[i:i + 1000])
    now = time.perf_counter()
    t = Timings(started_wall=started_wall if started_wall is not None else time.time(),
                started=now, request_head_sent=now + 0.001, request_sent=now + 0.002,
                first_byte=now + 0.350, response_head_sent=now + 0.3505, ended=now + 1.2)
    return Exchange(
        id=new_id(t.started_wall), connection_id=new_id(), mode="intercept", scheme="https",
        host="api.anthropic.com", port=443, method="POST", target=target,
        client_addr="127.0.0.1:50000",
        request_headers=req_headers if req_headers is not None else [
            ("host", "api.anthropic.com"), ("content-type", "application/json"),
            ("x-api-key", SECRET_KEY), ("anthropic-version", "2023-06-01")],
        request_body=rb, status=status, reason="OK",
        response_headers=resp_headers if resp_headers is not None else [
            ("content-type", "text/event-stream; charset=utf-8")],
        response_body=sb, timings=t, error=error, complete=complete,
    )
