"""Full exchanges: a capture's request and response (bodies, headers), usage, timings,
attribution and feedback, read with a few batched queries for `show`, the app's detail
view and export.

With `parse_bodies=False` the JSON columns come as `RawJSON` text that exporters splice
in unparsed. `iter_exchanges` reads every exchange a `Filter` (see `queries.py`) matches,
holding a bounded amount of request bodies in memory at once.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Iterator

from inspector import deepjson
from inspector.store import bodies
from inspector.store.compact import unpack
from inspector.store.db import Store
from inspector.store.queries import Filter, NotFound, _pages


class RawJSON(str):
    """JSON text passed through unparsed (exports splice it in as is)."""


class StoredJSON(RawJSON):
    """A request body's full JSON text that also knows how it is stored: `parts`
    alternates inline text and the sha256 of a shared part (see `bodies.expand`), whose
    text is in `blobs`. Exporters that must escape the body (HAR) escape each shared part
    once, not once per exchange."""

    parts: list[str]
    blobs: dict[str, str]


def _json(stored: str | bytes | None, parse: bool) -> Any:
    """A JSON column's value (compressed or not, see `compact.pack`), parsed or raw."""
    text = unpack(stored)
    if text is None:
        return None
    return deepjson.loads(text) if parse else RawJSON(text)


def _request_body(store: Store, stored: str, parse: bool) -> Any:
    if "\x01" not in stored:  # nothing shared
        return deepjson.loads(stored) if parse else RawJSON(stored)
    pieces = store.body_pieces(stored)
    texts = store.blob_texts(pieces[1::2])
    full = bodies.join(pieces, texts)
    if parse:
        return deepjson.loads(full)
    out = StoredJSON(full)
    out.parts = pieces
    out.blobs = texts
    return out


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None


_REQ_COLS = ("id, ts, method, scheme, host, port, path, mode, connection_id, model, stream,"
             " session_id, headers, body, body_text, body_raw, body_bytes, truncated, note,"
             " cost_usd, top_source, attribution")
_RESP_COLS = ("request_id, status, reason, headers, body, body_text, body_raw, body_bytes,"
              " truncated, note, raw_sse, stream_complete, stop_reason, input_tokens,"
              " output_tokens, cache_read_tokens, cache_creation_tokens,"
              " cache_creation_5m_tokens, cache_creation_1h_tokens, request_sent_ms, ttfb_ms,"
              " total_ms, upstream_connect_ms, proxy_overhead_ms, error, complete, quota")
_USAGE_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens",
               "cache_creation_5m_tokens", "cache_creation_1h_tokens")
_TIMING_KEYS = ("request_sent_ms", "ttfb_ms", "total_ms", "upstream_connect_ms",
                "proxy_overhead_ms")
_NO_RESPONSE = (None,) * 27


