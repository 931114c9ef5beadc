"""Token estimates for images and documents, which are not priced by their text.

An image costs about width x height / 750 tokens after the API scales it to fit 1568 px on
its long edge (so at most ~1600 tokens). PNG, GIF and WebP headers give the size from the
first bytes of the base64 data; for other formats the size is guessed from the byte count
(a typical screenshot JPEG holds ~140 bytes per token's worth of pixels). A PDF costs
roughly 1500 tokens of text plus one image per page; pages are counted in the file when it
is small enough to decode, else guessed from its size.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from typing import Any

from inspector.attribution.tokens import estimate_tokens_float

MAX_EDGE = 1568
PIXELS_PER_TOKEN = 750
MAX_IMAGE_TOKENS = (MAX_EDGE * MAX_EDGE * 9 // 16) // PIXELS_PER_TOKEN  # a 16:9 frame at the cap
BYTES_PER_IMAGE_TOKEN = 140
TOKENS_PER_PDF_PAGE = 1500 + 1100
BYTES_PER_PDF_PAGE = 60_000
DECODE_PDF_BELOW = 4 << 20
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")


def _image_size(head: bytes) -> tuple[int, int] | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and head[12:16] == b"VP8X" and len(head) >= 30:
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return w, h
    return None


def image_tokens(data_b64: str) -> float:
    try:
        head = base64.b64decode(data_b64[:64] + "=" * (-len(data_b64[:64]) % 4))
    except (binascii.Error, ValueError):
        head = b""
    size = _image_size(head)
    if size and size[0] > 0 and size[1] > 0:
        w, h = size
        scale = min(1.0, MAX_EDGE / max(w, h))
        return max(1.0, (w * scale) * (h * scale) / PIXELS_PER_TOKEN)
    nbytes = len(data_b64) * 3 / 4
    return min(float(MAX_IMAGE_TOKENS), max(50.0, nbytes / BYTES_PER_IMAGE_TOKEN))


def pdf_tokens(data_b64: str) -> float:
    nbytes = len(data_b64) * 3 / 4
    pages = 0
    if len(data_b64) < DECODE_PDF_BELOW:
        try:
            pages = len(_PDF_PAGE.findall(base64.b64decode(data_b64)))
        except (binascii.Error, ValueError):
            pages = 0
    if pages == 0:
        pages = max(1, round(nbytes / BYTES_PER_PDF_PAGE))
    return float(pages * TOKENS_PER_PDF_PAGE)


def media_tokens(block: dict[str, Any]) -> float:
    """Estimated tokens of an image or document content block."""
    source = block.get("source")
    if not isinstance(source, dict):
        return 10.0
    kind = source.get("type")
    data = source.get("data")
    if kind == "base64" and isinstance(data, str):
        if block.get("type") == "image":
            return image_tokens(data)
        if source.get("media_type") == "application/pdf":
            return pdf_tokens(data)
        return estimate_tokens_float(data)
    if kind == "text" and isinstance(data, str):
        return estimate_tokens_float(data)
    if block.get("type") == "image":
        return float(MAX_IMAGE_TOKENS) / 2  # by URL or file id: size unknown
    return float(TOKENS_PER_PDF_PAGE)
