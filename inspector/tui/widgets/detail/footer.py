"""The detail screen's footer: Textual's Footer, recomposed only when the keys it shows
change.

Textual's Footer removes and mounts all its keys (one widget each, styled one by one)
whenever the screen says its bindings may have changed: on every focus change, screen
resume and widget mount, and once per notice, even when several come in the same frame.
Opening a long request sent six such notices and each recompose took 15-20 ms of the UI
loop, while the keys shown stayed the same (the tab bar and the tree show no keys of their
own). Here notices in one frame make one check, and the check recomposes only when the
shown keys (or whether they are enabled) differ from those on screen.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    """A Footer that recomposes when, and only when, its keys change."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[Any, ...] | None = None  # the keys on screen (see `_keys`)
        self._checking = False  # a check is due after the next refresh
        self.recomposed = 0  # how often it did (tests check the redundant ones are not)

    def _keys(self) -> tuple[Any, ...]:
        """What `compose` would show: each shown binding, enabled or not, its tooltip, and
        the command palette's key."""
        active = self.screen.active_bindings
        keys = tuple((binding, enabled, tooltip)
                     for _, binding, enabled, tooltip in active.values() if binding.show)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE and palette:
            keys += (palette[1:],)
        return keys

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._checking:
            self._checking = True
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._checking = False
        if not self.is_attached:
            return
        keys = self._keys()
        if keys != self._shown:
            self._shown = keys
            self.recomposed += 1
            await self.recompose()
