"""How a session's prompt grew turn by turn: a sparkline and the numbers under it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from inspector.tui import format as fmt


SPARK = "▁▂▃▄▅▆▇█"


def spark_text(values: list[int | None], width: int = 16) -> str:
    """A one-line sparkline for a table cell (the last `width` turns). Bars start at
    zero, so a prompt that grew by 5% looks it, not like one that grew tenfold."""
    known = [v for v in values if v is not None][-width:]
    if not known:
        return ""
    high = max(known) or 1
    return "".join(SPARK[max(round(v / high * (len(SPARK) - 1)), 0)] for v in known)


class BarChart(Widget):
    """Bars of `data` filling the widget, from zero at the bottom to the largest value at
    the top (Textual's Sparkline spans min..max, which makes small changes look huge).
    With more values than columns, each column shows the largest of its values."""

    DEFAULT_CSS = "BarChart { height: 4; color: $success; }"
    EIGHTHS = " ▁▂▃▄▅▆▇█"

    data: reactive[list[float]] = reactive(list, always_update=True)

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        values = self.data
        if not values or width <= 0 or height <= 0:
            return Text("")
        n = len(values)
        columns = [max(values[i * n // width:max((i + 1) * n // width, i * n // width + 1)])
                   for i in range(width)]
        top = max(columns) or 1.0
        levels = [max(round(v / top * height * 8), 1 if v > 0 else 0) for v in columns]
        lines = []
        for row in reversed(range(height)):
            lines.append("".join(self.EIGHTHS[min(max(level - row * 8, 0), 8)]
                                 for level in levels))
        return Text("\n".join(lines))


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
        yield BarChart(id="growth-spark")
        yield Static("", id="growth-turns")

    def show(self, session: str, prompt_tokens: list[int | None]) -> None:
        """`prompt_tokens`: the prompt size of each turn, oldest first (None: unknown)."""
        sizes = [t for t in prompt_tokens if t is not None]
        self.query_one("#growth-caption", Static).update(growth_caption(session, sizes))
        self.query_one("#growth-spark", BarChart).data = [float(x) for x in sizes]
        line = Text()
        shown = prompt_tokens[-16:]
        for i, size in enumerate(shown, start=len(prompt_tokens) - len(shown) + 1):
            line.append(f"{i}:", style="dim")
            line.append(f"{fmt.tokens(size)} ")
        self.query_one("#growth-turns", Static).update(line)
