"""Byte streams for the engine: a plain one over an asyncio transport, and TLS on top of
it pumped through `ssl.MemoryBIO`.

Why not asyncio's StreamReader and `start_tls`: after `CONNECT`, the client often sends
its TLS ClientHello in the same packet as the request, so those bytes have already been
read when we decide to terminate TLS; `start_tls` cannot be handed bytes that were read
before it (and loses what a StreamReader had buffered). `TLSStream` is fed those bytes
first, then reads the transport itself, so nothing can be lost. Upstream connections use
the loop's own TLS (`create_connection(ssl=...)`), which is fastest, and expose the same
read/write/drain/close interface through `Stream`.

Both stream kinds apply backpressure: `Stream` pauses the transport when more than
`HIGH_WATER` bytes wait unread, and `drain()` waits while the transport's write buffer is
full (`write_paused`), so relaying a large body keeps memory flat.

Two ways to use them: `await read()` / `await drain()` (the blind tunnel, handshakes), or
the engine's relay loop, which polls `read_nowait()` on both sides of a connection and,
when neither has anything it can use, sleeps until a `waker` callback says something
changed (bytes arrived, the peer closed, a full write buffer drained).
"""

from __future__ import annotations

import asyncio
import select
import ssl
from typing import Any, Callable

HIGH_WATER = 256 * 1024
# a TLS record carries at most 16 KiB; a bigger read only costs a bigger allocation
TLS_READ_SIZE = 64 * 1024


class Stream(asyncio.Protocol):
    """An asyncio Protocol that buffers what arrives and hands it out through `read()`."""

    def __init__(self, on_connected: Callable[[Stream], None] | None = None,
                 half_close: bool = False) -> None:
        self.transport: asyncio.Transport | None = None
        self._on_connected = on_connected
        self._half_close = half_close
        self._chunks: list[bytes] = []
        self._size = 0
        self._eof = False
        self._lost = False
        self._exc: BaseException | None = None
        self._read_waiter: asyncio.Future | None = None
        self._drain_waiter: asyncio.Future | None = None
        self._write_paused = False
        self._read_paused = False
        #: called when the peer closes, writing may resume, or (if `wake_on_data`) bytes arrive
        self.waker: Callable[[], None] | None = None
        #: False while the reader has no use for more bytes (the other side cannot take them)
        self.wake_on_data = True

    # -- protocol callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self._on_connected is not None:
            self._on_connected(self)

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._size += len(data)
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self._size > HIGH_WATER and not self._read_paused:
            self._read_paused = True
            self.transport.pause_reading()
        if self.waker is not None and self.wake_on_data:
            self.waker()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake_reader()
        return self._half_close

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._lost = True
        self._exc = exc
        self._wake_reader()
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self.waker is not None:
            self.waker()

    def _wake_reader(self) -> None:
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self.waker is not None:
            self.waker()

    # -- stream interface
    @property
    def raw(self) -> Stream:
        return self

    @property
    def lost(self) -> bool:
        return self._lost

    @property
    def at_eof(self) -> bool:
        return self._eof and not self._chunks

    @property
    def peer_closed(self) -> bool:
        """The peer sent EOF or the connection is gone (buffered bytes may remain)."""
        return self._eof

    @property
    def write_paused(self) -> bool:
        """The transport's write buffer is full: stop feeding it until `waker` fires."""
        return self._write_paused and not self._lost

    def read_nowait(self) -> bytes | None:
        """What arrived since the last read; b"" at end of stream; None if nothing yet."""
        if not self._chunks:
            return b"" if self._eof else None
        return self._take()

    def _take(self) -> bytes:
        """The buffered bytes, as one; reading resumes if the buffer had paused it."""
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._chunks = []
        self._size = 0
        if self._read_paused and not self._lost:
            self._read_paused = False
            self.transport.resume_reading()
        return data

    def reusable(self) -> bool:
        """May this idle upstream connection carry another request? Not if anything
        arrived on it while idle (its end, an unsolicited 408, a TLS close): asked of the
        socket itself, since the event loop may not have read what is already there."""
        if self._eof or self._lost or self._chunks:
            return False
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        if sock is None:
            return True
        try:
            poller = select.poll()
            poller.register(sock.fileno(), select.POLLIN | select.POLLPRI)
            return not poller.poll(0)
        except (OSError, ValueError, AttributeError):
            return True

    async def read(self) -> bytes:
        """Everything that arrived since the last call; b"" at end of stream."""
        while not self._chunks:
            if self._eof:
                return b""
            self._read_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._read_waiter
            finally:
                self._read_waiter = None
        return self._take()

    def write(self, data: bytes) -> None:
        if self._lost or self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("connection closed")
        self.transport.write(data)

    async def drain(self) -> None:
        if self._lost:
            raise ConnectionResetError("connection closed")
        if not self._write_paused:
            return
        self._drain_waiter = asyncio.get_running_loop().create_future()
        try:
            await self._drain_waiter
        finally:
            self._drain_waiter = None
        if self._lost:
            raise ConnectionResetError("connection closed")

    def write_eof(self) -> None:
        if self.transport is not None and not self._lost and self.transport.can_write_eof():
            self.transport.write_eof()

    def close(self) -> None:
        """Close after pending writes are flushed."""
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def peername(self) -> str:
        peer = self.transport.get_extra_info("peername") if self.transport else None
        if isinstance(peer, tuple) and len(peer) >= 2:
            return f"{peer[0]}:{peer[1]}"
        return str(peer or "")


