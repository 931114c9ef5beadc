"""Exchange -> Capture: decode, parse, reassemble, redact. Pure apart from reading the
captured body copies, and it never raises: anything odd becomes a note on the capture.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from inspector import deepjson
from inspector.capture.decode import DecodeError, decode_body
from inspector.capture.redact import redact_headers, scrub_bytes, scrub_text, scrub_url
from inspector.capture.sse import assemble_stream
from inspector.model import CapturedBody, Capture, Exchange, Headers, Usage
from inspector.timeparse import iso_utc

log = logging.getLogger(__name__)

_SESSION_IN_USER_ID = re.compile(r"_session_([0-9a-fA-F-]{8,})")


def _header(headers: Headers, name: str) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def _charset(content_type: str | None) -> str:
    if content_type:
        m = re.search(r"charset=\"?([\w.:-]+)", content_type, re.I)
        if m:
            return m.group(1)
    return "utf-8"


def _looks_json(content_type: str | None, text: str) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    head = text.lstrip()[:1]
    return head in ("{", "[")


class _Body:
    """One decoded body: text and parsed JSON when possible, raw bytes otherwise."""

    def __init__(self, body: CapturedBody | None, headers: Headers) -> None:
        self.text: str | None = None
        self.raw: bytes | None = None
        self.json: Any = None
        self.notes: list[str] = []
        self.size = body.size if body is not None else 0
        self.truncated = bool(body.truncated) if body is not None else False
        self.decoded = b""
        if body is None:
            return
        try:
            data = body.getvalue()
        except Exception as e:  # a spooled file that went away
            self.notes.append(f"body unreadable: {e}")
            return
        if self.truncated:
            self.notes.append(f"capture cut at {len(data)} of {self.size} bytes")
        content_type = _header(headers, "content-type")
        try:
            data, note = decode_body(data, _header(headers, "content-encoding"))
            if note:
                self.notes.append(note)
        except DecodeError as e:
            self.notes.append(str(e))
            self.raw = scrub_bytes(data)
            return
        self.decoded = data
        if not data:
            return
        try:
            text = data.decode(_charset(content_type))
        except (UnicodeDecodeError, LookupError):
            self.notes.append(f"binary body ({len(data)} bytes) kept raw")
            self.raw = scrub_bytes(data)
            return
        self.text = scrub_text(text)
        if _looks_json(content_type, self.text):
            try:
                self.json = json.loads(self.text)
            except RecursionError:  # valid, but deeper than Python parses: keep the rest
                try:
                    self.json = json.loads(deepjson.cut_deep(self.text))
                    self.notes.append(f"JSON nested over {deepjson.MAX_DEPTH} levels deep: "
                                      "the deeper values are stored, not analysed")
                except (ValueError, RecursionError):
                    self.notes.append("not JSON (kept as text)")
            except ValueError:
                self.notes.append("not JSON (kept as text)")

    @property
    def note(self) -> str | None:
        return "; ".join(self.notes) or None


def session_id_of(headers: Headers, body: Any) -> str | None:
    """Claude Code's session: the X-Claude-Code-Session-Id header, else the session in
    `metadata.user_id` (a JSON string holding `session_id`, or in older clients a string
    ending in `_session_<uuid>`). Other clients have none."""
    sid = _header(headers, "x-claude-code-session-id")
    if sid:
        return sid.strip()
    if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
        return None
    user_id = body["metadata"].get("user_id")
    if not isinstance(user_id, str):
        return None
    if user_id.lstrip().startswith("{"):
        try:
            parsed = json.loads(user_id)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("session_id"), str):
            return parsed["session_id"]
    m = _SESSION_IN_USER_ID.search(user_id)
    return m.group(1) if m else None


def _api_error(obj: Any) -> str | None:
    if isinstance(obj, dict) and obj.get("type") == "error" and isinstance(obj.get("error"), dict):
        obj = obj["error"]
    if isinstance(obj, dict) and ("message" in obj or "type" in obj):
        return f"{obj.get('type', 'error')}: {obj.get('message', '')}".strip()
    return None


def build_capture(ex: Exchange, raw_sse_cap: int = 1 << 20) -> Capture:
    """Turn what the proxy saw into what we keep. Never raises."""
    try:
        return _build(ex, raw_sse_cap)
    except Exception as e:  # last resort: keep the facts that cannot fail
        log.exception("capture of %s failed; storing a minimal record", ex.id)
        return Capture(
            id=ex.id, ts=iso_utc(ex.timings.started_wall), connection_id=ex.connection_id,
            mode=ex.mode, method=ex.method, scheme=ex.scheme, host=ex.host, port=ex.port,
            path=scrub_url(ex.target), status=ex.status, error=ex.error or f"capture_failed: {e}",
            request_note=f"capture failed: {type(e).__name__}", complete=ex.complete,
        )


def _build(ex: Exchange, raw_sse_cap: int) -> Capture:
    t = ex.timings
    req = _Body(ex.request_body, ex.request_headers)
    body_json = req.json if isinstance(req.json, dict) else {}
    cap = Capture(
        id=ex.id, ts=iso_utc(t.started_wall), connection_id=ex.connection_id, mode=ex.mode,
        method=ex.method, scheme=ex.scheme, host=ex.host, port=ex.port,
        path=scrub_url(ex.target),
        model=body_json.get("model") if isinstance(body_json.get("model"), str) else None,
        stream=body_json.get("stream") is True,
        session_id=session_id_of(ex.request_headers, req.json),
        request_headers=redact_headers(ex.request_headers),
        request_text=req.text, request_raw=req.raw, request_json=req.json,
        request_bytes=req.size, request_truncated=req.truncated, request_note=req.note,
        status=ex.status, reason=ex.reason,
        response_headers=redact_headers(ex.response_headers),
        request_sent_ms=t.ms(t.request_sent), ttfb_ms=t.ms(t.first_byte),
        total_ms=t.ms(t.ended), upstream_connect_ms=t.upstream_connect_ms,
        proxy_overhead_ms=t.proxy_overhead_ms, error=ex.error, complete=ex.complete,
    )
    if ex.response_body is None:
        return cap
    resp = _Body(ex.response_body, ex.response_headers)
    cap.response_bytes, cap.response_truncated = resp.size, resp.truncated
    content_type = (_header(ex.response_headers, "content-type") or "").lower()
    if "text/event-stream" in content_type and resp.raw is None:
        _add_stream(cap, resp, raw_sse_cap, ex)
    else:
        cap.response_text, cap.response_raw, cap.response_json = resp.text, resp.raw, resp.json
        if isinstance(resp.json, dict):
            cap.usage = Usage.from_api(resp.json.get("usage"))
            if isinstance(resp.json.get("stop_reason"), str):
                cap.stop_reason = resp.json["stop_reason"]
            if cap.error is None and (ex.status or 0) >= 400:
                cap.error = _api_error(resp.json)
        if cap.model is None and isinstance(resp.json, dict):
            model = resp.json.get("model")
            cap.model = model if isinstance(model, str) else None
    cap.response_note = resp.note if not cap.response_note else cap.response_note
    return cap


def _add_stream(cap: Capture, resp: _Body, raw_sse_cap: int, ex: Exchange) -> None:
    """Reassemble an SSE reply into the final message; keep the raw events (capped)."""
    text = resp.text or ""
    cap.stream = True
    cap.raw_sse = text if len(text) <= raw_sse_cap else text[:raw_sse_cap]
    notes = list(resp.notes)
    if len(text) > raw_sse_cap:
        notes.append(f"raw SSE kept to {raw_sse_cap} of {len(text)} chars")
    assembler, _events = assemble_stream(text)
    message = assembler.message
    notes.extend(assembler.notes)
    cap.stream_complete = assembler.complete and assembler.error is None
    if message is not None:
        cap.response_json = message
        cap.response_text = json.dumps(message, ensure_ascii=False)
        cap.usage = Usage.from_api(message.get("usage"))
        if isinstance(message.get("stop_reason"), str):
            cap.stop_reason = message["stop_reason"]
        if cap.model is None and isinstance(message.get("model"), str):
            cap.model = message["model"]
    if assembler.error is not None and cap.error is None:
        cap.error = "stream_error: " + (_api_error(assembler.error) or "error event")
    elif not cap.stream_complete and cap.error is None:
        cap.error = "stream_incomplete: no message_stop"
    if not cap.stream_complete:
        notes.append("stream incomplete: stored what arrived")
    cap.response_note = "; ".join(notes) or None
