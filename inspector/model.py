"""Plain data shared by every part of claude-inspect.

Nothing here touches the network or a database, and nothing here imports a third-party
package, so the proxy, capture, attribution, store and UI can all depend on it.

The flow of data through these types:

    proxy  --Exchange-->  capture  --Capture-->  attribution (Node)  -->  store

* `Exchange` is what the proxy saw on the wire: raw headers, a capped copy of each body,
  timings. The proxy fills it and hands it to an `ExchangeSink`.
* `Capture` is what we keep: headers redacted, bodies decoded, an SSE stream reassembled
  into the final message, usage extracted, the session found.
* `Node` is one node of a request's attribution tree (which source fills how much of the
  prompt).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator, Protocol

#: Header list as seen on the wire: (lower-cased name, value), both decoded as latin-1.
Headers = list[tuple[str, str]]


#: spool files are named SPOOL_PREFIX + the pid of the process that made them + "-..."
SPOOL_PREFIX = "claude-inspect-body-"


class CapturedBody:
    """A capped copy of a message body, kept beside the bytes being forwarded.

    The first `spool_bytes` stay in memory; beyond that the copy moves to a private
    temporary file, so relaying a 50 MB reply does not grow the proxy's memory. Bytes past
    `limit` are counted in `size` but not kept, and `truncated` turns true. Forwarding is
    never capped: this object only ever sees a copy.

    `detach()` hands the copy to another process (as bytes, or as the spool file's path)
    and `adopt()` takes it back there; `close()` frees memory and deletes the spool file.
    """

    __slots__ = ("limit", "spool_bytes", "size", "truncated", "_buf", "_file", "_path",
                 "_kept")

    def __init__(self, limit: int, spool_bytes: int = 1 << 20) -> None:
        self.limit = limit
        self.spool_bytes = spool_bytes
        self.size = 0
        self.truncated = False
        self._buf = bytearray()
        self._file: Any = None
        self._path: str | None = None
        self._kept = 0

    def append(self, chunk: bytes) -> None:
        n = len(chunk)
        self.size += n
        room = self.limit - self._kept
        if room <= 0:
            self.truncated = self.truncated or n > 0
            return
        if n > room:
            chunk = chunk[:room]
            self.truncated = True
        self._kept += len(chunk)
        if self._file is not None:
            self._file.write(chunk)
            return
        self._buf += chunk
        if len(self._buf) > self.spool_bytes:
            fd, self._path = tempfile.mkstemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-")
            self._file = os.fdopen(fd, "w+b")
            self._file.write(self._buf)
            self._buf = bytearray()

    def getvalue(self) -> bytes:
        """All kept bytes (up to `limit`)."""
        if self._file is None:
            return bytes(self._buf)
        self._file.seek(0)
        data = self._file.read()
        self._file.seek(0, os.SEEK_END)
        return data

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The kept bytes in pieces of at most `size`, so a spooled body can be read
        without holding all of it."""
        if self._file is None:
            data = bytes(self._buf)
            for i in range(0, len(data), size):
                yield data[i:i + size]
            return
        self._file.seek(0)
        try:
            while chunk := self._file.read(size):
                yield chunk
        finally:
            self._file.seek(0, os.SEEK_END)

    def detach(self) -> tuple[bytes | None, str | None]:
        """(bytes, None) for a copy in memory, or (None, path) for a spooled one, whose
        file the receiver now owns. This object is empty afterwards."""
        if self._file is None:
            data, self._buf = bytes(self._buf), bytearray()
            return data, None
        self._file.close()
        path, self._file, self._path = self._path, None, None
        return None, path

    @classmethod
    def adopt(cls, data: bytes | None, path: str | None, *, size: int, truncated: bool,
              limit: int) -> CapturedBody:
        """A body made from what `detach()` gave; takes ownership of `path`."""
        body = cls(limit)
        body.size, body.truncated = size, truncated
        if path is not None:
            body._file = open(path, "r+b")
            body._path = path
            body._kept = os.fstat(body._file.fileno()).st_size
        else:
            body._buf = bytearray(data or b"")
            body._kept = len(body._buf)
        return body

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._path is not None:
            try:
                os.unlink(self._path)
            except OSError:
                pass
            self._path = None
        self._buf = bytearray()

    def __len__(self) -> int:
        return self._kept


@dataclass(slots=True)
class Timings:
    """Points in one exchange's life, from `time.perf_counter()`; None when not reached.

    `started_wall` is the wall-clock time (epoch seconds) of `started`, for display and
    storage; every other point is compared with `started` to give milliseconds.
    """

    started_wall: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)
    #: upstream TCP+TLS connection ready (None when an open connection was reused)
    upstream_connected: float | None = None
    upstream_connect_ms: float | None = None
    #: request head written upstream
    request_head_sent: float | None = None
    #: last request body byte written upstream
    request_sent: float | None = None
    #: first response byte read from upstream
    first_byte: float | None = None
    #: response head written to the client
    response_head_sent: float | None = None
    #: exchange over (response fully relayed, or failed)
    ended: float | None = None

    def ms(self, point: float | None) -> float | None:
        return None if point is None else round((point - self.started) * 1000.0, 3)

    @property
    def proxy_overhead_ms(self) -> float | None:
        """Time the proxy itself added: request head in -> head out upstream (minus the
        upstream connect), plus first response byte in -> response head out to the client."""
        if self.request_head_sent is None:
            return None
        t = self.request_head_sent - self.started
        if self.upstream_connect_ms is not None:
            t -= self.upstream_connect_ms / 1000.0
        if self.first_byte is not None and self.response_head_sent is not None:
            t += self.response_head_sent - self.first_byte
        return round(max(t, 0.0) * 1000.0, 3)