def exchange_dicts(store: Store, ids: list[str], parse_bodies: bool = True) -> list[dict[str, Any]]:
    """Full exchanges for `ids` (in the given order), read with a few batched queries.

    With `parse_bodies=False`, JSON columns (bodies, headers) come as `RawJSON` text for
    exporters to splice in unparsed; this is what makes export fast.
    """
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    ex = store.execute
    reqs = {r[0]: r for r in ex(f"SELECT {_REQ_COLS} FROM requests WHERE id IN ({marks})", ids)}
    resps = {r[0]: r for r in ex(
        f"SELECT {_RESP_COLS} FROM responses WHERE request_id IN ({marks})", ids)}
    feedback: dict[str, list[dict[str, Any]]] = {}
    for rid, rating, note, ts in ex(f"SELECT request_id, rating, note, ts FROM feedback"
                                    f" WHERE request_id IN ({marks}) ORDER BY id", ids):
        feedback.setdefault(rid, []).append({"rating": rating, "note": note, "ts": ts})
    out = []
    for id_ in ids:
        r = reqs.get(id_)
        if r is None:
            continue
        (_, ts, method, scheme, host, port, path, mode, conn_id, model, stream, session,
         headers, body, body_text, body_raw, body_bytes, truncated, note, cost, top,
         tree) = r
        request = {
            "method": method, "scheme": scheme, "host": host, "port": port, "path": path,
            "url": _url(scheme, host, port, path), "mode": mode, "connection_id": conn_id,
            "model": model, "stream": bool(stream), "session_id": session,
            "headers": _json(headers, parse_bodies) or [],
            "body": (_request_body(store, body, parse_bodies) if body is not None
                     else body_text),
            "body_base64": _b64(body_raw), "body_bytes": body_bytes,
            "truncated": bool(truncated), "note": note,
        }
        s = resps.get(id_, _NO_RESPONSE)
        response = {
            "status": s[1], "reason": s[2], "headers": _json(s[3], parse_bodies) or [],
            "body": _json(s[4], parse_bodies) if s[4] is not None else unpack(s[5]),
            "body_base64": _b64(s[6]), "body_bytes": s[7], "truncated": bool(s[8]),
            "note": s[9], "raw_sse": _json(s[10], parse_bodies),
            "stream_complete": None if s[11] is None else bool(s[11]),
            "stop_reason": s[12], "error": s[24], "complete": bool(s[25]),
        }
        out.append({
            "id": id_, "ts": ts, "request": request, "response": response,
            "usage": dict(zip(_USAGE_KEYS, s[13:19])),
            "timings": dict(zip(_TIMING_KEYS, s[19:24])),
            "cost_usd": cost, "top_source": top,
            "attribution": _json(tree, parse_bodies),
            "feedback": feedback.get(id_, []),
            "quota": json.loads(s[26]) if s[26] else None,
        })
    return out


def _url(scheme: str | None, host: str | None, port: int | None, path: str | None) -> str:
    default = {"https": 443, "http": 80}.get(scheme or "")
    shown = "" if port in (None, default) else f":{port}"
    return f"{scheme or 'https'}://{host}{shown}{path or ''}"


def get_exchange(store: Store, id_prefix: str) -> dict[str, Any]:
    """The full exchange for a unique id prefix. Raises NotFound or AmbiguousId."""
    full = store.resolve_id(id_prefix)
    if full is None:
        raise NotFound(f"no capture with id {id_prefix!r}")
    found = exchange_dicts(store, [full])
    if not found:
        raise NotFound(f"no capture with id {id_prefix!r}")
    return found[0]


#: how many bytes of request bodies `iter_exchanges` holds in memory at once, at most
#: (a single bigger request is read alone)
EXPORT_BATCH_BYTES = 8 << 20


def iter_exchanges(store: Store, f: Filter, batch: int = 500,
                   parse_bodies: bool = True) -> Iterator[dict[str, Any]]:
    """Every exchange matching `f`, oldest first (see `_pages`). With `parse_bodies=False`
    JSON bodies come as `RawJSON` text, which exporters write without parsing.

    Ids are paged `batch` at a time, but exchanges are read in groups of at most
    `EXPORT_BATCH_BYTES` of request bodies: a long session's requests are a megabyte
    each, and memory must not grow with how many are exported."""
    join = " LEFT JOIN responses s ON s.request_id = r.id" if "s." in f.where()[0] else ""
    for page in _pages(store, f, f"SELECT r.id, r.ts, r.body_bytes FROM requests r{join}",
                       batch):
        group: list[str] = []
        size = 0
        for id_, _ts, body_bytes in page:
            if group and size + (body_bytes or 0) > EXPORT_BATCH_BYTES:
                yield from exchange_dicts(store, group, parse_bodies=parse_bodies)
                group, size = [], 0
            group.append(id_)
            size += body_bytes or 0
        yield from exchange_dicts(store, group, parse_bodies=parse_bodies)


__all__ = [
    "RawJSON", "StoredJSON", "EXPORT_BATCH_BYTES", "exchange_dicts", "get_exchange",
    "iter_exchanges",
]
