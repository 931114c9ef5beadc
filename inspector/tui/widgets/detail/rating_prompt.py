"""A small prompt for rating a request with a note: good or bad, and why.

Dismissed with `(word, note)` on Enter, or None on Escape."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, RadioButton, RadioSet, Static


class RatingPrompt(ModalScreen[tuple[str, str] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, capture_id: str, word: str = "bad") -> None:
        super().__init__()
        self.capture_id = capture_id
        self.word = word

    def compose(self) -> ComposeResult:
        with Vertical(id="rating-box"):
            yield Static(f"Rate {self.capture_id}", id="rating-title")
            with RadioSet(id="rating-choice"):
                yield RadioButton("good", value=self.word == "good", id="rating-good")
                yield RadioButton("bad", value=self.word == "bad", id="rating-bad")
            yield Input(placeholder="why (optional), Enter stores, Escape cancels",
                        id="rating-note")

    def on_mount(self) -> None:
        self.query_one("#rating-note", Input).focus()

    def chosen(self) -> str:
        pressed = self.query_one(RadioSet).pressed_button
        return "good" if pressed is not None and pressed.id == "rating-good" else "bad"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss((self.chosen(), event.value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)
