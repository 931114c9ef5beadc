"""Rows both ways: a Record as table rows for the writer (the request body is cut by
`bodies.py`), and the typed rows readers get back (`RequestRow`, `SessionSummary`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from inspector.model import Capture
from inspector.store.compact import pack
from inspector.store.records import Record

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(obj: Any) -> str:
    """Compact JSON (one shared encoder: `json.dumps` with options makes one per call)."""
    return _encode(obj)


def _int(flag: Any) -> int | None:
    return None if flag is None else int(bool(flag))


def request_row(rec: Record, body: str | None, tree: str | bytes | None,
                top: str | None) -> tuple:
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
    if c.response_json is not None and c.response_text is not None:
        body = c.response_text  # the reply's own JSON text (see Capture.response_text)
    else:
        body = dumps(c.response_json) if c.response_json is not None else None
    text = c.response_text if body is None else None
    return (
        c.id, c.status, c.reason, dumps(c.response_headers), pack(body), pack(text),
        c.response_raw, c.response_bytes, int(bool(c.response_truncated)), c.response_note,
        None if c.raw_sse is None else pack(json.dumps(c.raw_sse, ensure_ascii=False)),
        _int(c.stream_complete), c.stop_reason, u.input_tokens, u.output_tokens,
        u.cache_read_input_tokens, u.cache_creation_input_tokens, u.cache_creation_5m,
        u.cache_creation_1h, c.request_sent_ms, c.ttfb_ms, c.total_ms,
        c.upstream_connect_ms, c.proxy_overhead_ms, c.error, int(bool(c.complete)),
        None if c.quota is None else dumps(c.quota),
    )


RESPONSE_COLUMNS = (
    "request_id, status, reason, headers, body, body_text, body_raw, body_bytes, truncated, "
    "note, "
    "raw_sse, stream_complete, stop_reason, input_tokens, output_tokens, cache_read_tokens, "
    "cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, "
    "request_sent_ms, ttfb_ms, total_ms, upstream_connect_ms, proxy_overhead_ms, error, "
    "complete, quota"
)


# -- what readers get: one typed row from the store to every screen and command ---------


@dataclass(frozen=True)
class RequestRow:
    """One capture as lists show it (the narrow columns; `queries.LIST_FIELDS` in order).
    `pending`: the request is in flight, only its head is known. `seq`: the row's place
    in the store's change feed (SQLite's rowid: a later write has a higher one)."""

    id: str
    ts: str | None = None
    method: str | None = None
    host: str | None = None
    path: str | None = None
    model: str | None = None
    stream: bool = False
    status: int | None = None
    session_id: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None
    ttfb_ms: float | None = None
    total_ms: float | None = None
    cost_usd: float | None = None
    top_source: str | None = None
    error: str | None = None
    stream_complete: bool | None = None
    pending: bool = False
    seq: int = 0

    @property
    def prompt_tokens(self) -> int | None:
        """input + cache read + cache creation, None when unknown."""
        if self.input_tokens is None:
            return None
        return (self.input_tokens + (self.cache_read_tokens or 0)
                + (self.cache_creation_tokens or 0))

    def as_dict(self) -> dict[str, Any]:
        """The stable `--json` shape: the list fields (and `state` for a pending row)."""
        out = {f: getattr(self, f) for f in LIST_KEYS}
        if self.pending:
            out["state"] = "pending"
        return out


#: the list fields, in their stable order (`list --json`, CSV)
LIST_KEYS = tuple(f.name for f in fields(RequestRow))[:19]


@dataclass(frozen=True)
class SessionSummary:
    """One session among the listed captures: how many requests, when, the prompt size of
    each turn in order (to see the context grow), output tokens and cost."""

    session_id: str
    requests: int = 0
    first_ts: str | None = None
    last_ts: str | None = None
    prompt_tokens: tuple[int | None, ...] = ()
    output_tokens: int = 0
    cost_usd: float | None = None

    @property
    def last_prompt(self) -> int | None:
        known = [p for p in self.prompt_tokens if p is not None]
        return known[-1] if known else None

    @property
    def all_tokens(self) -> int:
        """Prompt tokens of every turn plus the output: what the session sent and got."""
        return sum(p for p in self.prompt_tokens if p is not None) + (self.output_tokens or 0)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["prompt_tokens"] = list(self.prompt_tokens)
        return out
