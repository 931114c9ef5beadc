"""The Conversation tab as a transcript: one widget per block of the request (see
`transcript_items`), each kind at its own detail level, long blocks folded until Enter or
a click opens them in place.

A 300-turn session has ~1,200 blocks, so they are mounted lazily: the first screenfuls at
once, more whenever the view scrolls near the end of what is mounted (End mounts the rest
in batches). Nothing renders the whole conversation at once.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markdown import Markdown
from rich.padding import Padding
from rich.syntax import Syntax
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from inspector.tui.widgets.detail.transcript_items import (
    DEFAULT, FULL, HIDDEN, KINDS, LEVELS, LINE, PRESETS, Item, first_line)

#: lines of a block shown before it folds ("… 40 more lines")
FOLD = 12
#: blocks mounted per step while scrolling
BATCH = 20

KIND_STYLE = {"user": "bold cyan", "assistant": "bold magenta", "thinking": "italic grey62",
              "tool_call": "bold yellow", "tool_result": "bold green", "system": "bold steel_blue1",
              "media": "bold white"}
LEVEL_MARK = {FULL: "●", LINE: "◐", HIDDEN: "○"}


class OneLine:
    """A Text cut to the width it is drawn at, with an ellipsis: never wraps."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = self.text.copy()
        text.truncate(options.max_width, overflow="ellipsis")
        yield text


def _body(item: Item, text: str, pattern: re.Pattern[str] | None) -> RenderableType:
    """The block's text as markdown, JSON or plain text; with a search pattern, plain text
    with the matches lit, so every hit is visible whatever the form."""
    if pattern is not None:
        lit = Text(text)
        lit.highlight_regex(pattern, style="bold black on yellow")
        return lit
    if item.form == "markdown":
        return Markdown(text)
    if item.form == "json":
        return Syntax(text, "json", theme="ansi_dark", word_wrap=True,
                      background_color="default")
    return Text(text, style="red" if item.error else "")


class TranscriptBlock(Static):
    """One item at a detail level; `expanded` shows all its lines."""

    class Clicked(Message):
        def __init__(self, block: "TranscriptBlock") -> None:
            super().__init__()
            self.block = block

    def __init__(self, item: Item, index: int, level: str,
                 pattern: re.Pattern[str] | None = None) -> None:
        super().__init__(classes=f"transcript-block kind-{item.kind}")
        self.item = item
        self.index = index
        self.level = level
        self.expanded = False
        self.pinned = False  # a search hit shows even when its kind is hidden
        self.pattern = pattern
        self.display = level != HIDDEN

    def show(self, level: str | None = None) -> None:
        """Render again (after a level, expansion or search change)."""
        if level is not None:
            self.level = level
        self.display = self.level != HIDDEN or self.pinned
        if self.display:
            self.update(self.content_renderable())

    def on_mount(self) -> None:
        if self.display:
            self.update(self.content_renderable())

    def content_renderable(self) -> RenderableType:
        item = self.item
        head = Text(item.title, style=KIND_STYLE.get(item.kind, "bold"))
        lines = item.text.splitlines() or [""]
        if self.level != FULL and not self.expanded:  # one line: title and first words
            if len(lines) > 1:
                head.append(f" ({len(lines)} lines)", style="dim italic")
            head.append("  ")
            head.append(item.summary or first_line(item.text), style="dim")
            return OneLine(head)
        folded = not self.expanded and len(lines) > FOLD
        text = "\n".join(lines[:FOLD]) if folded else item.text
        parts: list[RenderableType] = [head, Padding(_body(item, text, self.pattern), (0, 0, 0, 2))]
        if folded:
            parts.append(Text(f"  … {len(lines) - FOLD:,} more lines (Enter to open)",
                              style="dim italic"))
        return Group(*parts)

    def toggle(self) -> None:
        self.expanded = not self.expanded
        self.show()

    def on_click(self, event: events.Click) -> None:
        self.post_message(self.Clicked(self))


