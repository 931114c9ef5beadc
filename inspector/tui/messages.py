"""Messages that carry news from other threads (the store's watcher, the runtime's
notices) to the UI. Posted with `post_message`, which never blocks the sender.

Bursts are coalesced: a pending `CapturesChanged` absorbs the next one, so a thousand
stored exchanges cause a handful of table updates, not a thousand.
"""

from __future__ import annotations

from textual.message import Message


class CapturesChanged(Message):
    """Someone committed to the database (our recorder or another process)."""

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
