"""The app's footer: Textual's Footer, recomposed only when the keys it shows change.

Textual's Footer removes and mounts all its keys (one widget each, styled one by one)
whenever the screen says its bindings may have changed: on every focus change, screen
resume and widget mount, and once per notice, even when several come in the same frame.
Opening a long request sent six such notices, opening the Stats view five, and each
recompose took 15-20 ms of the UI loop, while the keys shown stayed the same. Here notices in one frame make one check, and the check recomposes only when the
shown keys (or whether they are enabled) differ from those on screen.

It can also wait (`held`) until its screen has the widget that takes the keyboard first:
a screen that loads its content would otherwise have its keys composed twice, once for
whatever has focus while it loads, then for the content.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    """A Footer that recomposes when, and only when, its keys change."""

    def __init__(self, held: bool = False, **kwargs: Any) -> None:
        """`held`: show no keys until `show_keys` is called."""
        super().__init__(**kwargs)
        self.held = held
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

    def show_keys(self) -> None:
        """Stop holding the keys back: show those of the widget with focus now."""
        if self.held:
            self.held = False
            self.bindings_changed(self.screen)

    def _recompose_if_changed(self) -> None:
        self._checking = False
        if self.held or not self.is_attached:
            return
        keys = self._keys()
        if keys != self._shown:
            self._shown = keys
            self.recomposed += 1
            # in the footer's own task: each key binds to the footer's reactives, found
            # through the task that composes it, and this check runs in the task of
            # whoever asked for it (the screen's, for `show_keys`)
            self.call_later(self.recompose)