@dataclass(slots=True, eq=False)
class Exchange:
    """One HTTP request/response relayed by the proxy, as seen on the wire."""

    id: str
    connection_id: str
    #: "intercept" (CONNECT + TLS termination) or "reverse" (plain request to the proxy port)
    mode: str
    scheme: str
    host: str
    port: int
    method: str
    #: request target as sent: path and query, e.g. "/v1/messages?beta=true"
    target: str
    client_addr: str
    request_headers: Headers
    request_body: CapturedBody
    http_version: str = "1.1"
    status: int | None = None
    reason: str = ""
    response_headers: Headers = field(default_factory=list)
    response_body: CapturedBody | None = None
    timings: Timings = field(default_factory=Timings)
    #: None, or a short machine-readable kind and a reason, e.g.
    #: "upstream_unreachable: connection refused", "client_disconnected", "upstream_disconnected"
    error: str | None = None
    #: True once the response was relayed in full (both sides reached the end cleanly)
    complete: bool = False

    def header(self, name: str, response: bool = False) -> str | None:
        name = name.lower()
        for k, v in self.response_headers if response else self.request_headers:
            if k == name:
                return v
        return None


class ExchangeSink(Protocol):
    """Where the proxy reports what it relays. Called on the proxy's event loop.

    Every method must return at once and never block (put on a queue, post a message);
    the proxy catches and logs anything a sink raises and keeps forwarding.
    """

    def exchange_started(self, exchange: Exchange) -> None:
        """Request head received from the client (body may still be arriving)."""

    def exchange_finished(self, exchange: Exchange) -> None:
        """Exchange over: response relayed, or failed (see `error`). Bodies are final."""

    def notice(self, kind: str, message: str) -> None:
        """Something a user should know, e.g. kind "cert_refused" when a client rejected
        our certificate, "upstream_error", "listening"."""


class NullSink:
    """A sink that ignores everything; subclass it to implement only what you need."""

    def exchange_started(self, exchange: Exchange) -> None:
        pass

    def exchange_finished(self, exchange: Exchange) -> None:
        pass

    def notice(self, kind: str, message: str) -> None:
        pass


@dataclass(slots=True)
class ProxySettings:
    """Everything the proxy needs to run. Built from `Config` by the runtime."""

    listen_host: str = "127.0.0.1"
    listen_port: int = 8443
    #: hosts whose TLS we terminate and record; any other CONNECT is tunnelled blind
    intercept: tuple[str, ...] = ("api.anthropic.com", "claude.ai")
    #: where plain (reverse-mode) requests go
    upstream_url: str = "https://api.anthropic.com"
    #: curl-style overrides: (host, port) -> (addr, port); TLS is still verified for host
    resolve: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    #: extra CA file trusted for upstream TLS, besides the system store
    upstream_ca: str | None = None
    #: cap on each captured body copy (forwarding is never capped)
    max_capture_bytes: int = 64 << 20
    #: folder holding ca.pem / ca-key.pem
    ca_dir: str = ""


