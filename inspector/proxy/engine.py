"""The proxy server: the only module that owns sockets, TLS upgrades and tasks.

One listening port, three ways in, told apart by the first request of a connection:

* `CONNECT host:port` to an intercepted host: answer 200, terminate TLS with our leaf for
  that host (`TLSStream`, fed the bytes already read so none are lost), open TLS to the
  real upstream (started at once, in parallel with the client's handshake), then relay
  HTTP/1.1 exchanges, keep-alive included.
* `CONNECT` anywhere else: a blind byte tunnel; nothing is decrypted or recorded.
* A request in origin form (`POST /v1/messages`): reverse-proxied to `upstream_url`.

What to do with the bytes is decided by the sans-IO `http1.Relay` (one per client
connection); this module reads and writes sockets, opens upstream connections, runs TLS
and timers, and carries out the relay's commands. Every relayed exchange is reported to
the sink: `exchange_started` when its head arrives, `exchange_finished` exactly once when
it ends. Sink errors are logged and ignored.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import ssl
from typing import Any

from inspector.ids import new_id
from inspector.model import ExchangeSink, ProxySettings
from inspector.proxy.certs import CertificateAuthority
from inspector.proxy.commands import (
    CloseClient, CloseUpstream, Finished, Intercept, OpenUpstream, SendClient, SendUpstream, Started,
    Tunnel,
)
from inspector.proxy.connect import (
    CONNECT_OK, Target, error_response, is_loopback, parse_upstream_url, should_intercept,
)
from inspector.proxy.http1 import Relay
from inspector.proxy.limits import Timeouts, raise_file_limit
from inspector.proxy.sink import SafeSink
from inspector.proxy.streams import Stream, TLSStream, Waker

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


class ProxyServer:
    """The proxy on the running event loop: `await start()`, `.address`, `await stop()`."""

    def __init__(self, settings: ProxySettings, sink: ExchangeSink,
                 ca: CertificateAuthority | None = None, timeouts: Timeouts | None = None) -> None:
        self.settings = settings
        self.timeouts = timeouts or Timeouts()
        self.sink = SafeSink(sink)
        self.ca = ca
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()
        self._reverse = parse_upstream_url(settings.upstream_url)
        self._upstream_ctx: ssl.SSLContext | None = None
        self._intercept = tuple(h.lower() for h in settings.intercept)
        self._said: set[str] = set()
        self._stopping = False
        self._wakers: set[Waker] = set()
        self.address: tuple[str, int] = (settings.listen_host, settings.listen_port)

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Load/create the CA and bind. Raises `ProxyError` naming the port if it is taken,
        `CertificateError` if the CA is unusable."""
        if self.ca is None:
            if not self.settings.ca_dir:
                raise ValueError("ProxySettings.ca_dir is empty: say where the CA lives")
            self.ca = CertificateAuthority.load_or_create(self.settings.ca_dir)
        intercept = self._intercept
        self.ca.sni_names = lambda name: should_intercept(name, intercept)  # mint for these only
        self._upstream_ctx = upstream_context(self.settings.upstream_ca)
        raise_file_limit()
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
        # a cancellation can be lost (asyncio.wait_for before Python 3.12 swallows one
        # that meets a completing connect or handshake), so relay loops also check
        # `_stopping` whenever they wake, and are woken now
        for waker in list(self._wakers):
            waker.wake()
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
    def _relay(self, mode: str, target: Target, cid: str, peer: str) -> Relay:
        return Relay(mode, target, cid, peer, capture_limit=self.settings.max_capture_bytes,
                     timeouts=self.timeouts, intercept=self._intercept)

    async def _serve(self, client: Stream) -> None:
        cid = new_id()
        try:
            await self._drive(self._relay("proxy", self._reverse, cid, client.peername()), client, None)
        finally:
            client.close()

    async def _drive(self, relay: Relay, client: Any, eager: asyncio.Future | None) -> None:
        """Carry out what `relay` asks, feed it what the sockets give, until it is done.

        One task per client connection, no task per read: both streams wake this loop
        through one `Waker`, which also sleeps until the relay's next deadline. A side is
        read only while the other can take more (backpressure)."""
        up: Stream | None = None
        waker = Waker(asyncio.get_running_loop(), relay.clock)
        client.waker = waker.wake
        self._wakers.add(waker)
        tunnel = None
        close_client: CloseClient | None = None
        try:
            while True:
                if self._stopping:
                    raise asyncio.CancelledError
                for cmd in relay.take():
                    kind = type(cmd)
                    if kind is SendUpstream:
                        if up is not None:
                            try:
                                up.write(cmd.data)
                            except ConnectionError:
                                relay.upstream_write_failed()
                    elif kind is SendClient:
                        try:
                            client.write(cmd.data)
                        except ConnectionError:
                            relay.client_gone()
                    elif kind is Started:
                        self.sink.started(cmd.exchange)
                    elif kind is Finished:
                        self.sink.finished(cmd.exchange)
                    elif kind is OpenUpstream:
                        up = await self._upstream_for(relay, up, cmd.reuse, eager, waker)
                        eager = None
                    elif kind is CloseUpstream:
                        if up is not None:
                            up.abort() if cmd.abort else up.close()
                            up = None
                    elif kind is CloseClient:
                        close_client = cmd
                    else:  # Tunnel or Intercept
                        tunnel = cmd
                if relay.closed and not relay.commands:
                    break
                if relay.commands:
                    continue
                read_up = up is not None and relay.wants_upstream and not client.write_paused
                if read_up:
                    data = up.read_nowait()  # type: ignore[union-attr]
                    if data is not None:
                        relay.receive_upstream(data)
                        continue
                read_client = relay.wants_client and (up is None or not up.write_paused)
                if read_client:
                    data = client.read_nowait()
                    if data is not None:
                        relay.receive_client(data)
                        continue
                elif client.peer_closed and not relay.wants_client:
                    relay.client_gone()
                    continue
                deadline = relay.deadline
                if deadline is not None and relay.clock() >= deadline:
                    relay.tick()
                    continue
                # sleep; bytes on a side that cannot be used yet do not wake us
                if up is not None:
                    up.wake_on_data = read_up
                client.wake_on_data = read_client
                await waker.wait(deadline)
        except asyncio.CancelledError:
            relay.stop()
            self._report(relay)
            client.abort()
            raise
        except Exception as e:  # noqa: BLE001 - one connection's bug must not stop the proxy
            log.exception("connection %s failed", relay.connection_id)
            relay.crash(e)
            self._report(relay, client)
        finally:
            waker.close()
            self._wakers.discard(waker)
            client.waker = None
            client.wake_on_data = True
            if eager is not None:
                _discard(eager)
            if up is not None:
                up.abort()
        if close_client is not None and close_client.abort:
            client.abort()
        if type(tunnel) is Intercept:
            await self._intercept_tls(client, tunnel.host, tunnel.port, tunnel.already_read,
                                      relay.connection_id)
        elif type(tunnel) is Tunnel:
            await self._tunnel(client, tunnel.host, tunnel.port, tunnel.already_read)

    def _report(self, relay: Relay, client: Any = None) -> None:
        """Carry out the last reports (and the error reply, if any) of a relay cut short."""
        for cmd in relay.take():
            if type(cmd) is Finished:
                self.sink.finished(cmd.exchange)
            elif type(cmd) is SendClient and client is not None:
                try:
                    client.write(cmd.data)
                except ConnectionError:
                    pass

    async def _upstream_for(self, relay: Relay, up: Stream | None, reuse: bool,
                            eager: asyncio.Future | None, waker: Waker) -> Stream | None:
        """The pooled connection if it may serve again, else a new one (the first exchange
        after a CONNECT takes the one opened while the client's TLS handshake ran)."""
        if up is not None:
            if reuse and up.reusable():
                relay.upstream_ready(reused=True)
                return up
            up.close()
        target = relay.target
        try:
            stream = await eager if eager is not None else await self._open(target)
        except UpstreamError as e:
            self._say_once(f"up:{target.host}:{e.kind}", "upstream_error",
                           f"could not reach {target.host}:{target.port}: {e.detail}")
            relay.upstream_failed(e.kind, e.detail)
            return None
        stream.waker = waker.wake
        relay.upstream_ready(reused=False)
        return stream

    async def _tunnel(self, client: Stream, host: str, port: int, already_read: bytes) -> None:
        try:
            up = await self._open(Target("tcp", host, port))
        except UpstreamError as e:
            self._say_once(f"tunnel:{host}:{port}:{e.kind}", "upstream_error",
                           f"could not reach {host}:{port}: {e.detail}")
            client.write(error_response(502, f"claude-inspect: could not reach {host}:{port}: {e.detail}"))
            return
        client.write(CONNECT_OK)
        try:
            if already_read:
                up.write(already_read)
            await asyncio.gather(_pump(client, up), _pump(up, client))
        finally:
            up.close()

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
        await self._drive(self._relay("intercept", target, cid, client.peername()), tls, eager)
        tls.close()

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
        except (UnicodeError, ValueError):  # a name the IDNA codec refuses
            raise UpstreamError("upstream_unreachable", "the host name is not valid") from None
        return stream


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
