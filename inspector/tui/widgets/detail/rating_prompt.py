"""A small prompt for rating a request with a note: good or bad, and why.

The keyboard stays in the note box: ↑ picks good, ↓ bad, Enter stores,
Escape cancels. Dismissed with `(word, note)`, or None when cancelled."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

CHOICES = ("good", "bad")


def choice_text(word: str) -> Text:
    text = Text("Rating  ")
    for choice in CHOICES:
        style = ("bold reverse green" if choice == "good" else "bold reverse red") \
            if choice == word else "dim"
        text.append(f" {choice} ", style=style)
        text.append(" ")
    text.append("  ↑ good  ↓ bad", style="dim")
    return text


class RatingPrompt(ModalScreen[tuple[str, str] | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("up", "choose('good')", "Good"),
        Binding("down", "choose('bad')", "Bad"),
    ]

    def __init__(self, capture_id: str, word: str = "bad") -> None:
        super().__init__()
        self.capture_id = capture_id
        self.word = word

    def compose(self) -> ComposeResult:
        with Vertical(id="rating-box"):
            yield Static(f"Rate {self.capture_id}", id="rating-title")
            yield Static(choice_text(self.word), id="rating-choice")
            yield Input(placeholder="why (optional); Enter stores, Escape cancels",
                        id="rating-note")

    def on_mount(self) -> None:
        self.query_one("#rating-note", Input).focus()

    def chosen(self) -> str:
        return self.word

    def action_choose(self, word: str) -> None:
        self.word = word
        self.query_one("#rating-choice", Static).update(choice_text(self.word))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss((self.word, event.value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)
