"""How one transcript item looks (rich only, no Textual): its renderable at a detail level,
an estimate of how many lines it takes before it is rendered, and the line a search hit
falls on once it is.

The transcript (transcript.py) renders an item the first time it comes on screen; until
then its height is `estimate_rows`, so a 1,200-item conversation is laid out without
rendering 1,200 pieces of markdown.
"""

from __future__ import annotations

import re

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markdown import Markdown
from rich.padding import Padding
from rich.syntax import Syntax
from rich.text import Text

from inspector.tui.widgets.detail.transcript_items import Item, first_line

#: lines of a block shown before it folds ("… 40 more lines"), and characters (a result
#: of one 50 KB line of JSON would otherwise fill screens)
FOLD = 12
FOLD_CHARS = 2000
#: cells a block's body is indented under its title
INDENT = 2

KIND_STYLE = {"user": "bold cyan", "assistant": "bold magenta", "thinking": "italic grey62",
              "tool_call": "bold yellow", "tool_result": "bold green", "system": "bold steel_blue1",
              "media": "bold white"}
#: a search's matches, lit in the text of the block that holds them
MATCH_STYLE = "bold black on yellow"


class OneLine:
    """A Text cut to the width it is drawn at, with an ellipsis: never wraps, always one
    line (line breaks in it become spaces)."""

    def __init__(self, text: Text) -> None:
        self.text = text if "\n" not in text.plain else Text(" ").join(text.split("\n"))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = self.text.copy()
        text.truncate(options.max_width, overflow="ellipsis")
        yield text


def _body(item: Item, text: str, pattern: re.Pattern[str] | None) -> RenderableType:
    """The block's text as markdown, JSON or plain text; with a search pattern, plain text
    with the matches lit, so every hit is visible whatever the form."""
    if pattern is not None:
        lit = Text(text)
        lit.highlight_regex(pattern, style=MATCH_STYLE)
        return lit
    if item.form == "markdown":
        return Markdown(text)
    if item.form in ("json", "code") and not item.error:
        lexer = "json" if item.form == "json" else Syntax.guess_lexer(item.source)
        return Syntax(text, lexer, theme="ansi_dark", word_wrap=True,
                      background_color="default")
    return Text(text, style="red" if item.error else "")


def _folded(item: Item, expanded: bool) -> tuple[list[str], str]:
    """The lines of the item's text shown, and what is folded away ("" for nothing):
    lines past FOLD, or characters past FOLD_CHARS."""
    lines = item.text.splitlines() or [""]
    if expanded:
        return lines, ""
    shown, more = lines, ""
    if len(lines) > FOLD:
        shown, more = lines[:FOLD], f"{len(lines) - FOLD:,} more lines"
    size = sum(len(line) + 1 for line in shown)
    if size > FOLD_CHARS:
        kept, left = [], FOLD_CHARS
        for line in shown:
            if left <= 0:
                break
            kept.append(line[:left])
            left -= len(line) + 1
        hidden = len(item.text) - sum(len(line) + 1 for line in kept) + 1
        shown, more = kept, f"{hidden:,} more characters"
    return shown, more


def block_renderable(item: Item, one_line: bool, expanded: bool,
                     pattern: re.Pattern[str] | None) -> RenderableType:
    """The item as shown: one line (title and first words), or its title over its body
    (folded after FOLD lines unless `expanded`)."""
    head = Text(item.title, style=KIND_STYLE.get(item.kind, "bold"))
    if one_line:
        count = len(item.text.splitlines())
        if count > 1:
            head.append(f" ({count} lines)", style="dim italic")
        head.append("  ")
        head.append(item.summary or first_line(item.text), style="dim")
        return OneLine(head)
    lines, more = _folded(item, expanded)
    text = "\n".join(lines) if more else item.text
    parts: list[RenderableType] = [head, Padding(_body(item, text, pattern), (0, 0, 0, INDENT))]
    if more:
        parts.append(Text(f"  … {more} (Enter to open)", style="dim italic"))
    return Group(*parts)


def estimate_rows(item: Item, one_line: bool, expanded: bool, width: int) -> int:
    """Lines the item will take at `width` cells, without rendering it: exact for one
    line, close for the rest (each text line wrapped at the body's width; markdown's
    spacing is what it misses, corrected when the block is rendered)."""
    if one_line:
        return 1
    lines, more = _folded(item, expanded)
    body = max(1, width - INDENT)
    return 1 + sum(-(-len(line) // body) or 1 for line in lines) + (1 if more else 0)


def hit_row(item: Item, offset: int, width: int, console: Console) -> int:
    """The line (from the block's title, 0) holding character `offset` of the item's text,
    with the block opened and lit as a search shows it (plain text wrapped at the body's
    width): the text up to that character, rendered the same way, ends on that line."""
    before = Text(item.text[:offset])
    options = console.options.update_width(max(1, width - INDENT))
    return len(console.render_lines(before, options, pad=False)) if offset else 1