class Transcript(VerticalScroll, can_focus=True):
    """The scrolling list of blocks, with a cursor (the block Enter opens)."""

    BINDINGS = [
        *[Binding(str(n), f"cycle({n - 1})", name, show=False)
          for n, (_, name) in enumerate(KINDS, start=1)],
        Binding("t", "preset('dialogue')", "Dialogue"),
        Binding("e", "preset('everything')", "Everything"),
        Binding("0", "preset('default')", "Default", show=False),
        Binding("enter,space", "toggle", "Open/fold"),
        Binding("down,j", "move(1)", "Next block", show=False),
        Binding("up,k", "move(-1)", "Previous block", show=False),
        Binding("end", "end", "End", show=False),
        Binding("home", "home", "Home", show=False),
    ]

    class LevelsChanged(Message):
        """The detail levels changed (the legend shows them)."""

    def __init__(self, items: list[Item], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items = items
        self.levels: dict[str, str] = dict(DEFAULT)
        self.blocks: list[TranscriptBlock] = []
        self.cursor = 0
        self.pattern: re.Pattern[str] | None = None
        self._filling = False

    # -- lazy mounting ---------------------------------------------------------------------
    def _new_blocks(self, count: int) -> list[TranscriptBlock]:
        start = len(self.blocks)
        new = [TranscriptBlock(item, start + i, self.levels[item.kind], self.pattern)
               for i, item in enumerate(self.items[start:start + count])]
        self.blocks.extend(new)
        return new

    def compose(self) -> ComposeResult:
        yield from self._new_blocks(BATCH)

    def on_mount(self) -> None:
        if self.blocks:
            self.blocks[0].add_class("-cursor")
        self.call_after_refresh(self.fill)

    def _near_end(self) -> bool:
        """Less than two screens of mounted content below the view."""
        below = self.virtual_size.height - self.scroll_y - self.size.height
        return below < 2 * max(self.size.height, 10)

    async def fill(self) -> None:
        """Mount one more batch if the view is near the end of what is mounted; then look
        again once the new blocks are laid out."""
        if self._filling or len(self.blocks) >= len(self.items) or not self._near_end():
            return
        self._filling = True
        try:
            await self.mount_all(self._new_blocks(BATCH))
        finally:
            self._filling = False
        self.post_message(self.LevelsChanged())
        self.call_after_refresh(self.fill)

    async def mount_through(self, index: int) -> None:
        """Mount every block up to `index` (for a jump to a search hit or the end)."""
        while len(self.blocks) <= min(index, len(self.items) - 1):
            await self.mount_all(self._new_blocks(max(BATCH * 4, 1)))
        self.post_message(self.LevelsChanged())

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new > old:
            self.call_after_refresh(self.fill)

    # -- detail levels -----------------------------------------------------------------------
    def set_levels(self, levels: dict[str, str]) -> None:
        self.levels = dict(levels)
        for block in self.blocks:
            level = self.levels[block.item.kind]
            if level != block.level or block.expanded:
                block.expanded = False
                block.show(level)
        self.post_message(self.LevelsChanged())
        self.call_after_refresh(self.fill)

    def action_cycle(self, n: int) -> None:
        """Step kind `n` through full -> hidden -> one line -> full."""
        kind = KINDS[n][0]
        order = (FULL, HIDDEN, LINE)
        self.set_levels({**self.levels, kind: order[(order.index(self.levels[kind]) + 1) % 3]})

    def action_preset(self, name: str) -> None:
        self.set_levels(PRESETS[name])

    def legend(self) -> Text:
        text = Text()
        for n, (kind, name) in enumerate(KINDS, start=1):
            level = self.levels[kind]
            text.append(f" {n} ", style="reverse")
            text.append(f" {LEVEL_MARK[level]} {name}  ",
                        style="dim" if level == HIDDEN else KIND_STYLE[kind])
        text.append("\n t ", style="reverse")
        text.append(" just the dialogue  ")
        text.append(" e ", style="reverse")
        text.append(" everything  ")
        text.append(" 0 ", style="reverse")
        text.append(" default   ● full  ◐ one line  ○ hidden   Enter/click opens a block   ",
                    style="")
        text.append(f"{len(self.blocks):,} of {len(self.items):,} blocks loaded", style="dim")
        return text

    # -- cursor ----------------------------------------------------------------------------
    def _visible(self, block: TranscriptBlock) -> bool:
        region = block.virtual_region
        return (block.display and region.y < self.scroll_y + self.size.height
                and region.bottom > self.scroll_y)

    def set_cursor(self, index: int, scroll: bool = True) -> None:
        if not self.blocks:
            return
        self.blocks[self.cursor].remove_class("-cursor")
        self.cursor = max(0, min(index, len(self.blocks) - 1))
        block = self.blocks[self.cursor]
        block.add_class("-cursor")
        if scroll:
            self.scroll_to_widget(block, animate=False)

    async def action_move(self, delta: int) -> None:
        i = self.cursor + delta
        while True:
            if i >= len(self.blocks) and len(self.blocks) < len(self.items):
                await self.mount_through(i)
            if not 0 <= i < len(self.blocks):
                return
            if self.blocks[i].display:
                self.set_cursor(i)
                return
            i += delta

    def action_toggle(self) -> None:
        if not self.blocks:
            return
        if not self._visible(self.blocks[self.cursor]):  # after PgDn: the top block
            shown = [b for b in self.blocks if self._visible(b)]
            if shown:
                self.set_cursor(shown[0].index, scroll=False)
        self.blocks[self.cursor].toggle()

    async def action_end(self) -> None:
        await self.mount_through(len(self.items) - 1)
        self.call_after_refresh(self.scroll_end, animate=False)

    def action_home(self) -> None:
        self.scroll_home(animate=False)
        self.set_cursor(0, scroll=False)

    def on_transcript_block_clicked(self, message: TranscriptBlock.Clicked) -> None:
        self.set_cursor(message.block.index, scroll=False)
        message.block.toggle()

    # -- search ----------------------------------------------------------------------------
    def highlight(self, pattern: re.Pattern[str] | None) -> None:
        """Light the matches of `pattern` in every block (None: plain rendering again)."""
        self.pattern = pattern
        for block in self.blocks:
            block.pattern = pattern
            if block.display:
                block.show()

    async def show_hit(self, index: int, offset: int) -> None:
        """Open block `index` and bring the line holding character `offset` into view."""
        await self.mount_through(index)
        for block in self.query(".-hit"):
            block.remove_class("-hit")
        block = self.blocks[index]
        block.pinned = True
        block.expanded = True
        block.add_class("-hit")
        block.show()
        self.set_cursor(index, scroll=False)
        line = block.item.text.count("\n", 0, offset)

        def scroll() -> None:
            self.scroll_to(y=max(block.virtual_region.y + line - 2, 0), animate=False)

        self.call_after_refresh(scroll)


class ConversationView(Vertical):
    """The transcript with its legend (the kinds, their levels and the keys) above it."""

    def __init__(self, items: list[Item], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items = items

    def compose(self) -> ComposeResult:
        yield Static(id="transcript-legend")
        yield Transcript(self.items, id="transcript")

    def on_mount(self) -> None:
        self._legend()

    def on_transcript_levels_changed(self, message: Transcript.LevelsChanged) -> None:
        self._legend()

    def _legend(self) -> None:
        self.query_one("#transcript-legend", Static).update(
            self.query_one(Transcript).legend())


__all__ = ["ConversationView", "Transcript", "TranscriptBlock", "LEVELS"]
