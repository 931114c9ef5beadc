"""Durations (`30s 15m 1h 7d 2w`) and times (ISO 8601) as the CLI and filters accept them."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.I)


def parse_duration(text: str) -> float:
    """'90s' -> 90.0, '1h' -> 3600.0. Raises ValueError with a helpful message."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration (use e.g. 30s, 15m, 1h, 7d)")
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


def parse_time(text: str, now: float | None = None) -> float:
    """A duration means that long ago; otherwise an ISO 8601 time (naive = UTC).
    Returns epoch seconds."""
    now = time.time() if now is None else now
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (30m, 1h, 7d) nor an ISO time (2026-11-24T10:00)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def iso_utc(epoch: float) -> str:
    """Epoch seconds -> '2026-11-24T22:15:37.123456Z' (sorts as text)."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
