"""Helpers shared by the proxy tests (imported by name; conftest holds the fixtures)."""

from __future__ import annotations

import socket
import ssl
import threading
import time

from inspector.model import Exchange


class RecordingSink:
    """Keeps every exchange and notice; `wait_finished(n)` waits for n exchanges."""

    def __init__(self) -> None:
        self.started: list[Exchange] = []
        self.finished: list[Exchange] = []
        self.notices: list[tuple[str, str]] = []
        self._cond = threading.Condition()

    def exchange_started(self, ex: Exchange) -> None:
        self.started.append(ex)

    def exchange_finished(self, ex: Exchange) -> None:
        with self._cond:
            self.finished.append(ex)
            self._cond.notify_all()

    def notice(self, kind: str, message: str) -> None:
        with self._cond:
            self.notices.append((kind, message))
            self._cond.notify_all()

    def wait_finished(self, n: int = 1, timeout: float = 10) -> list[Exchange]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.finished) >= n, timeout), self.finished
            return list(self.finished)

    def wait_notice(self, kind: str, timeout: float = 10) -> str:
        with self._cond:
            assert self._cond.wait_for(lambda: any(k == kind for k, _ in self.notices), timeout)
            return next(m for k, m in self.notices if k == kind)


def strict_client_context(cafile: str) -> ssl.SSLContext:
    """Python's default client context, made stricter still (VERIFY_X509_STRICT)."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    return ctx


def wait_until(cond, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


class RawUpstream:
    """A hand-scripted upstream on loopback: each accepted connection runs `handler(sock)`
    in its own thread, over TLS with the stub's leaf (trusted through the stub's CA) when
    `leaf` is given. For behaviours the stub API does not have: answering before reading
    the body, closing idle connections, malformed replies, never answering."""

    def __init__(self, handler, leaf: str | None = None) -> None:
        self.handler = handler
        self.ctx = None
        if leaf:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(leaf)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            if self.ctx is not None:
                sock = self.ctx.wrap_socket(sock, server_side=True)
            self.handler(sock)
        except (OSError, ssl.SSLError):
            pass
        finally:
            sock.close()

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


def read_head(sock: socket.socket, buf: bytes = b"") -> tuple[bytes, bytes]:
    """Read up to the end of a head -> (head, bytes after it); (b"", b"") at end of stream."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return b"", b""
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def read_request(sock: socket.socket, buf: bytes = b"") -> tuple[bytes, bytes, bytes]:
    """One request with a Content-Length body -> (head, body, bytes after it)."""
    head, rest = read_head(sock, buf)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head, rest[:length], rest[length:]


def json_reply(status: int, body: bytes, extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n{extra}\r\n").encode() + body