class TLSStream:
    """TLS over a `Stream`, driven by hand with `ssl.SSLObject` and two memory BIOs."""

    def __init__(self, raw: Stream, ctx: ssl.SSLContext, server_side: bool,
                 server_hostname: str | None = None) -> None:
        self.raw = raw
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self.sslobj = ctx.wrap_bio(self._in, self._out, server_side=server_side,
                                   server_hostname=server_hostname)
        self._eof = False

    @property
    def lost(self) -> bool:
        return self.raw.lost

    @property
    def at_eof(self) -> bool:
        return self._eof or self.raw.at_eof

    @property
    def peer_closed(self) -> bool:
        return self._eof or self.raw.peer_closed

    @property
    def write_paused(self) -> bool:
        return self.raw.write_paused

    @property
    def waker(self) -> Callable[[], None] | None:
        return self.raw.waker

    @waker.setter
    def waker(self, fn: Callable[[], None] | None) -> None:
        self.raw.waker = fn

    @property
    def wake_on_data(self) -> bool:
        return self.raw.wake_on_data

    @wake_on_data.setter
    def wake_on_data(self, flag: bool) -> None:
        self.raw.wake_on_data = flag

    def read_nowait(self) -> bytes | None:
        """Decrypted bytes available now; b"" at end; None if nothing can be decrypted yet.
        OpenSSL is asked only when it has input, so an empty poll raises nothing."""
        if self._eof:
            return b""
        incoming = self.raw.read_nowait()
        if incoming:
            self._in.write(incoming)
        parts = []
        sslobj = self.sslobj
        # one read takes a whole record (at most 16 KiB), so input left in the BIO is the
        # only sign of more (and `pending()` would release the GIL for nothing)
        while self._in.pending:
            try:
                data = sslobj.read(TLS_READ_SIZE)
            except ssl.SSLWantReadError:  # a record not complete yet
                break
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self._eof = True
                break
            if not data:
                self._eof = True
                break
            parts.append(data)
        if self._out.pending:  # the TLS layer may have something to say (a key update)
            try:
                self._flush()
            except ConnectionError:
                pass
        if parts:
            return parts[0] if len(parts) == 1 else b"".join(parts)
        if self._eof or incoming == b"":  # close_notify, or the transport ended without it
            self._eof = True
            return b""
        return None
    def _flush(self) -> None:
        if self._out.pending:
            self.raw.write(self._out.read())

    async def handshake(self, already_read: bytes = b"") -> None:
        """Run the handshake; `already_read` are bytes of it read before TLS began."""
        if already_read:
            self._in.write(already_read)
        while True:
            try:
                self.sslobj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                data = await self.raw.read()
                if not data:
                    raise ConnectionResetError("client closed the connection during the TLS handshake")
                self._in.write(data)
            except ssl.SSLError:
                try:
                    self._flush()  # send our alert, if any
                except ConnectionError:
                    pass
                raise
        self._flush()

    def write(self, data: bytes) -> None:
        if self.raw.lost:
            raise ConnectionResetError("connection closed")
        self.sslobj.write(data)
        self._flush()

    async def drain(self) -> None:
        await self.raw.drain()

    def write_eof(self) -> None:
        pass

    def close(self) -> None:
        """Send close_notify (best effort), then close the transport."""
        if not self.raw.lost:
            try:
                self.sslobj.unwrap()
            except (ssl.SSLError, ValueError):
                pass
            try:
                self._flush()
            except ConnectionError:
                pass
        self.raw.close()

    def abort(self) -> None:
        self.raw.abort()

    def peername(self) -> str:
        return self.raw.peername()


class Waker:
    """Wakes a relay loop when a stream has news, or at the relay's deadline. The timer is
    re-armed only when the deadline moves earlier: with a deadline that keeps moving later
    (a stream making progress) it fires rarely, and the loop just re-checks."""

    __slots__ = ("loop", "clock", "fut", "timer", "timer_at")

    def __init__(self, loop: asyncio.AbstractEventLoop, clock: Any) -> None:
        self.loop, self.clock = loop, clock
        self.fut: asyncio.Future | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.timer_at = 0.0

    def wake(self) -> None:
        fut = self.fut
        if fut is not None and not fut.done():
            fut.set_result(None)

    def _ring(self) -> None:
        self.timer = None
        self.wake()

    async def wait(self, deadline: float | None) -> None:
        if deadline is not None and (self.timer is None or self.timer_at > deadline):
            if self.timer is not None:
                self.timer.cancel()
            self.timer = self.loop.call_later(max(0.0, deadline - self.clock()), self._ring)
            self.timer_at = deadline
        self.fut = self.loop.create_future()
        try:
            await self.fut
        finally:
            self.fut = None

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
