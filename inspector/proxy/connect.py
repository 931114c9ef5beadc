"""Sans-IO decisions about a new client connection: what a CONNECT asks for, whether we
terminate its TLS or tunnel it blind, where reverse-mode requests go, and the canned
replies the proxy sends itself (200 to CONNECT, 400, 502).

Nothing here touches a socket, so all of it is tested on plain values.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

CONNECT_OK = b"HTTP/1.1 200 Connection established\r\n\r\n"


@dataclass(frozen=True, slots=True)
class Target:
    """Where an upstream connection goes: scheme, host (as named, for TLS) and port."""

    scheme: str
    host: str
    port: int
    #: path prefix of a reverse-mode upstream URL ("" or e.g. "/proxy")
    base_path: str = ""

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def host_header(self) -> str:
        """The Host header value a request to this target carries."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse_connect_target(target: bytes) -> tuple[str, int]:
    """b"api.anthropic.com:443" -> ("api.anthropic.com", 443). Raises ValueError."""
    text = target.decode("ascii", "strict")
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValueError(f"bad CONNECT target {text!r}")
        port_s = rest[1:]
    else:
        host, sep, port_s = text.rpartition(":")
        if not sep:
            raise ValueError(f"CONNECT target {text!r} has no port")
    if not host or not port_s.isdigit() or not 0 < int(port_s) < 65536:
        raise ValueError(f"bad CONNECT target {text[:300]!r}")
    check_host_name(host)
    return host.lower(), int(port_s)


def check_host_name(host: str) -> None:
    """Raise ValueError unless `host` is an IP address or a name the resolver and TLS can
    take: labels of 1 to 63 characters, 253 in all (what the IDNA codec checks; it is
    the codec the event loop applies when connecting)."""
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    try:
        encoded = host.encode("idna")
    except UnicodeError:
        raise ValueError("CONNECT host is not a valid name (a label is empty or longer "
                         "than 63 characters)") from None
    if len(encoded.rstrip(b".")) > 253:
        raise ValueError("CONNECT host is not a valid name (longer than 253 characters)")


def should_intercept(host: str, intercept: tuple[str, ...] | list[str]) -> bool:
    """Exact, case-insensitive host match (a trailing dot ignored); port does not matter."""
    host = host.lower().rstrip(".")
    return any(host == h.lower().rstrip(".") for h in intercept)


def parse_upstream_url(url: str) -> Target:
    """'https://api.anthropic.com' -> Target("https", "api.anthropic.com", 443)."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "https").lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"upstream URL {url!r} must be http(s)://HOST[:PORT]")
    port = parts.port or (443 if scheme == "https" else 80)
    return Target(scheme, parts.hostname.lower(), port, parts.path.rstrip("/"))


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (localhost, 127/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def error_body(message: str, kind: str = "proxy_error") -> bytes:
    """An error body in the Messages API's own shape, so SDKs show our message."""
    return json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()


def error_response(status: int, message: str, close: bool = True) -> bytes:
    """A complete HTTP/1.1 response the proxy sends itself (before any h11 state)."""
    reasons = {400: "Bad Request", 408: "Request Timeout", 502: "Bad Gateway",
               504: "Gateway Timeout"}
    body = error_body(message, "invalid_request_error" if status == 400 else "proxy_error")
    head = (
        f"HTTP/1.1 {status} {reasons.get(status, 'Error')}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        + ("connection: close\r\n" if close else "")
        + "\r\n"
    )
    return head.encode("latin-1") + body
