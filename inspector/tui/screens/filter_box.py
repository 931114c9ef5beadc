"""The main screen's filter box, mixed into `MainScreen`: `/` opens it, Enter applies
what it holds, typing applies it `DEBOUNCE` seconds after the last key (leaving out what
is not finished yet, see `filtering`), and Escape clears and hides it.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.message_pump import MessagePump
from textual.widgets import Input

from inspector.tui.errors import guarded
from inspector.tui.filtering import FilterSyntaxError, parse_filter
from inspector.tui.widgets.requests.table import RequestsTable

#: quiet time after the last key before a typed filter applies (seconds)
DEBOUNCE = 0.25


class FilterBox(MessagePump):
    """Mixed into the main screen (which has `terms`, `filter_text`, `_head`,
    `_typed_timer`, `load` and `_restore_head`). A `MessagePump`, so that Textual finds
    the `@on` handlers below: it collects them only from classes of its own."""

    terms: dict[str, Any]
    filter_text: str
    _head: Any
    _typed_timer: Any

    def _show_filter_box(self, show: bool) -> None:
        """A hidden filter box must not keep (or get) the keyboard: keys would vanish."""
        box = self.query_one("#filter", Input)
        box.display = show
        box.disabled = not show

    def show_filter(self, text: str) -> None:
        """Set the filter box to `text` and apply it."""
        box = self.query_one("#filter", Input)
        self._show_filter_box(True)
        with box.prevent(Input.Changed):
            box.value = text
        self.apply_filter(text)
        self.query_one(RequestsTable).focus()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        self._show_filter_box(True)
        box.focus()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, message: Input.Submitted) -> None:
        self._stop_typed_timer()
        self.apply_filter(message.value)
        self.query_one(RequestsTable).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, message: Input.Changed) -> None:
        """Typing: apply once the keys pause for DEBOUNCE seconds."""
        self._stop_typed_timer()
        self._typed_timer = self.set_timer(DEBOUNCE, self._apply_typed)

    def _stop_typed_timer(self) -> None:
        if self._typed_timer is not None:
            self._typed_timer.stop()
            self._typed_timer = None

    def _apply_typed(self) -> None:
        self._typed_timer = None
        self.apply_filter(self.query_one("#filter", Input).value, quiet=True)

    @guarded
    def apply_filter(self, text: str, *, quiet: bool = False) -> None:
        """Filter the table with `text`; `quiet`: the user is still typing, so leave out
        what is unfinished and say nothing of mistakes. The same terms are not asked
        again."""
        try:
            terms = parse_filter(text, typing=quiet)
        except FilterSyntaxError as e:
            if not quiet:
                self.notify(str(e), title="Filter", severity="warning")
            return
        if quiet and terms == self.terms:
            return
        if not terms and self.terms and self._head is not None:
            self._restore_head()
            return
        self.terms = terms
        self.filter_text = text.strip()
        self.load(0, interrupt=True)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        self._stop_typed_timer()
        if box.display or self.terms:
            with box.prevent(Input.Changed):
                box.value = ""
            self._show_filter_box(False)
            self.apply_filter("")
            self.query_one(RequestsTable).focus()

    def on_key(self, event) -> None:  # noqa: ANN001
        # Escape inside the filter box clears and hides it.
        box = self.query_one("#filter", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            self.action_clear_filter()
