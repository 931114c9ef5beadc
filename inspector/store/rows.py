"""Converting between a Record and table rows, and the shared-part (blob) encoding.

Claude Code sends the same ~80 KB of `system` and `tools` on every turn and repeats the
whole conversation so far, so the big parts of a request body are stored once, keyed by
sha256, in `blobs`. The `requests.body` column holds the compact JSON text with each
shared part replaced by a marker `SOH <sha256> SOH` (SOH is U+0001). No control character
appears raw in JSON text written by `json.dumps` (they are escaped), so the marker is
unambiguous; it is not NUL because SQLite's text functions (LIKE, length) stop at a NUL,
and a body is rebuilt by pure text splicing, without parsing: that is what keeps export
fast.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from inspector.model import Capture, Node
from inspector.store.records import Record

#: Parts smaller than this are cheaper inline than as a shared blob.
BLOB_MIN_CHARS = 1024


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(obj: Any) -> str:
    """Compact JSON (one shared encoder: `json.dumps` with options makes one per call)."""
    return _encode(obj)


def split_body(body: Any) -> tuple[str, dict[str, str]]:
    """Compact JSON text of `body` with big shared parts replaced by markers.

    Returns (text, {sha256: part text}). Shared parts: `system`, `tools`, and each
    message of `messages`, when large enough.
    """
    if not isinstance(body, dict):
        return dumps(body), {}
    parts: dict[str, str] = {}
    slots: dict[str, str] = {}

    def share(value: Any) -> Any:
        text = dumps(value)
        if len(text) < BLOB_MIN_CHARS:
            return value
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        parts[digest] = text
        slot = f"\x02{len(slots)}\x02"
        slots[slot] = digest
        return slot

    shallow = dict(body)
    for key in ("system", "tools"):
        if key in shallow:
            shallow[key] = share(shallow[key])
    if isinstance(shallow.get("messages"), list):
        shallow["messages"] = [share(m) for m in shallow["messages"]]
    text = dumps(shallow)
    # each slot became the JSON string "\u0002N\u0002": swap it for the marker
    for slot, digest in slots.items():
        quoted = dumps(slot)
        text = text.replace(quoted, f"\x01{digest}\x01", 1)
    return text, parts


_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


def _ws(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]


def _value_spans(text: str) -> list[tuple[int, int]] | None:
    """Spans in the original text of the values worth sharing: `system`, `tools` and each
    element of `messages` at the top level. None if the text is not a JSON object.

    Uses the json module's own scanner, so it costs about one parse and needs no
    re-serialization; the stored text stays byte-for-byte what the client sent.
    """
    scan = _DECODER.scan_once
    spans: list[tuple[int, int]] = []
    try:
        i = _ws(text, 0)
        if text[i] != "{":
            return None
        i = _ws(text, i + 1)
        if text[i] == "}":
            return spans
        while True:
            if text[i] != '"':
                return None
            key, i = json.decoder.scanstring(text, i + 1)
            i = _ws(text, i)
            if text[i] != ":":
                return None
            i = _ws(text, i + 1)
            if key == "messages" and text[i] == "[":
                j = _ws(text, i + 1)
                while text[j] != "]":
                    _, end = scan(text, j)
                    spans.append((j, end))
                    j = _ws(text, end)
                    if text[j] == ",":
                        j = _ws(text, j + 1)
                    elif text[j] != "]":
                        return None
                end = j + 1
            else:
                _, end = scan(text, i)
                if key in ("system", "tools"):
                    spans.append((i, end))
            i = _ws(text, end)
            if text[i] == ",":
                i = _ws(text, i + 1)
            elif text[i] == "}":
                return spans
            else:
                return None
    except (StopIteration, IndexError, ValueError):
        return None


def split_text(text: str) -> tuple[str, dict[str, str]] | None:
    """Like `split_body`, but cutting the shared parts out of the original JSON text
    (faster, and exact). None when the text cannot be walked; use `split_body` then."""
    try:
        spans = _value_spans(text)
    except RecursionError:  # nested deeper than the scanner goes: store it whole
        return None if "\x01" in text else (text, {})
    if spans is None or "\x01" in text:
        return None
    parts: dict[str, str] = {}
    out: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        if end - start < BLOB_MIN_CHARS:
            continue
        piece = text[start:end]
        digest = hashlib.sha256(piece.encode("utf-8", "surrogatepass")).hexdigest()
        parts[digest] = piece
        out.append(text[pos:start])
        out.append(f"\x01{digest}\x01")
        pos = end
    out.append(text[pos:])
    return "".join(out), parts


def join_body(text: str, blob_text: dict[str, str]) -> str:
    """Rebuild the full JSON text from a stored body and its blobs' texts."""
    if "\x01" not in text:
        return text
    # str.split is much faster than a regex over a long body; odd items are hashes
    parts = text.split("\x01")
    for i in range(1, len(parts), 2):
        parts[i] = blob_text.get(parts[i], "null")
    return "".join(parts)


