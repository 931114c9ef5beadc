"""HAR 1.2 export, for browser devtools and HAR viewers.

A streamed reply appears with the reassembled final message as its response text (the raw
events are kept in a custom `_rawSSE` field). Our timings map to HAR's: connect (the
upstream connection, when one was opened), send (request out), wait (to the first
response byte) and receive (the rest); HAR's `time` is their sum.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, TextIO
from urllib.parse import parse_qsl, urlsplit

from inspector import __version__
from inspector.export.jsonl import encode, placeholder, splice
from inspector.store.exchanges import RawJSON, StoredJSON

# shared body parts already escaped as JSON string content, by sha256; bounded in count
# and in characters (a part can be a 30 MB document)
_ESCAPED: dict[str, str] = {}
_ESCAPED_MAX = 512
_ESCAPED_MAX_CHARS = 32 << 20
_escaped_chars = 0


def _string_token(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def escaped_text(body: str) -> str:
    """`body` as a JSON string token. A stored request body is escaped part by part, each
    shared part once for the whole export (escaping commutes with concatenation)."""
    global _escaped_chars
    if not isinstance(body, StoredJSON):
        return _string_token(str(body))
    out = ['"']
    for i, part in enumerate(body.parts):
        if i % 2 == 0:
            if part:
                out.append(_string_token(part)[1:-1])
            continue
        esc = _ESCAPED.get(part)
        if esc is None:
            text = body.blobs.get(part)
            if text is None:
                return _string_token(str(body))
            if len(_ESCAPED) >= _ESCAPED_MAX or _escaped_chars > _ESCAPED_MAX_CHARS:
                _ESCAPED.clear()
                _escaped_chars = 0
            esc = _ESCAPED[part] = _string_token(text)[1:-1]
            _escaped_chars += len(esc)
        out.append(esc)
    out.append('"')
    return "".join(out)


def _pairs(headers: Any) -> list[list[str]]:
    """Header pairs, whether parsed or still JSON text (RawJSON from a fast read)."""
    if isinstance(headers, str):
        return json.loads(headers)
    return headers or []


def _headers(pairs: list[list[str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs]


def _header(pairs: list[list[str]], name: str) -> str | None:
    for k, v in pairs:
        if k.lower() == name:
            return v
    return None


def _text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, str):  # RawJSON text or plain text
        return str(body)
    return json.dumps(body, ensure_ascii=False)


def _ms(value: Any) -> float:
    return round(float(value), 3) if isinstance(value, (int, float)) and value >= 0 else -1


def har_timings(t: dict[str, Any]) -> dict[str, float]:
    connect = _ms(t.get("upstream_connect_ms"))
    sent, first, end = t.get("request_sent_ms"), t.get("ttfb_ms"), t.get("total_ms")
    send = max((sent or 0) - max(connect, 0), 0) if sent is not None else 0
    wait = max((first or 0) - (sent or 0), 0) if first is not None else 0
    if end is not None:
        receive = max(end - (first if first is not None else (sent or 0)), 0)
    else:
        receive = 0
    return {"blocked": -1, "dns": -1, "connect": connect, "ssl": -1,
            "send": round(send, 3), "wait": round(wait, 3), "receive": round(receive, 3)}


def har_entry(ex: dict[str, Any], raws: list[str] | None = None) -> dict[str, Any]:
    """One HAR entry. With `raws`, big texts are left as placeholders and their JSON
    tokens appended to `raws` (see `write_har`); without, the entry is complete."""
    req, resp = ex["request"], ex.get("response") or {}

    def big(text_or_raw: Any, token: Callable[[Any], str]) -> Any:
        if raws is None:
            return text_or_raw if not isinstance(text_or_raw, RawJSON) else str(text_or_raw)
        raws.append(token(text_or_raw))
        return placeholder(len(raws) - 1)

    req_headers, resp_headers = _pairs(req.get("headers")), _pairs(resp.get("headers"))
    url = req.get("url") or ""
    timings = har_timings(ex.get("timings") or {})
    total = sum(v for v in timings.values() if v > 0)
    request: dict[str, Any] = {
        "method": req.get("method") or "GET", "url": url, "httpVersion": "HTTP/1.1",
        "cookies": [], "headers": _headers(req_headers),
        "queryString": [{"name": k, "value": v}
                        for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
        "headersSize": -1, "bodySize": req.get("body_bytes") or 0,
    }
    req_text = _text(req.get("body"))
    mime = _header(req_headers, "content-type") or "application/octet-stream"
    if req_text is not None:
        body = req.get("body")
        text = big(body if isinstance(body, RawJSON) else req_text, escaped_text)
        request["postData"] = {"mimeType": mime, "text": text}
    elif req.get("body_base64"):
        request["postData"] = {"mimeType": mime, "text": req["body_base64"],
                               "comment": "base64 of the undecoded body"}
    stream = resp.get("raw_sse") is not None
    content: dict[str, Any] = {"size": resp.get("body_bytes") or 0,
                               "mimeType": "application/json" if stream else
                               (_header(resp_headers, "content-type")
                                or "application/octet-stream")}
    resp_text = _text(resp.get("body"))
    if resp_text is not None:
        content["text"] = resp_text
    elif resp.get("body_base64"):
        content["text"], content["encoding"] = resp["body_base64"], "base64"
    if stream:
        content["comment"] = "message reassembled from a text/event-stream reply"
    status = resp.get("status")
    entry: dict[str, Any] = {
        "startedDateTime": ex["ts"], "time": round(total, 3), "request": request,
        "response": {
            "status": status if isinstance(status, int) else 0,
            "statusText": resp.get("reason") or "", "httpVersion": "HTTP/1.1",
            "cookies": [], "headers": _headers(resp_headers), "content": content,
            "redirectURL": _header(resp_headers, "location") or "",
            "headersSize": -1, "bodySize": resp.get("body_bytes") or 0,
        },
        "cache": {}, "timings": timings, "connection": req.get("connection_id") or "",
        "_id": ex["id"], "_usage": ex.get("usage"), "_costUsd": ex.get("cost_usd"),
        "_sessionId": req.get("session_id"),
    }
    if resp.get("error"):
        entry["response"]["_error"] = resp["error"]
        entry["comment"] = resp["error"]
    if stream:
        raw = resp.get("raw_sse")
        if isinstance(raw, RawJSON):  # already a JSON string token
            entry["response"]["_rawSSE"] = big(raw, str) if raws is not None else json.loads(raw)
        else:
            entry["response"]["_rawSSE"] = raw
        entry["response"]["_streamComplete"] = resp.get("stream_complete")
    return entry


def write_har(exchanges: Iterable[dict[str, Any]], out: TextIO) -> int:
    """A HAR 1.2 log, written entry by entry (never the whole log in memory)."""
    out.write('{"log":{"version":"1.2","creator":')
    out.write(json.dumps({"name": "claude-inspect", "version": __version__}))
    out.write(',"pages":[],"entries":[')
    n = 0
    for ex in exchanges:
        out.write(",\n" if n else "\n")
        raws: list[str] = []
        entry = encode(har_entry(ex, raws))
        out.writelines(splice(entry, raws) if raws else (entry,))
        n += 1
    out.write("\n]}}\n")
    return n
