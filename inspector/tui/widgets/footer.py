"""The app's footer: the keys of what has the keyboard, drawn as one line.

Textual's Footer is a container of one widget per key: whenever the keys may have changed
(each focus change, screen resume, widget mount) it removed and mounted them all, each
styled and rendered on its own: 15-20 ms a time, and with a tab's own keys 60 ms of
switching to it. Here the keys are one line of text, made again only when they change
(several notices in one frame make one check) and drawn in well under a millisecond.

A key is clicked as in Textual's footer (the key is pressed for the user; a disabled one
rings the bell). The command palette's key sits at the right end when there is room.

It can also wait (`held`) until its screen has the widget that takes the keyboard first:
a screen that loads its content would otherwise show the keys of whatever has focus while
it loads, then those of the content.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


class Key(NamedTuple):
    key: str  # what a click presses
    display: str  # as shown ("esc", "^p")
    description: str
    enabled: bool


class KeysFooter(Widget):
    """The shown bindings of the focused widget and its ancestors, on one line."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keys-footer--key", "keys-footer--description", "keys-footer--hover"}
    DEFAULT_CSS = """
    KeysFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .keys-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .keys-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .keys-footer--hover { background: $block-hover-background; }
    }
    """

    def __init__(self, held: bool = False, **kwargs: Any) -> None:
        """`held`: show no keys until `show_keys` is called."""
        super().__init__(**kwargs)
        self.held = held
        self.keys: tuple[Key, ...] = ()  # shown, left to right
        self.palette: Key | None = None  # the command palette's, at the right end
        self.changes = 0  # how often the keys changed (tests check no redundant ones)
        self._checking = False  # a check is due after the next refresh
        self._spots: list[tuple[int, int, Key]] = []  # where each key is drawn
        self._hover: Key | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and not self._checking:
            self._checking = True
            self.call_after_refresh(self._update)

    def show_keys(self) -> None:
        """Stop holding the keys back: show those of the widget with focus now."""
        if self.held:
            self.held = False
            self.bindings_changed(self.screen)

    def _update(self) -> None:
        self._checking = False
        if self.held or not self.is_attached:
            return
        active = self.screen.active_bindings
        keys: list[Key] = []
        actions: set[str] = set()
        for _, binding, enabled, _ in active.values():
            # one key per action (the first bound), as Textual's footer shows them
            if binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append(Key(binding.key, self.app.get_key_display(binding),
                                binding.description, enabled))
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        found = (Key(palette[1].key, self.app.get_key_display(palette[1]),
                     palette[1].description, palette[2])
                 if palette and self.app.ENABLE_COMMAND_PALETTE else None)
        if (tuple(keys), found) != (self.keys, self.palette):
            self.keys, self.palette = tuple(keys), found
            self.changes += 1
            self.refresh()

    # -- drawing ---------------------------------------------------------------------------
    def render(self) -> Text:
        key_style = self.get_component_rich_style("keys-footer--key")
        description_style = self.get_component_rich_style("keys-footer--description")
        hover = self.get_component_rich_style("keys-footer--hover")
        text = Text(no_wrap=True, overflow="crop", end="")
        spots: list[tuple[int, int, Key]] = []

        def add(key: Key) -> None:
            dim = Style(dim=not key.enabled) + (hover if key == self._hover else Style())
            start = text.cell_len
            text.append(f" {key.display} ", key_style + dim)
            if key.description:
                text.append(f"{key.description} ", description_style + dim)
            spots.append((start, text.cell_len, key))

        for key in self.keys:
            add(key)
        width = self.size.width
        if self.palette is not None:
            room = width - text.cell_len - len(self.palette.display) - len(
                self.palette.description) - 4
            if room >= 0:
                text.append(" " * room)
                text.append("▏", Style(dim=True))
                add(self.palette)
        self._spots = spots
        return text

    # -- the mouse -------------------------------------------------------------------------
    def _key_at(self, x: int) -> Key | None:
        return next((key for start, end, key in self._spots if start <= x < end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self._key_at(event.x)
        if key != self._hover:
            self._hover = key
            self.refresh()

    def on_leave(self) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self._key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
