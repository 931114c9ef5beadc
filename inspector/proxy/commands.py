"""What the sans-IO relay (`http1.Relay`) asks the engine to do.

The relay takes bytes and returns these; `engine.py` carries them out on real sockets.
Consecutive sends to one side are merged into one command, so a small request leaves in
one write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inspector.model import Exchange


@dataclass(slots=True)
class SendClient:
    """Write these bytes to the client."""

    chunks: list[bytes] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        return self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)


@dataclass(slots=True)
class SendUpstream:
    """Write these bytes to the upstream connection."""

    chunks: list[bytes] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        return self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)


@dataclass(slots=True)
class OpenUpstream:
    """Get an upstream connection for the exchange in progress, then call
    `upstream_ready(reused)` or `upstream_failed(kind, detail)`. With `reuse`, the open
    one may serve again if nothing arrived on it while it sat idle (checked at the
    socket, since the event loop may not have seen a close yet)."""

    reuse: bool


@dataclass(slots=True)
class CloseUpstream:
    """Forget the upstream connection: abort it (mid-message) or close it politely."""

    abort: bool


@dataclass(slots=True)
class CloseClient:
    """End the client connection, after what was sent to it (unless `abort`)."""

    abort: bool = False


@dataclass(slots=True)
class Started:
    """Report an exchange's start to the sink."""

    exchange: Exchange


@dataclass(slots=True)
class Finished:
    """Report an exchange's end to the sink (exactly once per exchange)."""

    exchange: Exchange


@dataclass(slots=True)
class Tunnel:
    """Answer a CONNECT to a host we do not intercept with a blind byte tunnel;
    `already_read` are bytes the client sent after its CONNECT head."""

    host: str
    port: int
    already_read: bytes


@dataclass(slots=True)
class Intercept:
    """Answer a CONNECT to an intercepted host: terminate its TLS, relay what is inside;
    `already_read` are the first bytes of the client's TLS handshake, if any."""

    host: str
    port: int
    already_read: bytes
