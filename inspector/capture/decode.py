"""Content decoding of captured body copies (the bytes relayed are never touched).

Claude Code advertises gzip, deflate, br and zstd. Encodings may be stacked
(`Content-Encoding: gzip, br` means gzip was applied first), so they are undone from
last to first. A body cut short by the capture cap still yields what decodes.
"""

from __future__ import annotations

import zlib

import brotli
import zstandard


class DecodeError(Exception):
    """A body could not be decoded; the message says which encoding failed and why."""


def _gzip(data: bytes) -> tuple[bytes, bool]:
    """Decode gzip, including several concatenated members. Returns (bytes, complete)."""
    out = bytearray()
    while data:
        d = zlib.decompressobj(wbits=31)
        out += d.decompress(data)
        if not d.eof:
            return bytes(out), False
        data = d.unused_data.lstrip(b"\0")
    return bytes(out), True


def _deflate(data: bytes) -> tuple[bytes, bool]:
    """HTTP 'deflate' is meant to be zlib-wrapped, but servers also send raw deflate."""
    for wbits in (15, -15):
        d = zlib.decompressobj(wbits=wbits)
        try:
            out = d.decompress(data)
        except zlib.error:
            continue
        return out, d.eof
    raise zlib.error("neither zlib nor raw deflate data")


def _brotli(data: bytes) -> tuple[bytes, bool]:
    d = brotli.Decompressor()
    out = d.process(data)
    return out, d.is_finished()


def _zstd(data: bytes) -> tuple[bytes, bool]:
    # A decompressobj copes with frames that do not record their content size, as
    # streaming encoders write them.
    d = zstandard.ZstdDecompressor().decompressobj()
    out = d.decompress(data)
    return out, d.eof


_DECODERS = {
    "gzip": _gzip, "x-gzip": _gzip, "deflate": _deflate, "br": _brotli, "zstd": _zstd,
}


def decode_body(data: bytes, content_encoding: str | None) -> tuple[bytes, str | None]:
    """Undo `content_encoding` on `data`.

    Returns (decoded bytes, note). The note is None when everything decoded cleanly and
    says what went wrong otherwise ("gzip stream ends early" for a truncated body).
    Raises `DecodeError` when nothing usable decodes; the caller keeps the raw bytes.
    """
    if not content_encoding or not data:
        return data, None
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    notes: list[str] = []
    for coding in reversed(codings):
        if coding == "identity":
            continue
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise DecodeError(f"unknown content-encoding {coding!r}")
        try:
            data, complete = decoder(data)
        except Exception as e:  # each library raises its own error type
            raise DecodeError(f"undecodable {coding}: {e}") from None
        if not complete:
            notes.append(f"{coding} stream ends early")
    return data, "; ".join(notes) or None
