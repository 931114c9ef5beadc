"""The messages the detail screen's thread workers post to it (Textual calls its
`on_<name>` handlers): the loaded request, the Raw tab's text, the search's hits, the diff,
the findings and a stored rating."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from inspector.tui.widgets.detail.loaded import Loaded
from inspector.tui.widgets.detail.raw_view import RawDoc
from inspector.tui.widgets.detail.search import Hit


class RawReady(Message):
    """The Raw tab's text, made and cut into lines in a worker thread."""

    def __init__(self, doc: RawDoc) -> None:
        super().__init__()
        self.doc = doc


class SearchDone(Message):
    """Hits so far; `final`: all of them, the Raw text's too (making that text takes
    longest; the load found those of the Conversation and Context tabs)."""

    def __init__(self, pattern: Any, hits: list[Hit], final: bool) -> None:
        super().__init__()
        self.pattern = pattern
        self.hits = hits
        self.final = final


class DiffLoaded(Message):
    """`diff`: the `diff_exchanges` dict, or None for the first request of a session."""

    def __init__(self, diff: dict[str, Any] | None, error: str | None = None) -> None:
        super().__init__()
        self.diff = diff
        self.error = error


class FindingsLoaded(Message):
    """The findings about this request (cache break, large result, ...)."""

    def __init__(self, findings: list[Any]) -> None:
        super().__init__()
        self.findings = findings


class Rated(Message):
    def __init__(self, stored: dict[str, Any] | None, error: str | None = None) -> None:
        super().__init__()
        self.stored = stored
        self.error = error


class ExchangeLoaded(Message):
    """The stored exchange and what the worker made of it (None: `error` says why)."""

    def __init__(self, loaded: Loaded | None, error: str | None = None) -> None:
        super().__init__()
        self.loaded = loaded
        self.error = error
