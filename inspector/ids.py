"""Time-sortable ids: 10 characters of milliseconds then 10 random, Crockford base32.

Sorting ids as strings sorts them by creation time, and any unique prefix names one.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _encode(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id(now: float | None = None) -> str:
    """A new id for time `now` (epoch seconds; default: now)."""
    ms = int((time.time() if now is None else now) * 1000)
    rand = int.from_bytes(os.urandom(7), "big") & ((1 << 50) - 1)
    return _encode(ms, 10) + _encode(rand, 10)


def id_time(capture_id: str) -> float | None:
    """The time (epoch seconds) an id was made at, from its first 10 characters; None
    for something that is not one of these ids."""
    ms = 0
    for ch in capture_id[:10].lower():
        digit = _ALPHABET.find(ch)
        if digit < 0:
            return None
        ms = ms * 32 + digit
    return ms / 1000.0 if len(capture_id) >= 10 else None
