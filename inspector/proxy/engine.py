"""The proxy server: the only module that owns sockets, TLS upgrades and tasks.

One listening port, three ways in, told apart by the first request of a connection:

* `CONNECT host:port` to an intercepted host: answer 200, terminate TLS with our leaf for
  that host (`TLSStream`, fed the bytes already read so none are lost), open TLS to the
  real upstream (started at once, in parallel with the client's handshake), then relay
  HTTP/1.1 exchanges with h11 (`http1.relay_exchange`), keep-alive included.
* `CONNECT` anywhere else: a blind byte tunnel; nothing is decrypted or recorded.
* A request in origin form (`POST /v1/messages`): reverse-proxied to `upstream_url`.

Every relayed exchange is reported to the sink: `exchange_started` when its head arrives,
`exchange_finished` exactly once when it ends. Sink errors are logged and ignored.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import ssl
import time
from typing import Any

import h11

from inspector.ids import new_id
from inspector.model import CapturedBody, Exchange, ExchangeSink, ProxySettings, Timings
from inspector.proxy.certs import CertificateAuthority
from inspector.proxy.connect import (
    CONNECT_OK, Target, error_body, error_response, is_loopback, parse_connect_target,
    parse_upstream_url, should_intercept,
)
from inspector.proxy.http1 import RelayError, Upstream, decode_headers, relay_exchange
from inspector.proxy.sink import SafeSink
from inspector.proxy.streams import Stream, TLSStream

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 15.0
HANDSHAKE_TIMEOUT = 30.0
CERT_ALERTS = ("UNKNOWN_CA", "BAD_CERTIFICATE", "CERTIFICATE_UNKNOWN", "UNSUPPORTED_CERTIFICATE")


class ProxyError(OSError):
    """The proxy cannot start (e.g. the port is taken); the message says which and why."""


class UpstreamError(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


def upstream_context(extra_ca: str | None) -> ssl.SSLContext:
    """Client-side TLS for upstreams: system trust store plus `extra_ca`, ALPN http/1.1."""
    ctx = ssl.create_default_context()
    if extra_ca:
        ctx.load_verify_locations(cafile=extra_ca)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


async def _next_event(conn: h11.Connection, stream: Any) -> Any:
    while True:
        ev = conn.next_event()
        if ev is not h11.NEED_DATA:
            return ev
        conn.receive_data(await stream.read())


class ProxyServer:
    """The proxy on the running event loop: `await start()`, `.address`, `await stop()`."""

    def __init__(self, settings: ProxySettings, sink: ExchangeSink,
                 ca: CertificateAuthority | None = None) -> None:
        self.settings = settings
        self.sink = SafeSink(sink)
        self.ca = ca
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()
        self._reverse = parse_upstream_url(settings.upstream_url)
        self._upstream_ctx: ssl.SSLContext | None = None
        self._intercept = tuple(h.lower() for h in settings.intercept)
        self._said: set[str] = set()
        self._stopping = False
        self.address: tuple[str, int] = (settings.listen_host, settings.listen_port)

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Load/create the CA and bind. Raises `ProxyError` naming the port if it is taken,
        `CertificateError` if the CA is unusable."""
        if self.ca is None:
            if not self.settings.ca_dir:
                raise ValueError("ProxySettings.ca_dir is empty: say where the CA lives")
            self.ca = CertificateAuthority.load_or_create(self.settings.ca_dir)
        self._upstream_ctx = upstream_context(self.settings.upstream_ca)
        loop = asyncio.get_running_loop()
        host, port = self.settings.listen_host, self.settings.listen_port
        try:
            self._server = await loop.create_server(
                lambda: Stream(self._accepted, half_close=True), host, port, reuse_address=True)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                err = ProxyError(f"cannot listen on {host}:{port}: port {port} is already in use")
            else:
                err = ProxyError(f"cannot listen on {host}:{port}: {e.strerror or e}")
            err.errno = e.errno
            raise err from None
        sock = self._server.sockets[0].getsockname()
        self.address = (sock[0], sock[1])
        where = f"{self.address[0]}:{self.address[1]}"
        if not is_loopback(host):
            msg = (f"listening on {where}, which is not loopback: this is an open proxy for "
                   "that network; anyone who can reach it can use it")
            log.warning(msg)
            self.sink.notice("open_proxy", msg)
        log.info("proxy listening on %s", where)
        self.sink.notice("listening", f"proxy listening on {where}")

    async def stop(self) -> None:
        """Stop accepting, end open connections; exchanges cut short are still reported."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 2)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - best effort on shutdown
                pass
            self._server = None
        if self.ca is not None:
            self.ca.close()

    def _accepted(self, stream: Stream) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(stream))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _say_once(self, key: str, kind: str, message: str, level: int = logging.WARNING) -> None:
        if key not in self._said:
            self._said.add(key)
            log.log(level, message)
            self.sink.notice(kind, message)

    # ------------------------------------------------------------ connections
    async def _serve(self, client: Stream) -> None:
        cid = new_id()
        conn = h11.Connection(h11.SERVER)
        try:
            try:
                ev = await _next_event(conn, client)
            except h11.RemoteProtocolError as e:
                self._bad_request(client, str(e))
                return
            if type(ev) is not h11.Request:
                client.close()
                return
            if ev.method == b"CONNECT":
                await self._connect(client, conn, ev, cid)
            elif ev.target.startswith(b"/"):
                await self._serve_http(client, conn, ev, "reverse", self._reverse, cid, None)
            else:
                self._bad_request(client, "only CONNECT and origin-form requests are supported "
                                  "(set HTTPS_PROXY or ANTHROPIC_BASE_URL)")
        except asyncio.CancelledError:
            client.abort()
            raise
        except Exception:  # noqa: BLE001 - one connection's bug must not stop the proxy
            log.exception("connection %s failed", cid)
            client.abort()

    def _bad_request(self, client: Any, reason: str) -> None:
        log.debug("bad request from %s: %s", client.peername(), reason)
        try:
            client.write(error_response(400, f"claude-inspect: bad request: {reason}"))
        except ConnectionError:
            pass
        client.close()

    async def _connect(self, client: Stream, conn: h11.Connection, req: h11.Request, cid: str) -> None:
        try:
            host, port = parse_connect_target(req.target)
        except (ValueError, UnicodeDecodeError) as e:
            self._bad_request(client, str(e))
            return
        try:
            ev = await _next_event(conn, client)  # EndOfMessage, then h11 pauses
        except h11.RemoteProtocolError as e:
            self._bad_request(client, str(e))
            return
        if type(ev) is not h11.EndOfMessage:
            client.close()
            return
        already_read, _closed = conn.trailing_data
        if should_intercept(host, self._intercept):
            await self._intercept_tls(client, host, port, bytes(already_read), cid)
        else:
            await self._tunnel(client, host, port, bytes(already_read))

    async def _tunnel(self, client: Stream, host: str, port: int, already_read: bytes) -> None:
        try:
            up = await self._open(Target("tcp", host, port))
        except UpstreamError as e:
            self._say_once(f"tunnel:{host}:{port}:{e.kind}", "upstream_error",
                           f"could not reach {host}:{port}: {e.detail}")
            client.write(error_response(502, f"claude-inspect: could not reach {host}:{port}: {e.detail}"))
            client.close()
            return
        client.write(CONNECT_OK)
        try:
            if already_read:
                up.write(already_read)
            await asyncio.gather(_pump(client, up), _pump(up, client))
        finally:
            up.close()
            client.close()

    async def _intercept_tls(self, client: Stream, host: str, port: int, already_read: bytes,
                             cid: str) -> None:
        target = Target("https", host, port)
        eager = asyncio.ensure_future(self._open(target))
        eager.add_done_callback(_consume_result)
        client.write(CONNECT_OK)
        tls = TLSStream(client, self.ca.server_context(host), server_side=True)  # type: ignore[union-attr]
        try:
            await asyncio.wait_for(tls.handshake(already_read), HANDSHAKE_TIMEOUT)
        except ssl.SSLError as e:
            _discard(eager)
            reason = getattr(e, "reason", "") or str(e)
            if any(a in reason for a in CERT_ALERTS):
                self._say_once(f"cert:{host}", "cert_refused",
                               f"a client refused our certificate for {host} ({reason}); it does not "
                               "trust the claude-inspect CA: run `claude-inspect ca` to see how")
            else:
                log.debug("TLS handshake with client for %s failed: %s", host, reason)
            client.abort()
            return
        except (ConnectionError, asyncio.TimeoutError) as e:
            _discard(eager)
            log.debug("client left during the TLS handshake for %s: %s", host, e)
            client.abort()
            return
        await self._serve_http(tls, h11.Connection(h11.SERVER), None, "intercept", target, cid, eager)

    async def _open(self, target: Target) -> Stream:
        """Connect to `target` (honouring --resolve); TLS verified for target.host."""
        addr, port = self.settings.resolve.get((target.host, target.port), (target.host, target.port))
        loop = asyncio.get_running_loop()
        try:
            _, stream = await asyncio.wait_for(loop.create_connection(
                lambda: Stream(half_close=not target.tls), addr, port,
                ssl=self._upstream_ctx if target.tls else None,
                server_hostname=target.host if target.tls else None,
            ), CONNECT_TIMEOUT)
        except ssl.SSLCertVerificationError as e:
            raise UpstreamError("upstream_tls", "certificate verification failed: "
                                f"{e.verify_message or e.reason}") from None
        except ssl.SSLError as e:
            raise UpstreamError("upstream_tls", f"TLS failed: {e.reason or e}") from None
        except asyncio.TimeoutError:
            raise UpstreamError("upstream_unreachable", "timed out") from None
        except OSError as e:
            raise UpstreamError("upstream_unreachable", f"{e.strerror or e}") from None
        return stream

    async def _upstream(self, target: Target, mode: str, eager: asyncio.Future | None,
                        ex: Exchange) -> Upstream:
        """A new upstream connection for `ex`. The first exchange after a CONNECT uses the
        connection opened while the client's handshake ran; `upstream_connect_ms` is the
        time this exchange had to wait for it (often 0), which is what it cost the client."""
        stream = await eager if eager is not None else await self._open(target)
        ready = time.perf_counter()
        ex.timings.upstream_connected = ready
        ex.timings.upstream_connect_ms = round(max(0.0, ready - ex.timings.started) * 1000.0, 3)
        if mode == "reverse":
            return Upstream(stream, h11.Connection(h11.CLIENT), target.host_header, target.base_path)
        return Upstream(stream, h11.Connection(h11.CLIENT))

    # ------------------------------------------------------------ HTTP exchanges
    async def _serve_http(self, client: Any, cconn: h11.Connection, first: h11.Request | None,
                          mode: str, target: Target, cid: str,
                          eager: asyncio.Future | None) -> None:
        up: Upstream | None = None
        req = first
        peer = client.peername()
        try:
            while True:
                if req is None:
                    try:
                        ev = await _next_event(cconn, client)
                    except h11.RemoteProtocolError as e:
                        self._bad_request(client, str(e))
                        return
                    if type(ev) is not h11.Request:
                        return
                    req = ev
                ex = Exchange(
                    id=new_id(), connection_id=cid, mode=mode, scheme="https" if target.tls else "http",
                    host=target.host, port=target.port, method=req.method.decode("latin-1"),
                    target=req.target.decode("latin-1"), client_addr=peer,
                    request_headers=decode_headers(req.headers),
                    request_body=CapturedBody(limit=self.settings.max_capture_bytes),
                    http_version=req.http_version.decode("latin-1"), timings=Timings(),
                )
                self.sink.started(ex)
                ok = False
                try:
                    if up is None or not up.usable:
                        if up is not None:
                            up.close()
                        up = None
                        up = await self._upstream(target, mode, eager, ex)
                        eager = None
                    await relay_exchange(ex, req, client, cconn, up, self.settings.max_capture_bytes)
                    ok = True
                except UpstreamError as e:
                    eager = None
                    ex.error = f"{e.kind}: {target.host}:{target.port}: {e.detail}"
                    self._say_once(f"up:{target.host}:{e.kind}", "upstream_error",
                                   f"could not reach {target.host}:{target.port}: {e.detail}")
                    self._reply_error(client, cconn, ex, 502,
                                      f"claude-inspect: could not reach {target.host}:{target.port}: {e.detail}")
                except RelayError as e:
                    ex.error = str(e)
                    if e.kind == "bad_request":
                        self._reply_error(client, cconn, ex, 400, f"claude-inspect: bad request: {e.detail}")
                    elif e.kind == "upstream_disconnected":
                        self._reply_error(client, cconn, ex, 502, "claude-inspect: the upstream "
                                          f"{target.host}:{target.port} closed the connection: {e.detail}")
                except (ConnectionError, OSError) as e:  # a read or write on the client side
                    ex.error = f"client_disconnected: {e}"
                except asyncio.CancelledError:
                    ex.error = "proxy_stopped"
                    raise
                except Exception as e:  # noqa: BLE001 - a bug here must not stop the proxy
                    log.exception("exchange %s failed", ex.id)
                    ex.error = f"proxy_error: {e!r}"
                    self._reply_error(client, cconn, ex, 502, f"claude-inspect: internal error: {e!r}")
                finally:
                    if self._stopping and not ex.complete:
                        ex.error = "proxy_stopped"
                    ex.timings.ended = time.perf_counter()
                    self.sink.finished(ex)
                if not ok:
                    return
                if cconn.our_state is not h11.DONE or cconn.their_state is not h11.DONE:
                    return
                cconn.start_next_cycle()
                if up.conn.our_state is h11.DONE and up.conn.their_state is h11.DONE:
                    up.conn.start_next_cycle()
                else:
                    up.close()
                    up = None
                req = None
        finally:
            if eager is not None:
                _discard(eager)
            if up is not None:
                if up.conn.our_state is h11.IDLE:
                    up.close()
                else:
                    up.stream.abort()
            client.close()

    def _reply_error(self, client: Any, cconn: h11.Connection, ex: Exchange, status: int,
                     message: str) -> None:
        """Answer the client ourselves, if it has had no response yet."""
        if cconn.our_state is not h11.SEND_RESPONSE:
            return
        body = error_body(message, "invalid_request_error" if status == 400 else "proxy_error")
        headers = [("content-type", "application/json"), ("content-length", str(len(body))),
                   ("connection", "close")]
        ex.status = status
        ex.response_headers = headers
        ex.response_body = CapturedBody(limit=self.settings.max_capture_bytes)
        ex.response_body.append(body)
        try:
            client.write(cconn.send(h11.Response(status_code=status, headers=headers))
                         + cconn.send(h11.Data(data=body)) + cconn.send(h11.EndOfMessage()))
        except (ConnectionError, h11.LocalProtocolError):
            pass


async def _pump(src: Stream, dst: Stream) -> None:
    """Copy bytes one way until end of stream, passing the half-close on."""
    try:
        while data := await src.read():
            dst.write(data)
            await dst.drain()
        dst.write_eof()
    except (ConnectionError, OSError):
        src.abort()
        dst.abort()


def _consume_result(fut: asyncio.Future) -> None:
    if not fut.cancelled():
        fut.exception()


def _discard(fut: asyncio.Future) -> None:
    """Drop an eager upstream connection nobody will use."""
    if not fut.done():
        fut.cancel()
    elif not fut.cancelled() and fut.exception() is None:
        fut.result().close()
