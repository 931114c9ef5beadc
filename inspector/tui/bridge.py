"""Turns the runtime's listener calls (made on the proxy's and the writer's threads) into
Textual messages for the app.

The listener must return at once: it builds a small row dict and calls `post_message`,
which only puts the message on the app's queue. It never waits for the UI.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from inspector.capture.redact import scrub_url
from inspector.timeparse import iso_utc
from inspector.tui.messages import (
    CapturesChanged,
    ExchangeFinished,
    ExchangeStarted,
    ProxyNotice,
)

log = logging.getLogger(__name__)


def exchange_row(exchange: Any) -> dict[str, Any]:
    """What the table can show of an exchange before it is stored (no parsing of bodies)."""
    timings = getattr(exchange, "timings", None)
    started = getattr(timings, "started_wall", None)
    total = None
    if timings is not None and getattr(timings, "ended", None) is not None:
        total = timings.ms(timings.ended)
    return {
        "id": exchange.id,
        "ts": iso_utc(started) if started else None,
        "method": exchange.method,
        "host": exchange.host,
        "path": scrub_url(exchange.target),
        "status": exchange.status,
        "error": exchange.error,
        "total_ms": total,
        "in_progress": not bool(getattr(exchange, "complete", False) or exchange.error)
        and total is None,
    }


def make_listener(post: Callable[[Any], Any]) -> Callable[[str, Any], None]:
    """A runtime listener posting app messages through `post` (the app's post_message)."""

    def listener(event: str, data: Any) -> None:
        try:
            if event == "exchange_started":
                post(ExchangeStarted(exchange_row(data)))
            elif event == "exchange_finished":
                post(ExchangeFinished(exchange_row(data)))
            elif event == "stored":
                post(CapturesChanged(tuple(data or ())))
            elif event == "notice":
                kind, text = data
                post(ProxyNotice(str(kind), str(text)))
        except Exception:  # never let the UI's trouble reach the proxy's thread
            log.exception("listener failed on %s", event)

    return listener
