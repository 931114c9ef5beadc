"""Textual's footer, made again only when the keys it shows change.

Textual's Footer recomposes (a widget per key, each styled by the stylesheet) whenever
the screen's bindings may have changed: every focus change, `refresh_bindings` or
worker state. A screen opening did it 5-6 times, ~20 ms each, mostly for the same keys.
This one coalesces the signals of one frame and skips a recompose that would show what
is already shown.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None  # the keys composed last
        self._due = False  # a check is scheduled

    def _keys(self) -> tuple:
        """What the footer would show now."""
        return tuple((b.key, b.description, b.action, enabled, tooltip)
                     for (_, b, enabled, tooltip) in self.screen.active_bindings.values()
                     if b.show)

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._keys()
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._due:
            self._due = True
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._due = False
        if self.is_attached and self._keys() != self._shown:
            await self.recompose()