def blob_hashes(text: str | None) -> list[str]:
    if not text or "\x01" not in text:
        return []
    return text.split("\x01")[1::2]


def _int(flag: Any) -> int | None:
    return None if flag is None else int(bool(flag))


def request_row(rec: Record, body: str | None, tree: str | None, top: str | None) -> tuple:
    c = rec.capture
    return (
        c.id, c.ts, c.connection_id, c.mode, c.method, c.scheme, c.host, c.port, c.path,
        c.model, int(bool(c.stream)), c.session_id, dumps(c.request_headers), body,
        c.request_text if c.request_json is None else None, c.request_raw,
        c.request_bytes, int(bool(c.request_truncated)), c.request_note, rec.cost_usd,
        top, tree,
    )



REQUEST_COLUMNS = (
    "id, ts, connection_id, mode, method, scheme, host, port, path, model, stream, "
    "session_id, headers, body, body_text, body_raw, body_bytes, truncated, "
    "note, cost_usd, top_source, attribution"
)


def response_row(c: Capture) -> tuple:
    u = c.usage
    body = dumps(c.response_json) if c.response_json is not None else None
    text = c.response_text if body is None else None
    return (
        c.id, c.status, c.reason, dumps(c.response_headers), body, text, c.response_raw,
        c.response_bytes, int(bool(c.response_truncated)), c.response_note,
        None if c.raw_sse is None else json.dumps(c.raw_sse, ensure_ascii=False),
        _int(c.stream_complete), c.stop_reason, u.input_tokens, u.output_tokens,
        u.cache_read_input_tokens, u.cache_creation_input_tokens, u.cache_creation_5m,
        u.cache_creation_1h, c.request_sent_ms, c.ttfb_ms, c.total_ms,
        c.upstream_connect_ms, c.proxy_overhead_ms, c.error, int(bool(c.complete)),
    )


RESPONSE_COLUMNS = (
    "request_id, status, reason, headers, body, body_text, body_raw, body_bytes, truncated, "
    "note, "
    "raw_sse, stream_complete, stop_reason, input_tokens, output_tokens, cache_read_tokens, "
    "cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, "
    "request_sent_ms, ttfb_ms, total_ms, upstream_connect_ms, proxy_overhead_ms, error, "
    "complete"
)


_encode_str = json.encoder.encode_basestring  # what dumps uses with ensure_ascii=False
_INF = float("inf")


class _NotFlat(Exception):
    """A value `_scalar` does not write itself: the caller falls back to `dumps`."""


