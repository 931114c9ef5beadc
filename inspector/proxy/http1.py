"""The HTTP/1.1 relay of one client connection, sans-IO.

`Relay` holds the client-side h11 server connection, the upstream-side h11 client
connection and the exchange in progress. It is fed bytes (`receive_client`,
`receive_upstream`), outcomes (`upstream_ready`, `upstream_failed`, `client_gone`) and the
passing of time (`tick`), and answers with commands (`commands.py`) that `engine.py`
carries out on sockets. So every protocol decision is tested by feeding bytes and reading
commands, with no socket and an injected clock.

What it decides:
* The first request of a plain connection: CONNECT (tunnel or intercept), origin form
  (reverse proxy) or a 400. Any head h11 cannot parse gets its 400 in one place
  (`_reply_error`), with a generic reason: h11's own messages may quote header bytes.
* Bodies are streamed both ways as h11 parses them. The upstream is read while the
  request body is still being sent, so an early answer (413 to a large upload) reaches the
  client at once; the rest of the body is then read and dropped, and the connection closed.
* Keep-alive on both sides when both reach DONE; an upstream connection that sees any byte
  or its end while idle is dropped, and the next request opens a fresh one.
* An upstream that cannot be reached still leaves a whole capture: the rest of the
  request body is read (not relayed, up to the capture limit) before the 502, so the
  request is stored and attributed, and the client is not reset mid-upload.
* Timeouts (`limits.Timeouts`): `deadline` says when the engine must call `tick`.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import h11

from inspector.ids import new_id
from inspector.model import CapturedBody, Exchange, Timings
from inspector.proxy.commands import (
    CloseClient, CloseUpstream, Finished, Intercept, OpenUpstream, SendClient, SendUpstream, Started,
    Tunnel,
)
from inspector.proxy.connect import Target, error_body, error_response, parse_connect_target, should_intercept
from inspector.proxy.headers import decode_headers, forward_headers, malformed
from inspector.proxy.limits import Timeouts

__all__ = ["Relay", "decode_headers", "forward_headers"]

# Relay states
HEAD, EXCHANGE, LINGER, CLOSED = "head", "exchange", "linger", "closed"


class Relay:
    """One client connection: `mode` is "proxy" for a plain connection to the proxy port
    (its first request decides what it is), "intercept" inside a terminated tunnel."""

    def __init__(self, mode: str, target: Target, connection_id: str, peer: str = "",
                 capture_limit: int = 64 << 20, timeouts: Timeouts = Timeouts(),
                 intercept: tuple[str, ...] = (), clock: Callable[[], float] = time.perf_counter) -> None:
        self.mode, self.target, self.connection_id, self.peer = mode, target, connection_id, peer
        self.capture_limit, self.timeouts, self.intercept, self.clock = capture_limit, timeouts, intercept, clock
        self.cconn = h11.Connection(h11.SERVER)
        self.uconn: h11.Connection | None = None
        self.commands: list[Any] = []
        self.state = HEAD
        self.ex: Exchange | None = None
        self._req: h11.Request | None = None
        now = clock()
        # a plain connection must send its head in time; a tunnel's first request may wait
        # like a kept-alive one (clients open connections ahead of need)
        self._head_since: float | None = now if mode == "proxy" else None
        self._idle_since = self._last_client = self._last_upstream = self._linger_since = now
        self._connect: tuple[str, int] | None = None
        self._req_done = self._early = self._up_dead = self._client_eof = False
        self._connecting = self._head_bytes = False
        #: (kind, detail, message) of an upstream that could not be reached, while the
        #: request body is read for the capture before the 502
        self._unreachable: tuple[str, str, str] | None = None

    # ------------------------------------------------------------ engine's view
    def take(self) -> list[Any]:
        """The commands produced since the last call, in order."""
        out, self.commands = self.commands, []
        return out

    @property
    def closed(self) -> bool:
        return self.state is CLOSED

    @property
    def wants_client(self) -> bool:
        """Read the client now? (Not while a response streams: a hang-up is reported
        through `client_gone`, and pipelined bytes wait in the socket.)"""
        s = self.state
        if self._client_eof or self._connecting:
            return False
        return s is HEAD or s is LINGER or (s is EXCHANGE and not self._req_done)

    @property
    def wants_upstream(self) -> bool:
        """Read the upstream now? Also while idle between requests: any byte or the end
        then means the connection cannot serve the next request."""
        return self.uconn is not None and not self._connecting and self.state in (HEAD, EXCHANGE)

    @property
    def deadline(self) -> float | None:
        """When `tick` must be called if nothing arrives before (clock time), or None."""
        t, s = self.timeouts, self.state
        if s is HEAD:
            if self._head_since is not None:
                return self._head_since + t.request_head
            return self._idle_since + t.client_idle
        if s is EXCHANGE and self._unreachable is not None:
            return self._last_client + t.client_body
        if s is EXCHANGE and self.uconn is not None:
            up = self._last_upstream + t.upstream_response
            return up if self._req_done else min(up, self._last_client + t.client_body)
        if s is LINGER:
            return self._linger_since + t.linger
        return None

    # ------------------------------------------------------------ inputs
    def receive_client(self, data: bytes) -> None:
        """Bytes from the client; b"" when it closed its side."""
        now = self._last_client = self.clock()
        if not data:
            self._client_eof = True
        if self.state is LINGER:
            if not data:  # the client is done with us: the early answer is out
                self._close()
            return  # the rest of a body nobody will read
        if self._early:
            return
        if self.state is EXCHANGE:
            self._last_upstream = now  # a body still going up: the upstream is not late yet
        elif data:
            self._head_bytes = True
            if self._head_since is None:
                self._head_since = now
        self.cconn.receive_data(data)
        self._client_events()
        if (self._unreachable is not None and self.state is EXCHANGE
                and self.ex.request_body.size >= self.capture_limit):  # type: ignore[union-attr]
            self._drained()  # more than we would keep: answer now

    def receive_upstream(self, data: bytes) -> None:
        """Bytes from the upstream; b"" when it closed its side or the connection failed."""
        now = self._last_upstream = self.clock()
        if self.state is not EXCHANGE:  # idle: whatever it is, this connection is done
            self._drop_upstream(abort=True)
            return
        t = self.ex.timings  # type: ignore[union-attr]
        if data and t.first_byte is None:
            t.first_byte = now
        self.uconn.receive_data(data)  # type: ignore[union-attr]
        self._upstream_events()

    def upstream_ready(self, reused: bool) -> None:
        """The connection `OpenUpstream` asked for is there (`reused`: the pooled one)."""
        now = self.clock()
        ex, req = self.ex, self._req
        if not reused:
            self.uconn = h11.Connection(h11.CLIENT)
            ex.timings.upstream_connected = now  # type: ignore[union-attr]
            ex.timings.upstream_connect_ms = round(max(0.0, now - ex.timings.started) * 1000.0, 3)  # type: ignore[union-attr]
        self._connecting = False
        self._last_upstream = self._last_client = now
        if self.cconn.they_are_waiting_for_100_continue:
            self._send(SendClient, self.cconn.send(h11.InformationalResponse(status_code=100, headers=[])))
        tgt = self.target
        try:
            head = self.uconn.send(h11.Request(  # type: ignore[union-attr]
                method=req.method,  # type: ignore[union-attr]
                target=(tgt.base_path.encode("latin-1") + req.target) if tgt.base_path else req.target,  # type: ignore[union-attr]
                headers=forward_headers(req.headers, tgt.host_header if self.mode == "reverse" else None,  # type: ignore[union-attr]
                                        ex.host),  # type: ignore[union-attr]
            ))
        except h11.LocalProtocolError:
            self._fail("bad_request", "request head cannot be relayed", 400)
            return
        self._send(SendUpstream, head)
        ex.timings.request_head_sent = now  # type: ignore[union-attr]
        self._client_events()  # body bytes that came with the head

    def upstream_failed(self, kind: str, detail: str) -> None:
        """No upstream connection could be had for the exchange in progress."""
        where = f"{self.target.host}:{self.target.port}"
        failure = (kind, f"{where}: {detail}", f"claude-inspect: could not reach {where}: {detail}")
        self._connecting = False
        if (self.state is not EXCHANGE or self._req_done
                or self.cconn.they_are_waiting_for_100_continue):
            self._fail(failure[0], failure[1], 502, failure[2])
            return
        # read the rest of the request for the capture, then answer (`_drained`)
        self._unreachable, self._up_dead = failure, True
        self._client_events()

    def _drained(self) -> None:
        """The request an unreachable upstream never saw is read (or reading it stopped):
        the 502 now."""
        kind, detail, message = self._unreachable  # type: ignore[misc]
        self._unreachable = None
        self._fail(kind, detail, 502, message)

    def upstream_write_failed(self) -> None:
        """The upstream stopped taking bytes (it may have answered early and closed):
        send it nothing more, but read what it sent."""
        self._up_dead = True

    def client_gone(self) -> None:
        """The client hung up (or a write to it failed)."""
        self._client_eof = True
        if self.state is EXCHANGE:
            self._fail("client_disconnected", "", 0)
        else:
            self._close(abort=True)

    def tick(self) -> None:
        """Time passed: act on any timeout that expired."""
        now, t = self.clock(), self.timeouts
        deadline = self.deadline
        if deadline is None or now < deadline:
            return
        if self.state is HEAD:
            if self._head_bytes:
                self._send(SendClient, error_response(
                    408, f"claude-inspect: the request head did not arrive within {t.request_head:g} s"))
            self._close()
        elif self.state is EXCHANGE:
            if self._unreachable is not None:
                self._drained()  # the body stalled: what came of it is kept
            elif not self._req_done and now >= self._last_client + t.client_body:
                self._fail("client_timeout", f"no request bytes for {t.client_body:g} s", 408,
                           f"claude-inspect: the request body stalled for {t.client_body:g} s")
            else:
                where = f"{self.target.host}:{self.target.port}"
                self._fail("upstream_timeout", f"{where}: no reply for {t.upstream_response:g} s", 504,
                           f"claude-inspect: the upstream {where} did not answer within "
                           f"{t.upstream_response:g} s")
        else:
            self._close()

    def stop(self) -> None:
        """The proxy is stopping: report the exchange in progress as cut short."""
        ex = self.ex
        if ex is not None and not ex.complete and self.state is EXCHANGE:
            ex.error = "proxy_stopped"
            self._finished()
        self._close(abort=True)

    def crash(self, exc: BaseException) -> None:
        """A bug in the proxy: answer 502 if the client has had no reply, report, close."""
        self._fail("proxy_error", type(exc).__name__, 502,
                   f"claude-inspect: internal error ({type(exc).__name__})")

    # ------------------------------------------------------------ client side
    def _client_events(self) -> None:
        cconn = self.cconn
        while self.state is HEAD or (self.state is EXCHANGE and not self._req_done and not self._connecting):
            try:
                ev = cconn.next_event()
            except h11.RemoteProtocolError as e:
                if self._client_eof and self.state is EXCHANGE:
                    self._fail("client_disconnected", "", 0)
                else:
                    self._fail("bad_request", malformed("client", self.state is EXCHANGE, str(e)), 400)
                return
            kind = type(ev)
            if kind is h11.Data:
                if self.ex is None:  # a body on a CONNECT: nothing to relay it to
                    continue
                self.ex.request_body.append(ev.data)
                if not self._up_dead:
                    self._send(SendUpstream, self.uconn.send(ev))  # type: ignore[union-attr]
            elif kind is h11.EndOfMessage:
                if self._connect is not None:
                    self._start_tunnel()
                    return
                self._req_done = True
                if self._unreachable is not None:
                    self._drained()
                    return
                if not self._up_dead:
                    self._send(SendUpstream, self.uconn.send(h11.EndOfMessage(headers=ev.headers)))  # type: ignore[union-attr]
                self.ex.timings.request_sent = self.clock()  # type: ignore[union-attr]
                return
            elif kind is h11.Request:
                self._on_request(ev)
                if self._connect is None:  # waiting for an upstream, or closed
                    return
            elif ev is h11.NEED_DATA or ev is h11.PAUSED:
                return
            else:  # ConnectionClosed
                if self.state is EXCHANGE:
                    self._fail("client_disconnected", "", 0)
                else:
                    self._close()
                return

    def _on_request(self, req: h11.Request) -> None:
        if self.mode == "proxy":
            if req.method == b"CONNECT":
                try:
                    self._connect = parse_connect_target(req.target)
                except ValueError as e:
                    self._reply_error(400, f"claude-inspect: bad request: {e}")
                    self._close()
                return
            if not req.target.startswith(b"/"):
                self._reply_error(400, "claude-inspect: bad request: only CONNECT and origin-form "
                                  "requests are supported (set HTTPS_PROXY or ANTHROPIC_BASE_URL)")
                self._close()
                return
            self.mode = "reverse"
        tgt = self.target
        self._req = req
        self._req_done = self._early = self._up_dead = False
        self.ex = Exchange(
            id=new_id(), connection_id=self.connection_id, mode=self.mode,
            scheme="https" if tgt.tls else "http", host=tgt.host, port=tgt.port,
            method=req.method.decode("latin-1"), target=req.target.decode("latin-1"),
            client_addr=self.peer, request_headers=decode_headers(req.headers),
            request_body=CapturedBody(limit=self.capture_limit),
            http_version=req.http_version.decode("latin-1"), timings=Timings(started=self.clock()),
        )
        self.commands.append(Started(self.ex))
        self.state, self._connecting = EXCHANGE, True
        self.commands.append(OpenUpstream(reuse=self.uconn is not None))

    def _start_tunnel(self) -> None:
        host, port = self._connect  # type: ignore[misc]
        already = bytes(self.cconn.trailing_data[0])
        cmd = Intercept if should_intercept(host, self.intercept) else Tunnel
        self.commands.append(cmd(host, port, already))
        self.state = CLOSED

    # ------------------------------------------------------------ upstream side
    def _upstream_events(self) -> None:
        uconn, cconn, ex = self.uconn, self.cconn, self.ex
        while self.state is EXCHANGE:
            try:
                ev = uconn.next_event()  # type: ignore[union-attr]
            except h11.RemoteProtocolError as e:
                self._fail("upstream_disconnected", malformed("upstream", ex.status is not None, str(e)), 502,  # type: ignore[union-attr]
                           "claude-inspect: the upstream sent a malformed response")
                return
            kind = type(ev)
            try:
                if kind is h11.Data:
                    ex.response_body.append(ev.data)  # type: ignore[union-attr]
                    self._send(SendClient, cconn.send(ev))
                elif kind is h11.Response:
                    ex.status = ev.status_code  # type: ignore[union-attr]
                    ex.reason = ev.reason.decode("latin-1", "replace")  # type: ignore[union-attr]
                    ex.response_headers = decode_headers(ev.headers)  # type: ignore[union-attr]
                    ex.response_body = CapturedBody(limit=self.capture_limit)  # type: ignore[union-attr]
                    headers = forward_headers(ev.headers)
                    if not self._req_done:  # an early answer: the request body stops here
                        self._early = True
                        headers.append((b"Connection", b"close"))
                    self._send(SendClient, cconn.send(h11.Response(
                        status_code=ev.status_code, reason=ev.reason, headers=headers)))
                    ex.timings.response_head_sent = self.clock()  # type: ignore[union-attr]
                elif kind is h11.EndOfMessage:
                    self._send(SendClient, cconn.send(h11.EndOfMessage(headers=ev.headers)))
                    ex.complete = True  # type: ignore[union-attr]
                    self._exchange_done()
                    return
                elif kind is h11.InformationalResponse:
                    if ev.status_code != 101:
                        self._send(SendClient, cconn.send(ev))
                elif ev is h11.NEED_DATA or ev is h11.PAUSED:
                    return
                else:  # ConnectionClosed before a full response
                    self._fail("upstream_disconnected", "closed before responding", 502,
                               f"claude-inspect: the upstream {self.target.host}:{self.target.port} "
                               "closed the connection before responding")
                    return
            except h11.LocalProtocolError:
                self._fail("upstream_disconnected", "response cannot be relayed", 502,
                           "claude-inspect: the upstream's response cannot be relayed")
                return

    def _exchange_done(self) -> None:
        self._finished()
        cconn, uconn = self.cconn, self.uconn
        if (uconn is not None and uconn.our_state is h11.DONE and uconn.their_state is h11.DONE
                and not uconn.trailing_data[0]):  # bytes after the reply: not reusable
            uconn.start_next_cycle()
        else:
            self._drop_upstream(abort=uconn is not None and uconn.our_state is not h11.DONE)
        if self._early and not self._req_done:
            # the client may still be sending the body: read and drop it for a while, so
            # closing does not reset the connection under the answer it has not read yet
            self.state, self._linger_since = LINGER, self.clock()
            if self._client_eof:
                self._close()
            return
        if cconn.our_state is not h11.DONE or cconn.their_state is not h11.DONE:
            self._close()
            return
        cconn.start_next_cycle()
        self.state, self._head_since, self._idle_since = HEAD, None, self.clock()
        self._head_bytes = False
        self.ex, self._req = None, None
        self._client_events()  # a pipelined request may be waiting already

    # ------------------------------------------------------------ endings
    def _send(self, kind: type, data: bytes) -> None:
        if not data:
            return
        cmds = self.commands
        if cmds and type(cmds[-1]) is kind:
            cmds[-1].chunks.append(data)
        else:
            cmds.append(kind([data]))

    def _finished(self) -> None:
        ex = self.ex
        if ex is not None and ex.timings.ended is None:
            ex.timings.ended = self.clock()
            self.commands.append(Finished(ex))

    def _reply_error(self, status: int, message: str) -> None:
        """Answer the client ourselves, if it has had no response yet: the one place an
        error reply is made, recorded in the exchange when there is one."""
        ex, cconn = self.ex, self.cconn
        if ex is None or self.state is not EXCHANGE:
            if cconn.our_state in (h11.IDLE, h11.SEND_RESPONSE, h11.ERROR) and not self._client_eof:
                self._send(SendClient, error_response(status, message))
            return
        if cconn.our_state is not h11.SEND_RESPONSE:
            return
        body = error_body(message, "invalid_request_error" if status == 400 else "proxy_error")
        headers = [("content-type", "application/json"), ("content-length", str(len(body))),
                   ("connection", "close")]
        ex.status, ex.response_headers = status, headers
        ex.response_body = CapturedBody(limit=self.capture_limit)
        ex.response_body.append(body)
        self._send(SendClient, cconn.send(h11.Response(status_code=status, headers=headers))
                   + cconn.send(h11.Data(data=body)) + cconn.send(h11.EndOfMessage()))

    def _fail(self, kind: str, detail: str, status: int, message: str = "") -> None:
        """End the connection over an error; `status` (if not 0) is answered to the client
        if it has had no response head yet."""
        if self._unreachable is not None and kind == "client_disconnected":
            kind, detail = self._unreachable[:2]  # what went wrong first
            self._unreachable = None
        if self.ex is not None and self.state is EXCHANGE and not self.ex.complete:
            self.ex.error = f"{kind}: {detail}" if detail else kind
        if status:
            self._reply_error(status, message or f"claude-inspect: bad request: {detail}")
        if self.state is EXCHANGE:
            self._finished()
        self._close(abort=kind == "client_disconnected")

    def _drop_upstream(self, abort: bool) -> None:
        if self.uconn is not None:
            self.uconn = None
            self.commands.append(CloseUpstream(abort=abort))

    def _close(self, abort: bool = False) -> None:
        if self.state is CLOSED:
            return
        # a connection between requests is closed politely; one mid-message is reset
        self._drop_upstream(abort=self.uconn is not None and self.uconn.our_state is not h11.IDLE)
        self.state = CLOSED
        self.commands.append(CloseClient(abort=abort))
