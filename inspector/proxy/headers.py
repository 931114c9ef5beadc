"""Headers on their way through the relay: what is passed on, and how parse errors are
named without quoting the bytes that caused them."""

from __future__ import annotations

from typing import Any

# Headers that describe one connection, not the message: never passed on.
HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"proxy-authenticate",
    b"proxy-authorization", b"te", b"trailer", b"upgrade", b"expect",
})


def decode_headers(headers: Any) -> list[tuple[str, str]]:
    """h11 headers -> [(lower-cased name, value)] decoded as latin-1, as the model wants."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]


def forward_headers(headers: Any, host: str | None = None,
                    default_host: str | None = None) -> list[tuple[bytes, bytes]]:
    """The headers to pass on: original spelling and order, hop-by-hop ones dropped, and
    Host set to `host` when given (reverse mode sends the upstream's own name), or to
    `default_host` when the client sent none (HTTP/1.0). Content-Length is dropped beside
    Transfer-Encoding (the message is framed by the latter; passing both invites two
    readers to disagree on where it ends)."""
    out = []
    saw_host = False
    chunked = any(name == b"transfer-encoding" for name, _ in headers)
    for name, value in headers.raw_items():
        low = name.lower()
        if low in HOP_BY_HOP or (chunked and low == b"content-length"):
            continue
        if low == b"host":
            saw_host = True
            if host is not None:
                value = host.encode("latin-1")
        out.append((name, value))
    if not saw_host and (host or default_host):
        out.insert(0, (b"Host", (host or default_host or "").encode("latin-1")))
    return out


def malformed(side: str, in_body: bool, message: str) -> str:
    """A reason for an h11 parse error that names what was malformed and nothing else:
    h11's own message may quote the offending bytes (a header with an API key in it)."""
    if in_body:
        part = "trailer" if message.lower().startswith("illegal header") else "body"
    else:
        part = "request head" if side == "client" else "response head"
    return f"malformed {part} from {side}"
