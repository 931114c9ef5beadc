"""Turns the runtime's notices (made on its threads) into Textual messages for the app.

Only control and status come this way: what was captured reaches the app through the
store (see `screens/main.py`). The listener returns at once: `post_message` only puts
the message on the app's queue, it never waits for the UI.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from inspector.tui.messages import ProxyNotice

log = logging.getLogger(__name__)


def make_listener(post: Callable[[Any], Any]) -> Callable[[str, Any], None]:
    """A runtime listener posting the runtime's notices through `post` (the app's
    post_message); other events are not the app's business."""

    def listener(event: str, data: Any) -> None:
        if event != "notice":
            return
        try:
            kind, text = data
            post(ProxyNotice(str(kind), str(text)))
        except Exception:  # never let the UI's trouble reach the runtime's thread
            log.exception("listener failed on %s", event)

    return listener