@dataclass(slots=True)
class Usage:
    """Token usage as the Messages API reports it."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_creation_5m: int | None = None
    cache_creation_1h: int | None = None

    @property
    def prompt_tokens(self) -> int | None:
        """The exact prompt size: input + cache read + cache creation."""
        if self.input_tokens is None:
            return None
        return (
            self.input_tokens
            + (self.cache_read_input_tokens or 0)
            + (self.cache_creation_input_tokens or 0)
        )

    def to_dict(self) -> dict[str, int | None]:
        return asdict(self)

    @classmethod
    def from_api(cls, usage: dict[str, Any] | None) -> Usage:
        """From an API `usage` object (tolerates missing or odd fields)."""
        if not isinstance(usage, dict):
            return cls()

        def num(v: Any) -> int | None:
            return v if isinstance(v, int) and not isinstance(v, bool) else None

        cc = usage.get("cache_creation") if isinstance(usage.get("cache_creation"), dict) else {}
        return cls(
            input_tokens=num(usage.get("input_tokens")),
            output_tokens=num(usage.get("output_tokens")),
            cache_read_input_tokens=num(usage.get("cache_read_input_tokens")),
            cache_creation_input_tokens=num(usage.get("cache_creation_input_tokens")),
            cache_creation_5m=num(cc.get("ephemeral_5m_input_tokens")),
            cache_creation_1h=num(cc.get("ephemeral_1h_input_tokens")),
        )

    @classmethod
    def from_stored(cls, usage: dict[str, Any] | None) -> Usage:
        """From the store's usage of an exchange (`cache_read_tokens`, ...)."""
        u = usage if isinstance(usage, dict) else {}
        return cls(input_tokens=u.get("input_tokens"), output_tokens=u.get("output_tokens"),
                   cache_read_input_tokens=u.get("cache_read_tokens"),
                   cache_creation_input_tokens=u.get("cache_creation_tokens"),
                   cache_creation_5m=u.get("cache_creation_5m_tokens"),
                   cache_creation_1h=u.get("cache_creation_1h_tokens"))


@dataclass(slots=True)
class Capture:
    """What we store of one exchange: redacted, decoded, reassembled. Built by `capture/`."""

    id: str
    #: UTC ISO 8601 time the request began, e.g. "2026-11-24T22:15:37.123456Z"
    ts: str
    connection_id: str
    mode: str
    method: str
    scheme: str
    host: str
    port: int
    #: path and query
    path: str
    #: request fields pulled from the JSON body where present
    model: str | None = None
    stream: bool = False
    session_id: str | None = None
    #: redacted headers
    request_headers: Headers = field(default_factory=list)
    #: decoded body as text when it is text (JSON or otherwise), else None and raw kept
    request_text: str | None = None
    request_raw: bytes | None = None
    #: parsed request JSON when the body is JSON; in a body of several megabytes, base64
    #: media data is a stand-in holding its first characters and its full length
    #: (`capture.elide`): `request_text` is what is stored
    request_json: Any = None
    request_bytes: int = 0
    request_truncated: bool = False
    #: why the body is not plain JSON text, e.g. "not JSON", "undecodable br: ..."
    request_note: str | None = None

    status: int | None = None
    reason: str = ""
    response_headers: Headers = field(default_factory=list)
    #: the response body as text when it is no JSON; when `response_json` is set too, its
    #: JSON text, which is then stored as it is (a reply of several megabytes, parsed
    #: with stand-ins for its long strings: see `capture.elide`)
    response_text: str | None = None
    response_raw: bytes | None = None
    #: parsed response JSON (the final message for a stream)
    response_json: Any = None
    response_bytes: int = 0
    response_truncated: bool = False
    response_note: str | None = None
    #: raw SSE event text (capped), for the detail view
    raw_sse: str | None = None
    #: for streams: True if message_stop arrived, False if cut off or errored, None if not a stream
    stream_complete: bool | None = None
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    #: the subscription quota headers of the reply (`anthropic-ratelimit-unified-*`), keyed
    #: without that prefix ("5h_utilization": "0.052"), values as sent; None when absent
    quota: dict[str, str] | None = None

    #: timings in milliseconds since the request began
    request_sent_ms: float | None = None
    ttfb_ms: float | None = None
    total_ms: float | None = None
    upstream_connect_ms: float | None = None
    proxy_overhead_ms: float | None = None
    error: str | None = None
    complete: bool = False


@dataclass(slots=True)
class Node:
    """One node of an attribution tree: a source of prompt content and its size.

    `path` points back into the request JSON (a JSON pointer such as "/tools/3" or
    "/messages/0/content/1"; a node covering part of a text block adds "#start:end" char
    offsets) so a UI can show the content. `tokens` of a parent is the sum of its children.
    """

    kind: str
    label: str
    chars: int = 0
    tokens: int = 0
    estimated: bool = True
    path: str = ""
    #: inside the cached prefix (up to the last cache_control breakpoint) and the cache was read
    cached: bool = False
    #: extra facts for display, e.g. {"tool_count": 12, "server": "github"}
    meta: dict[str, Any] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "chars": self.chars,
            "tokens": self.tokens,
            "estimated": self.estimated,
            "path": self.path,
            "cached": self.cached,
            "meta": self.meta,
            "children": [c.to_dict() for c in self.children],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Node:
        return cls(
            kind=d["kind"],
            label=d["label"],
            chars=d.get("chars", 0),
            tokens=d.get("tokens", 0),
            estimated=d.get("estimated", True),
            path=d.get("path", ""),
            cached=d.get("cached", False),
            meta=d.get("meta") or {},
            children=[cls.from_dict(c) for c in d.get("children", [])],
        )

    def leaves(self):
        """Yield every leaf below (or this node, if it has no children)."""
        if not self.children:
            yield self
            return
        for c in self.children:
            yield from c.leaves()
