"""Decoding of captured bodies per Content-Encoding, and bodies that do not decode."""

from __future__ import annotations

import gzip
import json
import zlib

import brotli
import pytest
import zstandard

from inspector.capture import build_capture
from inspector.capture.decode import MAX_DECODED, DecodeError, decode_body, iter_decoded

from .fixtures import FINAL_MESSAGE, make_exchange, request_body, stream_bytes

PAYLOAD = json.dumps(FINAL_MESSAGE).encode() * 3


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-15)
    return c.compress(data) + c.flush()


def _zstd_streamed(data: bytes) -> bytes:
    # a frame without its content size, as streaming encoders write it
    c = zstandard.ZstdCompressor().compressobj()
    return c.compress(data) + c.flush()


@pytest.mark.parametrize("encoding, encode", [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("deflate", _raw_deflate),
    ("br", brotli.compress),
    ("zstd", zstandard.ZstdCompressor().compress),
    ("zstd", _zstd_streamed),
    ("identity", lambda d: d),
])
def test_each_encoding_decodes(encoding, encode):
    data, note = decode_body(encode(PAYLOAD), encoding)
    assert data == PAYLOAD and note is None


def test_stacked_encodings_undone_last_first():
    encoded = brotli.compress(gzip.compress(PAYLOAD))
    assert decode_body(encoded, "gzip, br") == (PAYLOAD, None)


def test_concatenated_gzip_members():
    assert decode_body(gzip.compress(b"ab") + gzip.compress(b"cd"), "gzip") == (b"abcd", None)


def test_truncated_body_decodes_partially_with_a_note():
    encoded = gzip.compress(PAYLOAD)
    data, note = decode_body(encoded[: len(encoded) // 2], "gzip")
    assert PAYLOAD.startswith(data) and len(data) > 0
    assert note == "gzip stream ends early"


def test_garbage_raises_decode_error():
    with pytest.raises(DecodeError, match="undecodable br"):
        decode_body(b"definitely not brotli", "br")
    with pytest.raises(DecodeError, match="unknown content-encoding"):
        decode_body(b"x", "compress")


@pytest.mark.parametrize("encoding, encode", [
    ("gzip", gzip.compress), ("br", brotli.compress), ("zstd", zstandard.ZstdCompressor().compress),
])
def test_encoded_stream_and_request_are_stored_decoded(encoding, encode):
    body = json.dumps(request_body()).encode()
    ex = make_exchange(
        encode(body), encode(stream_bytes()),
        req_headers=[("content-type", "application/json"), ("content-encoding", encoding)],
        resp_headers=[("content-type", "text/event-stream"), ("content-encoding", encoding)])
    cap = build_capture(ex)
    assert cap.request_json == request_body()
    assert cap.response_json == FINAL_MESSAGE
    assert cap.stream_complete is True and cap.request_note is None
    assert cap.response_note is None


def test_undecodable_body_kept_raw_with_note():
    ex = make_exchange(b"{}", b"\x00\x01 not gzip at all",
                       resp_headers=[("content-type", "application/json"),
                                     ("content-encoding", "gzip")])
    cap = build_capture(ex)
    assert cap.response_raw == b"\x00\x01 not gzip at all"
    assert cap.response_text is None and "undecodable gzip" in cap.response_note


def test_binary_body_kept_raw_with_note():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    ex = make_exchange(b"{}", png, resp_headers=[("content-type", "image/png")])
    cap = build_capture(ex)
    assert cap.response_raw == png and "binary body" in cap.response_note


def test_non_json_text_kept_as_text():
    ex = make_exchange(b"{}", b"<html>upstream error</html>",
                       resp_headers=[("content-type", "text/html")], status=502)
    cap = build_capture(ex)
    assert cap.response_text == "<html>upstream error</html>" and cap.response_json is None
    bad = make_exchange(b"{}", b"{truncated json", resp_headers=[("content-type", "application/json")])
    cap = build_capture(bad)
    assert cap.response_text == "{truncated json" and "not JSON" in cap.response_note


def _bomb(encoding: str, size: int) -> bytes:
    """`size` zero bytes compressed as `encoding`, without holding them whole."""
    if encoding == "br":
        c = brotli.Compressor(quality=1)
        compress, flush = c.process, c.finish
    elif encoding == "zstd":
        c = zstandard.ZstdCompressor().compressobj()
        compress, flush = c.compress, c.flush
    else:
        c = zlib.compressobj(9, wbits=31 if encoding == "gzip" else 15)
        compress, flush = c.compress, c.flush
    zeros = bytes(1 << 20)
    return b"".join(compress(zeros) for _ in range(size >> 20)) + flush()


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_a_body_that_expands_past_the_cap_is_cut_there_in_pieces(encoding):
    bomb = _bomb(encoding, 64 << 20)
    assert len(bomb) < 1 << 20  # a small body...
    notes: list[str] = []
    total, biggest = 0, 0
    for piece in iter_decoded([bomb[i:i + 8192] for i in range(0, len(bomb), 8192)],
                              encoding, notes, limit=8 << 20):
        total += len(piece)
        biggest = max(biggest, len(piece))
    # ...cut at the cap, never held whole: pieces of at most a few MB
    assert total == 8 << 20 and biggest <= 8 << 20
    assert notes == ["decoded body cut at 8,388,608 bytes (it expands further)"]


def test_a_captured_bomb_is_stored_cut_with_a_note():
    bomb = _bomb("gzip", MAX_DECODED + (16 << 20))
    ex = make_exchange(json.dumps(request_body()).encode(), bomb,
                       resp_headers=[("content-type", "application/json"),
                                     ("content-encoding", "gzip")])
    cap = build_capture(ex)
    assert "decoded body cut at" in cap.response_note
    assert cap.response_json is None  # not whole, so not parsed as JSON
