"""The relay of one HTTP/1.1 exchange between a client-side h11 server connection and an
upstream-side h11 client connection.

It works on two duck-typed streams (`read() -> bytes`, `write(bytes)`, `drain()`), so it
knows nothing of sockets or TLS. Bodies are streamed: every h11 `Data` event is passed on
as it is parsed, and what is queued for a peer is written the moment the relay would
otherwise wait for more input. So an SSE reply reaches the client event by event, and
small requests leave in one write. `drain()` after every write keeps a 50 MB body from
piling up in memory. The capture copy is one `append` per chunk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import h11

from inspector.model import CapturedBody, Exchange

# Headers that describe one connection, not the message: never passed on.
HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"proxy-authenticate",
    b"proxy-authorization", b"te", b"trailer", b"upgrade", b"expect",
})

now = time.perf_counter


def decode_headers(headers: Any) -> list[tuple[str, str]]:
    """h11 headers -> [(lower-cased name, value)] decoded as latin-1, as the model wants."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]


def forward_headers(headers: Any, host: str | None = None,
                    default_host: str | None = None) -> list[tuple[bytes, bytes]]:
    """The headers to pass on: original spelling and order, hop-by-hop ones dropped, and
    Host set to `host` when given (reverse mode sends the upstream's own name), or to
    `default_host` when the client sent none (HTTP/1.0)."""
    out = []
    saw_host = False
    for name, value in headers.raw_items():
        low = name.lower()
        if low in HOP_BY_HOP:
            continue
        if low == b"host":
            saw_host = True
            if host is not None:
                value = host.encode("latin-1")
        out.append((name, value))
    if not saw_host and (host or default_host):
        out.insert(0, (b"Host", (host or default_host or "").encode("latin-1")))
    return out


@dataclass
class Upstream:
    """One open connection to the upstream server and its h11 client state."""

    stream: Any
    conn: h11.Connection
    #: Host header value to send (None: keep the client's)
    host_header: str | None = None
    path_prefix: str = ""

    @property
    def usable(self) -> bool:
        return self.conn.our_state is h11.IDLE and not self.stream.at_eof and not self.stream.lost

    def close(self) -> None:
        self.stream.close()


class RelayError(Exception):
    """The exchange failed; `kind` is the model's error kind (e.g. "client_disconnected")."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


def _flush(stream: Any, pending: list[bytes]) -> None:
    if pending:
        stream.write(pending[0] if len(pending) == 1 else b"".join(pending))
        pending.clear()


async def relay_exchange(ex: Exchange, req: h11.Request, client: Any, cconn: h11.Connection,
                         up: Upstream, capture_limit: int) -> None:
    """Relay request `req` (head already parsed by `cconn`) to `up`, and the reply back.

    Fills `ex` as bytes pass. Raises `RelayError` when a side fails; the caller decides
    what the client still gets and closes connections.
    """
    t = ex.timings
    uconn = up.conn
    if cconn.they_are_waiting_for_100_continue:
        client.write(cconn.send(h11.InformationalResponse(status_code=100, headers=[])))
    try:
        pending = [uconn.send(h11.Request(
            method=req.method,
            target=(up.path_prefix.encode("latin-1") + req.target) if up.path_prefix else req.target,
            headers=forward_headers(req.headers, up.host_header, ex.host),
        ))]
    except h11.LocalProtocolError as e:
        raise RelayError("bad_request", str(e)) from None
    ustream = up.stream
    # ---- request body: client -> upstream
    while True:
        try:
            ev = cconn.next_event()
        except h11.RemoteProtocolError as e:
            raise RelayError("client_disconnected" if client.at_eof else "bad_request", str(e)) from None
        if ev is h11.NEED_DATA:
            try:
                _flush(ustream, pending)
                if t.request_head_sent is None:
                    t.request_head_sent = now()
                await ustream.drain()
            except ConnectionError as e:
                raise RelayError("upstream_disconnected", str(e) or "connection closed") from None
            cconn.receive_data(await client.read())
            continue
        if type(ev) is h11.Data:
            ex.request_body.append(ev.data)
            pending.append(uconn.send(ev))
        elif type(ev) is h11.EndOfMessage:
            pending.append(uconn.send(h11.EndOfMessage(headers=ev.headers)))
            break
        else:  # ConnectionClosed
            raise RelayError("client_disconnected")
    try:
        _flush(ustream, pending)
    except ConnectionError as e:
        raise RelayError("upstream_disconnected", str(e) or "connection closed") from None
    t.request_sent = now()
    if t.request_head_sent is None:
        t.request_head_sent = t.request_sent

    # ---- response: upstream -> client
    raw_client = client.raw
    raw_client.on_lost = ustream.abort  # a client hang-up ends the upstream read at once
    try:
        await _relay_response(ex, client, cconn, up, capture_limit)
    finally:
        raw_client.on_lost = None


async def _relay_response(ex: Exchange, client: Any, cconn: h11.Connection, up: Upstream,
                          capture_limit: int) -> None:
    t = ex.timings
    uconn, ustream = up.conn, up.stream
    pending: list[bytes] = []
    head_queued = False
    body: CapturedBody | None = None
    while True:
        try:
            ev = uconn.next_event()
        except h11.RemoteProtocolError as e:
            if client.raw.peer_closed:
                raise RelayError("client_disconnected") from None
            raise RelayError("upstream_disconnected", str(e)) from None
        if ev is h11.NEED_DATA:
            try:
                if pending:
                    _flush(client, pending)
                    if head_queued and t.response_head_sent is None:
                        t.response_head_sent = now()
                await client.drain()
            except ConnectionError:
                raise RelayError("client_disconnected") from None
            try:
                data = await ustream.read()
            except (ConnectionError, OSError) as e:
                data = b""
                if not client.raw.peer_closed:
                    raise RelayError("upstream_disconnected", str(e)) from None
            if client.raw.peer_closed:
                raise RelayError("client_disconnected")
            if t.first_byte is None and data:
                t.first_byte = now()
            uconn.receive_data(data)
            continue
        kind = type(ev)
        try:
            if kind is h11.Data:
                body.append(ev.data)  # type: ignore[union-attr]
                pending.append(cconn.send(ev))
            elif kind is h11.Response:
                ex.status = ev.status_code
                ex.reason = ev.reason.decode("latin-1", "replace")
                ex.response_headers = decode_headers(ev.headers)
                ex.response_body = body = CapturedBody(limit=capture_limit)
                pending.append(cconn.send(h11.Response(
                    status_code=ev.status_code, reason=ev.reason,
                    headers=forward_headers(ev.headers))))
                head_queued = True
            elif kind is h11.EndOfMessage:
                pending.append(cconn.send(h11.EndOfMessage(headers=ev.headers)))
                _flush(client, pending)
                if t.response_head_sent is None:
                    t.response_head_sent = now()
                await client.drain()
                ex.complete = True
                return
            elif kind is h11.InformationalResponse:
                if ev.status_code != 101:
                    pending.append(cconn.send(ev))
            else:  # ConnectionClosed before a full response
                raise RelayError("upstream_disconnected", "closed before responding")
        except ConnectionError:
            raise RelayError("client_disconnected") from None
        except h11.LocalProtocolError as e:
            raise RelayError("upstream_disconnected", f"response not relayable: {e}") from None
