"""Reading HAR 1.2 back: each Anthropic API entry becomes an `Exchange`, as if the proxy
had just relayed it, so the recorder's own path (redaction, decoding, SSE reassembly,
attribution, pricing) turns it into a capture.

Ours and other tools' HARs are read alike. A streamed reply is taken from its raw events
when the HAR kept them whole (our `_rawSSE`, or a `text/event-stream` text), otherwise from
the reassembled message. Bodies in a HAR are already decoded, so the encoding headers are
dropped; HAR's timings (connect, send, wait, receive) give back the capture's own
milestones, and `_id` (ours) keeps the capture's id, so importing twice replaces rather
than duplicates.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any, Iterator
from urllib.parse import urlsplit

from inspector.ids import new_id
from inspector.model import CapturedBody, Exchange, Timings

#: hosts whose exchanges are imported (a gateway's are too, by the Messages API path)
API_HOSTS = ("anthropic.com", "claude.ai")
#: raw events longer than this were cut when captured: the reassembled message is whole
RAW_SSE_KEPT = 1 << 20
_DROPPED = {"content-encoding", "content-length", "transfer-encoding"}


class HarError(ValueError):
    """The file is not a HAR log; the message says why in one line."""


def read_har(text: str) -> list[dict[str, Any]]:
    """The entries of a HAR log."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise HarError(f"not JSON ({e})") from None
    entries = (data.get("log") or {}).get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise HarError("no log.entries: not a HAR 1.2 file")
    return [e for e in entries if isinstance(e, dict)]


def is_api_entry(entry: dict[str, Any]) -> bool:
    url = ((entry.get("request") or {}).get("url")) or ""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return (any(host == h or host.endswith("." + h) for h in API_HOSTS)
            or "/v1/messages" in parts.path)


def _body(text: str | None, base64_: bool, limit: int) -> CapturedBody:
    body = CapturedBody(limit)
    if text:
        body.append(base64.b64decode(text) if base64_ else text.encode("utf-8", "surrogatepass"))
    return body


def _pairs(headers: Any) -> list[tuple[str, str]]:
    out = []
    for h in headers or []:
        if isinstance(h, dict) and "name" in h:
            out.append((str(h["name"]).lower(), str(h.get("value", ""))))
    return out


def _epoch(started: Any) -> float:
    try:
        return datetime.fromisoformat(str(started).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise HarError(f"startedDateTime {started!r} is not an ISO time") from None


def _timings(entry: dict[str, Any]) -> Timings:
    t = entry.get("timings") or {}

    def ms(key: str) -> float:
        value = t.get(key)
        return float(value) if isinstance(value, (int, float)) and value >= 0 else 0.0

    connect = t.get("connect")
    connected = float(connect) if isinstance(connect, (int, float)) and connect >= 0 else None
    sent = (connected or 0.0) + ms("send")
    first = sent + ms("wait")
    ended = first + ms("receive")
    return Timings(started_wall=_epoch(entry.get("startedDateTime")), started=0.0,
                   upstream_connect_ms=connected, request_sent=sent / 1000,
                   first_byte=first / 1000, ended=ended / 1000)


def _response(resp: dict[str, Any], limit: int) -> tuple[list[tuple[str, str]], CapturedBody]:
    headers = [(k, v) for k, v in _pairs(resp.get("headers")) if k not in _DROPPED]
    content = resp.get("content") or {}
    kind = next((v for k, v in headers if k == "content-type"), "") or content.get("mimeType", "")
    raw_sse = resp.get("_rawSSE")
    text = content.get("text")
    if (isinstance(raw_sse, str) and 0 < len(raw_sse) < RAW_SSE_KEPT
            and resp.get("_streamComplete") is not False):
        kind, text, b64 = "text/event-stream", raw_sse, False  # the events, whole
    elif "event-stream" in str(kind) or "event-stream" in str(content.get("mimeType", "")):
        kind, b64 = "text/event-stream", content.get("encoding") == "base64"
    else:  # a reply, or a reassembled message (its events were cut or not kept)
        b64 = content.get("encoding") == "base64"
        if isinstance(raw_sse, str):
            kind = "application/json"
    headers = [(k, v) for k, v in headers if k != "content-type"]
    if kind:
        headers.append(("content-type", str(kind)))
    return headers, _body(text, b64, limit)


def entry_exchange(entry: dict[str, Any], limit: int = 64 << 20) -> Exchange:
    """The exchange one HAR entry records."""
    req = entry.get("request") or {}
    resp = entry.get("response") or {}
    url = urlsplit(str(req.get("url") or ""))
    scheme = url.scheme or "https"
    post = req.get("postData") or {}
    b64_request = "base64" in str(post.get("comment", "")) or post.get("encoding") == "base64"
    request_headers = [(k, v) for k, v in _pairs(req.get("headers")) if k not in _DROPPED]
    timings = _timings(entry)
    status = resp.get("status")
    response_headers, response_body = _response(resp, limit)
    given = entry.get("_id")
    return Exchange(
        id=given if isinstance(given, str) and len(given) == 20 else new_id(timings.started_wall),
        connection_id=str(entry.get("connection") or "import"), mode="import",
        scheme=scheme, host=url.hostname or "", port=url.port or (443 if scheme == "https" else 80),
        method=str(req.get("method") or "POST"),
        target=(url.path or "/") + (f"?{url.query}" if url.query else ""),
        client_addr="", request_headers=request_headers,
        request_body=_body(post.get("text"), b64_request, limit),
        status=status if isinstance(status, int) and status > 0 else None,
        reason=str(resp.get("statusText") or ""), response_headers=response_headers,
        response_body=response_body if status else None, timings=timings,
        error=resp.get("_error") if isinstance(resp.get("_error"), str) else None,
        complete=bool(status) and not resp.get("_error"),
    )


def har_exchanges(entries: list[dict[str, Any]], limit: int = 64 << 20) -> Iterator[Exchange]:
    """Exchanges of the Anthropic API entries, in the file's order."""
    for entry in entries:
        if is_api_entry(entry):
            yield entry_exchange(entry, limit)
