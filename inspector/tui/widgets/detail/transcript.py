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
from textual.geometry import Size
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
        lit.highlight_regex(pattern, style="bold black on yellow")
        return lit
    if item.form == "markdown":
        return Markdown(text)
    if item.form in ("json", "code") and not item.error:
        lexer = "json" if item.form == "json" else Syntax.guess_lexer(item.source)
        return Syntax(text, lexer, theme="ansi_dark", word_wrap=True,
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

    @property
    def one_line(self) -> bool:
        """Shown as one line (title and first words)?"""
        return self.level != FULL and not self.expanded

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # a one-line block is one line high: no need to render it to know (most blocks
        # are; rendering each to measure it was most of the cost of laying out a batch)
        if self.one_line and width:
            return 1
        return super().get_content_height(container, viewport, width)

    def content_renderable(self) -> RenderableType:
        item = self.item
        head = Text(item.title, style=KIND_STYLE.get(item.kind, "bold"))
        lines = item.text.splitlines() or [""]
        if self.one_line:  # title and first words
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
    """The scrolling list of blocks, with a cursor (the block Enter opens).

    Only a window of the items is mounted: `blocks` holds items[lo:lo + len(blocks)]. It
    grows downwards as the view nears its end and upwards when the view reaches its top;
    a jump far away (a search hit, Home, End) mounts a fresh window there instead of
    everything in between."""

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
        """The detail levels or the mounted window changed (the legend shows them)."""

    def __init__(self, items: list[Item], start: int = 0,
                 pattern: re.Pattern[str] | None = None, **kwargs: Any) -> None:
        """`start`: the first item mounted (the window begins there); `pattern`: a search
        whose matches are lit."""
        super().__init__(**kwargs)
        self.items = items
        self.levels: dict[str, str] = dict(DEFAULT)
        self.lo = max(0, min(start, len(items) - 1))  # index of the first mounted item
        self.blocks: list[TranscriptBlock] = []
        self.cursor = self.lo  # an item index, within the window
        self.pattern = pattern
        self._busy = False  # one mount at a time
        #: the content's height when the last batch was mounted (None: not laid out since)
        self._grown_at: int | None = None
        self._waits = 0

    @property
    def hi(self) -> int:
        return self.lo + len(self.blocks)

    def block(self, index: int) -> TranscriptBlock | None:
        """The mounted block of item `index`, if it is in the window."""
        return self.blocks[index - self.lo] if self.lo <= index < self.hi else None

    # -- lazy mounting ---------------------------------------------------------------------
    def _make(self, start: int, stop: int) -> list[TranscriptBlock]:
        return [TranscriptBlock(self.items[i], i, self.levels[self.items[i].kind], self.pattern)
                for i in range(max(start, 0), min(stop, len(self.items)))]

    def compose(self) -> ComposeResult:
        yield Static(id="transcript-earlier")
        self.blocks = self._make(self.lo, self.lo + BATCH)
        yield from self.blocks

    def on_mount(self) -> None:
        self._window_changed()
        self.call_after_refresh(self.fill)

    def _window_changed(self) -> None:
        earlier = self.query_one("#transcript-earlier", Static)
        earlier.display = self.lo > 0
        if self.lo:
            earlier.update(Text(f"▲ {self.lo:,} earlier blocks: scroll up, or Home for the first",
                                style="dim italic"))
        if self.block(self.cursor) is None and self.blocks:
            self.cursor = self.lo
        for block in self.blocks:
            block.set_class(block.index == self.cursor, "-cursor")
        self.post_message(self.LevelsChanged())

    def _near_end(self) -> bool:
        """Less than a screen of mounted content below the view: enough for PgDn, and
        each scroll mounts more. (Two screens took one more batch and layout, ~80 ms,
        before the tab was still.)"""
        below = self.virtual_size.height - self.scroll_y - self.size.height
        return below < max(self.size.height, 10)

    async def fill(self) -> None:
        """Mount one more batch below if the view is near the end of the window; then look
        again once the new blocks are laid out."""
        if self._busy:
            return
        if self._grown_at is not None and self.virtual_size.height == self._grown_at \
                and self._waits < 4:
            # the last batch is not laid out yet (a busy machine): measuring now would
            # see the old height and mount batch after batch; look again shortly (a
            # batch of hidden blocks adds no height: after 0.2 s, measure anyway)
            self._waits += 1
            self.set_timer(0.05, self.fill)
            return
        self._grown_at = None
        self._waits = 0
        if not self._near_end():
            return
        if self.hi >= len(self.items):
            # a window at the end shorter than the view cannot be scrolled up: grow it up
            if self.lo > 0 and self.virtual_size.height < 2 * self.size.height:
                await self._prepend()
                self.call_after_refresh(self.fill)
            return
        self._busy = True
        try:
            new = self._make(self.hi, self.hi + BATCH)
            self.blocks.extend(new)
            self._grown_at = self.virtual_size.height
            await self.mount_all(new)
        finally:
            self._busy = False
        self._window_changed()
        self.call_after_refresh(self.fill)

    async def _prepend(self) -> None:
        """Mount a batch above the window, keeping what is on screen where it is."""
        if self._busy or self.lo == 0:
            return
        self._busy = True
        try:
            new = self._make(self.lo - BATCH, self.lo)
            await self.mount_all(new, after=self.query_one("#transcript-earlier"))
            self.blocks[:0] = new
            self.lo = new[0].index
        finally:
            self._busy = False
        self._window_changed()

        def keep_place() -> None:
            added = sum(b.outer_size.height for b in new if b.display)
            self.scroll_to(y=self.scroll_y + added, animate=False)

        self.call_after_refresh(keep_place)

    async def window(self, start: int) -> None:
        """Mount a fresh window from item `start` (a jump far from the current one)."""
        if self._busy:
            return
        self._busy = True
        try:
            await self.remove_children(".transcript-block")
            self.lo = max(0, min(start, len(self.items) - 1))
            self.blocks = self._make(self.lo, self.lo + BATCH)
            await self.mount_all(self.blocks)
        finally:
            self._busy = False
        self.cursor = self.lo
        self._window_changed()
        self.call_after_refresh(self.fill)

    async def reveal(self, index: int) -> TranscriptBlock | None:
        """Make sure item `index` is mounted: grow the window a little, or move it."""
        if self.block(index) is None:
            if self.hi <= index < self.hi + 2 * BATCH:
                new = self._make(self.hi, index + BATCH)
                self.blocks.extend(new)
                await self.mount_all(new)
                self._window_changed()
            elif self.lo - BATCH <= index < self.lo:
                await self._prepend()
            else:
                await self.window(index - 2)
        return self.block(index)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new > old:
            self.call_after_refresh(self.fill)
        elif new < old and new < 2 and self.lo > 0:
            self.call_after_refresh(self._prepend)

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
        text.append(" default   ● full  ◐ one line  ○ hidden   Enter/click opens a block   ")
        text.append(f"blocks {self.lo + 1 if self.blocks else 0:,}-{self.hi:,} of "
                    f"{len(self.items):,} loaded", style="dim")
        return text

    # -- cursor ----------------------------------------------------------------------------
    def _visible(self, block: TranscriptBlock) -> bool:
        region = block.virtual_region
        return (block.display and region.y < self.scroll_y + self.size.height
                and region.bottom > self.scroll_y)

    def set_cursor(self, index: int, scroll: bool = True) -> None:
        block = self.block(index)
        if block is None:
            return
        old = self.block(self.cursor)
        if old is not None:
            old.remove_class("-cursor")
        self.cursor = index
        block.add_class("-cursor")
        if scroll:
            self.scroll_to_widget(block, animate=False)

    async def action_move(self, delta: int) -> None:
        i = self.cursor + delta
        while 0 <= i < len(self.items):
            block = await self.reveal(i)
            if block is None:
                return
            if block.display:
                self.set_cursor(i)
                return
            i += delta

    def action_toggle(self) -> None:
        block = self.block(self.cursor)
        if block is None:
            return
        if not self._visible(block):  # after PgDn: the top block on screen
            shown = [b for b in self.blocks if self._visible(b)]
            if shown:
                self.set_cursor(shown[0].index, scroll=False)
                block = shown[0]
        block.toggle()

    async def action_end(self) -> None:
        if self.hi < len(self.items):
            await self.window(len(self.items) - BATCH)
        self.set_cursor(len(self.items) - 1, scroll=False)
        self.call_after_refresh(self.scroll_end, animate=False)

    async def action_home(self) -> None:
        if self.lo > 0:
            await self.window(0)
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
        block = await self.reveal(index)
        if block is None:
            return
        for old in self.query(".-hit"):
            old.remove_class("-hit")
        block.pinned = True
        block.expanded = True
        block.add_class("-hit")
        block.show()
        self.set_cursor(index, scroll=False)
        line = block.item.text.count("\n", 0, offset)

        def scroll(tries: int = 5) -> None:
            if not self.virtual_size.height and tries:  # just mounted: not laid out yet
                self.call_after_refresh(scroll, tries - 1)
                return
            self.scroll_to(y=max(block.virtual_region.y + line - 2, 0), animate=False)

        self.call_after_refresh(scroll)


class ConversationView(Vertical):
    """The transcript with its legend (the kinds, their levels and the keys) above it."""

    def __init__(self, items: list[Item], start: int = 0,
                 pattern: re.Pattern[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items = items
        self.start = start
        self.pattern = pattern

    def compose(self) -> ComposeResult:
        yield Static(id="transcript-legend")
        yield Transcript(self.items, self.start, self.pattern, id="transcript")

    def on_mount(self) -> None:
        self._legend()

    def on_transcript_levels_changed(self, message: Transcript.LevelsChanged) -> None:
        self._legend()

    def _legend(self) -> None:
        # two lines high (inspector.tcss): a new legend needs no layout of the screen
        self.query_one("#transcript-legend", Static).update(
            self.query_one(Transcript).legend(), layout=False)


__all__ = ["ConversationView", "Transcript", "TranscriptBlock", "LEVELS"]
