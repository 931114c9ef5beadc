"""Messages that carry news from other threads (the proxy's, the database watcher's) to
the UI. Posted with `post_message`, which never blocks the sender.

Bursts are coalesced: a pending `CapturesChanged` absorbs the next one, so a thousand
stored exchanges cause a handful of table refreshes, not a thousand.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message


class ExchangeStarted(Message):
    """A request head reached this app's proxy: show an in-progress row."""

    def __init__(self, row: dict[str, Any]) -> None:
        super().__init__()
        self.row = row


class ExchangeFinished(Message):
    """This app's proxy finished relaying an exchange (not yet in the database)."""

    def __init__(self, row: dict[str, Any]) -> None:
        super().__init__()
        self.row = row


class CapturesChanged(Message):
    """New rows are in the database (ours, just committed, or another process's)."""

    def __init__(self, ids: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.ids = ids

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CapturesChanged)


class ProxyNotice(Message):
    """Something the user should know about the proxy, e.g. kind "cert_refused"."""

    def __init__(self, kind: str, text: str) -> None:
        super().__init__()
        self.kind = kind
        self.text = text


class ProxyStateChanged(Message):
    """The proxy started, failed to bind, or was paused/resumed: redraw the status bar."""
