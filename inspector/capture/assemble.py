"""Exchange -> Capture: decode, parse, reassemble, redact. Pure apart from reading the
captured body copies, and it never raises: anything odd becomes a note on the capture.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from typing import Any, Iterator

from inspector import deepjson
from inspector.capture.decode import DecodeError, iter_decoded
from inspector.capture.elide import ELIDE_BODIES_ABOVE, elided_strings, parse_elided
from inspector.capture.quota import quota_fields
from inspector.capture.redact import (
    redact_headers, scrub_bytes, scrub_error, scrub_text, scrub_url,
)
from inspector.capture.sse import assemble_chunks, mask_deltas
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


#: how much of a body is read at a time
_CHUNK = 1 << 20


class _Body:
    """One decoded body: text and parsed JSON when possible, raw bytes otherwise.

    With `whole=False` nothing is read yet: `text_chunks()` then streams the decoded text,
    so an SSE reply of many megabytes is never held whole.
    """

    def __init__(self, body: CapturedBody | None, headers: Headers, whole: bool = True,
                 keep_text: bool = True) -> None:
        self.text: str | None = None
        self.raw: bytes | None = None
        self.json: Any = None
        self.notes: list[str] = []
        self.size = body.size if body is not None else 0
        self.truncated = bool(body.truncated) if body is not None else False
        self._body = body
        #: a huge JSON body is parsed with its long strings elided (see `elide`); with
        #: `keep_text`, long strings other than media data are parsed in full
        self.keep_text = keep_text
        self.elided = False
        self.content_type = _header(headers, "content-type")
        self._encoding = _header(headers, "content-encoding")
        if body is None:
            return
        if self.truncated:
            self.notes.append(f"capture cut at {len(body)} of {self.size} bytes")
        if whole:
            self._read()

    def _decoded(self) -> Iterator[bytes]:
        assert self._body is not None
        return iter_decoded(self._body.chunks(_CHUNK), self._encoding, self.notes)

    def keep_raw(self, error: Exception) -> None:
        """The body does not decode: keep its bytes as they came (redacted)."""
        self.notes.append(str(error))
        assert self._body is not None
        try:
            self.raw = scrub_bytes(self._body.getvalue())
        except OSError as e:
            self.notes.append(f"body unreadable: {e}")

    def _read(self) -> None:
        # The text grows in place (a str with no other reference is resized, not copied,
        # by +=), so a big body is held once as text, never also as bytes.
        text = ""
        try:
            decoder = codecs.getincrementaldecoder(_charset(self.content_type))()
            for piece in self._decoded():
                text += decoder.decode(piece)
            text += decoder.decode(b"", final=True)
        except DecodeError as e:
            del text
            return self.keep_raw(e)
        except OSError as e:  # a spooled file that went away
            self.notes.append(f"body unreadable: {e}")
            return
        except (UnicodeDecodeError, LookupError):
            del text
            return self._keep_binary()
        if not text:
            return
        self.text = scrub_text(text)
        del text
        if _looks_json(self.content_type, self.text):
            try:
                if len(self.text) < ELIDE_BODIES_ABOVE:
                    self.json = json.loads(self.text)
                else:
                    self.json = parse_elided(self.text, keep_text=self.keep_text)
                    self.elided = next(elided_strings(self.json), None) is not None
            except RecursionError:  # valid, but deeper than Python parses: keep the rest
                try:
                    self.json = json.loads(deepjson.cut_deep(self.text))
                    self.notes.append(f"JSON nested over {deepjson.MAX_DEPTH} levels deep: "
                                      "the deeper values are stored, not analysed")
                except (ValueError, RecursionError):
                    self.notes.append("not JSON (kept as text)")
            except ValueError:
                self.notes.append("not JSON (kept as text)")

    def _keep_binary(self) -> None:
        """Not text in its charset: keep the decoded bytes (redacted)."""
        try:
            data = b"".join(iter_decoded(self._body.chunks(_CHUNK), self._encoding, []))  # type: ignore[union-attr]
        except (DecodeError, OSError) as e:
            self.notes.append(f"body unreadable: {e}")
            return
        self.notes.append(f"binary body ({len(data)} bytes) kept raw")
        self.raw = scrub_bytes(data)

    def text_chunks(self) -> Iterator[str]:
        """The decoded body as text, chunk by chunk (undecodable bytes become U+FFFD).
        Raises `DecodeError` if the content encoding fails part way."""
        if self._body is None:
            return
        try:
            decoder = codecs.getincrementaldecoder(_charset(self.content_type))("replace")
        except LookupError:
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
        for piece in self._decoded():
            text = decoder.decode(piece)
            if text:
                yield text
        rest = decoder.decode(b"", final=True)
        if rest:
            yield rest

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
            path=scrub_url(ex.target), status=ex.status,
            error=scrub_error(ex.error or f"capture_failed: {e}"),
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
        status=ex.status, reason=scrub_error(ex.reason or ""),
        response_headers=redact_headers(ex.response_headers),
        quota=quota_fields(ex.response_headers),
        request_sent_ms=t.ms(t.request_sent), ttfb_ms=t.ms(t.first_byte),
        total_ms=t.ms(t.ended), upstream_connect_ms=t.upstream_connect_ms,
        proxy_overhead_ms=t.proxy_overhead_ms,
        error=scrub_error(ex.error) if ex.error else ex.error, complete=ex.complete,
    )
    del req, body_json
    if ex.response_body is None:
        return cap
    content_type = (_header(ex.response_headers, "content-type") or "").lower()
    stream = "text/event-stream" in content_type
    resp = _Body(ex.response_body, ex.response_headers, whole=not stream, keep_text=False)
    cap.response_bytes, cap.response_truncated = resp.size, resp.truncated
    if stream:
        _add_stream(cap, resp, raw_sse_cap)
    if resp.raw is not None or not stream:
        # the message as parsed is what is stored, or its text when the parse left out
        # long strings; the text too only when it is no JSON
        cap.response_raw, cap.response_json = resp.raw, resp.json
        cap.response_text = resp.text if resp.json is None or resp.elided else None
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


def _add_stream(cap: Capture, resp: _Body, raw_sse_cap: int) -> None:
    """Reassemble an SSE reply into the final message as it is read; keep the first
    `raw_sse_cap` characters of the raw events. Redaction runs on both: on each
    reassembled text (a key streamed in pieces is whole only there) and on the raw
    events, where the pieces of such a key are masked."""
    cap.stream = True
    kept: list[str] = []
    sizes = [0, 0]  # characters seen, characters kept

    def chunks() -> Iterator[str]:
        for chunk in resp.text_chunks():
            sizes[0] += len(chunk)
            if sizes[1] < raw_sse_cap:
                piece = chunk[:raw_sse_cap - sizes[1]]
                kept.append(piece)
                sizes[1] += len(piece)
            yield chunk

    try:
        assembler = assemble_chunks(chunks(), scrub=scrub_text)
    except DecodeError as e:
        resp.keep_raw(e)
        cap.response_note = resp.note
        return
    except OSError as e:
        resp.notes.append(f"body unreadable: {e}")
        cap.response_note = resp.note
        return
    raw = "".join(kept)
    del kept
    cap.raw_sse = scrub_text(mask_deltas(raw, assembler.redacted))
    notes = list(resp.notes)
    if sizes[0] > raw_sse_cap:
        notes.append(f"raw SSE kept to {raw_sse_cap} of {sizes[0]} chars")
    message = assembler.message
    notes.extend(assembler.notes)
    cap.stream_complete = assembler.complete and assembler.error is None
    if message is not None:
        message = _scrub_message(message)
        cap.response_json = message
        cap.usage = Usage.from_api(message.get("usage"))
        if isinstance(message.get("stop_reason"), str):
            cap.stop_reason = message["stop_reason"]
        if cap.model is None and isinstance(message.get("model"), str):
            cap.model = message["model"]
    if assembler.error is not None and cap.error is None:
        cap.error = scrub_error("stream_error: " + (_api_error(assembler.error) or "error event"))
    elif not cap.stream_complete and cap.error is None:
        cap.error = "stream_incomplete: no message_stop"
    if not cap.stream_complete:
        notes.append("stream incomplete: stored what arrived")
    cap.response_note = "; ".join(notes) or None


def _scrub_message(message: dict[str, Any]) -> dict[str, Any]:
    """The reassembled message with secrets anywhere in it (not only in the texts the
    assembler scrubbed) redacted; the same object when there were none."""
    text = json.dumps(message, ensure_ascii=False)
    clean = scrub_text(text)
    if clean is text or clean == text:
        return message
    try:
        return json.loads(clean)
    except ValueError:  # redaction never breaks JSON, but the message must not be lost
        log.warning("redacted message is not JSON; storing it without its content")
        return dict(message, content=[])