def _scalar(v: Any) -> str:
    """`dumps(v)` for strings, numbers, booleans and None, written directly."""
    t = type(v)
    if t is str:
        return _encode_str(v)
    if t is int:
        return int.__repr__(v)
    if t is float and v == v and v != _INF and v != -_INF:
        return float.__repr__(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    raise _NotFlat


def _meta_json(meta: dict[str, Any], skip_source: bool = True) -> str:
    """`dumps` of a node's meta (without `source` when `skip_source`), written directly
    for the usual flat metas: a tree's ~150 metas are most of the cost of storing it.
    The text is exactly what `dumps` gives; anything else goes through `dumps`."""
    parts = []
    try:
        for k, v in meta.items():
            if skip_source and k == "source":
                continue
            if type(k) is not str:
                raise _NotFlat
            parts.append(_encode_str(k) + ":" + _scalar(v))
    except _NotFlat:
        return dumps({k: v for k, v in meta.items() if not (skip_source and k == "source")})
    return "{" + ",".join(parts) + "}"


def flatten_tree(
    request_id: str, root: Node | None, leaf_sums: dict[str, list] | None = None,
) -> tuple[list[tuple], str | None, str | None, dict[str, int]]:
    """One walk over a tree: its `attributions` rows (pre-order; node ids count from 0,
    the root), its nested JSON (the `Node.to_dict` shape), its top source (the source
    whose leaves hold the most tokens) and the tokens per source (leaves without a source
    count under their kind).

    The rows' `meta` column leaves out `source`, which has its own column; a node whose
    meta is only its source stores NULL there (that is most of them, and keeps writing a
    150-node tree cheap). The nested JSON is written as text in the same walk, from the
    same pieces: exactly `dumps(root.to_dict())`, which serves instead for a tree holding
    a field that is not a plain JSON value.

    With `leaf_sums`, it also receives the leaves (every node without children, the root
    included when it has none) summed per group key (source, else kind, else "other"):
    `[leaves, chars, tokens, cost_usd or None]`, what the stats rollups keep per request.
    """
    if root is None:
        return [], None, None, {}
    try:
        return _flatten(request_id, root, leaf_sums, True)
    except _NotFlat:
        if leaf_sums is not None:
            leaf_sums.clear()
        rows_, _, top, totals = _flatten(request_id, root, leaf_sums, False)
        return rows_, dumps(root.to_dict()), top, totals


def _flatten(request_id: str, root: Node, leaf_sums: dict[str, list] | None,
             with_text: bool) -> tuple[list[tuple], str | None, str | None, dict[str, int]]:
    out: list[tuple] = []
    append = out.append
    totals: dict[str, int] = {}
    text: list[str] = []
    emit = text.append

    def walk(node: Node, parent: int | None) -> None:
        node_id = len(out)
        meta = node.meta or {}
        source = meta.get("source")
        if not isinstance(source, str):
            source = None
        rest = None
        if meta and (source is None or len(meta) > 1):
            rest = _meta_json(meta)
        append((request_id, node_id, parent, node.kind, node.label, source, node.chars,
                node.tokens, 1 if node.estimated else 0, 1 if node.cached else 0,
                node.path, rest))
        children = node.children
        if not children:
            if parent is not None:
                key = source or node.kind
                totals[key] = totals.get(key, 0) + (node.tokens or 0)
            if leaf_sums is not None:
                _add_leaf(leaf_sums, source or ("other" if node.kind is None else node.kind),
                          node, meta)
        if not with_text:
            for child in children:
                walk(child, node_id)
            return
        if not meta:
            full = "{}"
        elif source is not None and next(iter(meta)) == "source":
            full = '{"source":' + _encode_str(source) + ("}" if rest is None else "," + rest[1:])
        else:
            full = _meta_json(meta, skip_source=False)
        emit('{"kind":' + _scalar(node.kind) + ',"label":' + _scalar(node.label)
             + ',"chars":' + _scalar(node.chars) + ',"tokens":' + _scalar(node.tokens)
             + ',"estimated":' + _scalar(node.estimated) + ',"path":' + _scalar(node.path)
             + ',"cached":' + _scalar(node.cached) + ',"meta":' + full + ',"children":[')
        for i, child in enumerate(children):
            if i:
                emit(",")
            walk(child, node_id)
        emit("]}")

    walk(root, None)
    top = max(totals.items(), key=lambda kv: kv[1])[0] if totals else None
    return out, "".join(text) if with_text else None, top, totals


def _add_leaf(sums: dict[str, list], key: str, node: Node, meta: dict[str, Any]) -> None:
    cost = meta.get("cost_usd")
    if type(cost) not in (int, float):
        cost = None
    entry = sums.get(key)
    if entry is None:
        sums[key] = [1, node.chars or 0, node.tokens or 0, cost]
        return
    entry[0] += 1
    entry[1] += node.chars or 0
    entry[2] += node.tokens or 0
    if cost is not None:
        entry[3] = cost if entry[3] is None else entry[3] + cost


ATTRIBUTION_COLUMNS = (
    "request_id, node_id, parent_id, kind, label, source, chars, tokens, estimated, "
    "cached, path, meta"
)
