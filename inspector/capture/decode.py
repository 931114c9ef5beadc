"""Content decoding of captured body copies (the bytes relayed are never touched).

Claude Code advertises gzip, deflate, br and zstd. Encodings may be stacked
(`Content-Encoding: gzip, br` means gzip was applied first), so they are undone from
last to first. A body cut short by the capture cap still yields what decodes.

What decodes is capped too (`MAX_DECODED`): a few kilobytes can expand to gigabytes, and
every decoder here hands its output over in bounded pieces, so a body past the cap is
cut there with a note, never held whole.
"""

from __future__ import annotations

import zlib
from typing import Any, Iterable, Iterator

import brotli
import zstandard


class DecodeError(Exception):
    """A body could not be decoded; the message says which encoding failed and why."""


#: the most one decoder call may return, so a small compressed chunk that expands a lot
#: still comes out in pieces
_OUT = 1 << 20
#: the most a body decodes to (a real request is a few MB; images in it a few tens)
MAX_DECODED = 1 << 27
#: zstd input fed per call: its decompressor returns all a call's output at once, and a
#: byte of input may stand for up to 32 KB of output (run-length blocks)
_ZSTD_IN = 256


class _Gzip:
    """gzip, including several concatenated members (zero padding between them)."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(wbits=31)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self._d.eof:
                data = data.lstrip(b"\0")
                if not data:
                    return
                self._d = zlib.decompressobj(wbits=31)
            yield from _drain(self._d, data)
            data = self._d.unused_data if self._d.eof else b""

    def complete(self) -> bool:
        return self._d.eof


class _Deflate:
    """HTTP 'deflate' is meant to be zlib-wrapped, but servers also send raw deflate: the
    first bytes decide which."""

    def __init__(self) -> None:
        self._d: Any = None

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._d is None:
            for wbits in (15, -15):
                d = zlib.decompressobj(wbits=wbits)
                try:
                    first = d.decompress(data[:2])
                except zlib.error:
                    continue
                self._d = d
                if first:
                    yield first
                data = data[2:]
                break
            else:
                raise zlib.error("neither zlib nor raw deflate data")
        yield from _drain(self._d, data)

    def complete(self) -> bool:
        return self._d is not None and self._d.eof


def _drain(d: Any, data: bytes) -> Iterator[bytes]:
    """A zlib decompressobj's output for `data`, in pieces of at most `_OUT` bytes."""
    while data and not d.eof:
        out = d.decompress(data, _OUT)
        if out:
            yield out
        data = d.unconsumed_tail


class _Brotli:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        for i in range(0, len(data), 1 << 16):
            out = self._d.process(data[i:i + (1 << 16)], output_buffer_limit=_OUT)
            if out:
                yield out
            while not self._d.can_accept_more_data():  # more output is due before input
                out = self._d.process(b"", output_buffer_limit=_OUT)
                if not out:
                    break
                yield out

    def complete(self) -> bool:
        return self._d.is_finished()


class _Zstd:
    # A decompressobj copes with frames that do not record their content size, as
    # streaming encoders write them.
    def __init__(self) -> None:
        self._d = zstandard.ZstdDecompressor().decompressobj()

    def feed(self, data: bytes) -> Iterator[bytes]:
        for i in range(0, len(data), _ZSTD_IN):
            out = self._d.decompress(data[i:i + _ZSTD_IN])
            if out:
                yield out

    def complete(self) -> bool:
        return self._d.eof


_DECODERS = {
    "gzip": _Gzip, "x-gzip": _Gzip, "deflate": _Deflate, "br": _Brotli, "zstd": _Zstd,
}


def _stage(chunks: Iterable[bytes], coding: str, notes: list[str]) -> Iterator[bytes]:
    decoder = _DECODERS[coding]()
    try:
        for chunk in chunks:
            yield from decoder.feed(chunk)
        complete = decoder.complete()
    except DecodeError:
        raise
    except Exception as e:  # each library raises its own error type
        raise DecodeError(f"undecodable {coding}: {e}") from None
    if not complete:
        notes.append(f"{coding} stream ends early")


def _capped(stream: Iterable[bytes], limit: int, notes: list[str]) -> Iterator[bytes]:
    total = 0
    for piece in stream:
        if total + len(piece) > limit:
            yield piece[:limit - total]
            notes.append(f"decoded body cut at {limit:,} bytes (it expands further)")
            return
        total += len(piece)
        yield piece


def iter_decoded(chunks: Iterable[bytes], content_encoding: str | None,
                 notes: list[str], limit: int = MAX_DECODED) -> Iterator[bytes]:
    """Undo `content_encoding` on a body given in chunks, yielding decoded chunks, at
    most `limit` bytes of them.

    What went wrong without stopping the decoding ("gzip stream ends early" for a
    truncated body, a body cut at `limit`) is appended to `notes`. Raises `DecodeError`,
    possibly after some output, when the rest does not decode; the caller then keeps the
    raw bytes.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    for coding in codings:
        if coding not in _DECODERS:
            raise DecodeError(f"unknown content-encoding {coding!r}")
    stream: Iterable[bytes] = (c for c in chunks if c)
    for coding in reversed(codings):
        stream = _stage(stream, coding, notes)
    return _capped(stream, limit, notes) if codings else iter(stream)


def decode_body(data: bytes, content_encoding: str | None) -> tuple[bytes, str | None]:
    """Undo `content_encoding` on `data`.

    Returns (decoded bytes, note). The note is None when everything decoded cleanly and
    says what went wrong otherwise ("gzip stream ends early" for a truncated body).
    Raises `DecodeError` when nothing usable decodes; the caller keeps the raw bytes.
    """
    if not content_encoding or not data:
        return data, None
    notes: list[str] = []
    out = b"".join(iter_decoded([data], content_encoding, notes))
    return out, "; ".join(notes) or None
