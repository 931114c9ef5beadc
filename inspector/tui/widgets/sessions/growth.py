"""How a session's prompt grew turn by turn: a sparkline and the numbers under it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

from inspector.tui import format as fmt


SPARK = "▁▂▃▄▅▆▇█"


def spark_text(values: list[int | None], width: int = 16) -> str:
    """A one-line sparkline for a table cell (the last `width` turns)."""
    known = [v for v in values if v is not None][-width:]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1
    return "".join(SPARK[round((v - low) / span * (len(SPARK) - 1))] for v in known)


def growth_caption(session: str, sizes: list[int]) -> Text:
    text = Text()
    text.append(f"Session {fmt.short_session(session, 12)}", style="bold magenta")
    text.append(f"  {len(sizes)} requests", style="dim")
    if sizes:
        text.append(f"  prompt {fmt.tokens(sizes[0])} → {fmt.tokens(sizes[-1])} tokens",
                    style="bold")
        biggest = max(range(1, len(sizes)), key=lambda i: sizes[i] - sizes[i - 1], default=None)
        if biggest is not None and sizes[biggest] > sizes[biggest - 1]:
            text.append(f"  largest jump +{fmt.tokens(sizes[biggest] - sizes[biggest - 1])} "
                        f"at turn {biggest + 1}", style="dim")
    return text


class PromptGrowth(Vertical):
    """Prompt tokens per turn of one session."""

    def compose(self) -> ComposeResult:
        yield Static("Highlight a session to see how its prompt grew.", id="growth-caption")
        yield Sparkline([], id="growth-spark", summary_function=max)
        yield Static("", id="growth-turns")

    def show(self, session: str, prompt_tokens: list[int | None]) -> None:
        """`prompt_tokens`: the prompt size of each turn, oldest first (None: unknown)."""
        sizes = [t for t in prompt_tokens if t is not None]
        self.query_one("#growth-caption", Static).update(growth_caption(session, sizes))
        self.query_one("#growth-spark", Sparkline).data = [float(x) for x in sizes]
        line = Text()
        shown = prompt_tokens[-16:]
        for i, size in enumerate(shown, start=len(prompt_tokens) - len(shown) + 1):
            line.append(f"{i}:", style="dim")
            line.append(f"{fmt.tokens(size)} ")
        self.query_one("#growth-turns", Static).update(line)
