"""The Conversation tab as a transcript: every block of the request (see
`transcript_items`), each kind at its own detail level, long blocks folded until Enter or a
click opens them in place.

Drawn a line at a time (a line-API `ScrollView`, as the Raw tab and the tables are): each
item has a height in lines, an estimate until it is first rendered (`transcript_render`),
and `render_line` draws only the lines on screen from the rendered items. Before a frame
shows new items (a scroll, a jump, a new level) they are rendered and the heights that
were estimates made exact, the line at the top of the view kept where it was. A 300-turn
session has ~1,200 blocks: opening the tab renders the dozen that show. (One widget per
block cost Textual's layout, styles and compositing for every block mounted: 200+ ms to
open the tab, as long for a jump.)
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.geometry import Offset, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.widgets import Static

from inspector.tui.widgets.detail.transcript_cursor import TranscriptCursor
from inspector.tui.widgets.detail.transcript_items import (
    DEFAULT, FULL, HIDDEN, KINDS, LEVELS, PRESETS, Item)
from inspector.tui.widgets.detail.transcript_render import (
    KIND_STYLE, block_renderable, estimate_rows)

LEVEL_MARK = {FULL: "●", "line": "◐", HIDDEN: "○"}
#: kinds that start with a blank line: where a turn of the dialogue begins
SPACED = ("user", "assistant")
#: cells around a block's lines: the mark column on the left, one blank on the right
MARGIN = 2


class Transcript(TranscriptCursor, ScrollView, can_focus=True):
    """The items as scrolling lines, with a cursor (the block Enter opens; marked in the
    left column) and the block of a search hit (marked in another colour); the cursor
    and the hit are moved by `TranscriptCursor`."""

    ALLOW_SELECT = True
    COMPONENT_CLASSES = {"transcript--cursor", "transcript--cursor-mark", "transcript--hit-mark"}
    DEFAULT_CSS = """
    Transcript {
        scrollbar-gutter: stable;
        & > .transcript--cursor { background: $boost; }
        & > .transcript--cursor-mark { color: $accent; }
        & > .transcript--hit-mark { color: $warning; }
    }
    """
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
        """The detail levels or the cursor changed (the legend shows them)."""

    def __init__(self, items: list[Item], hit: tuple[int, int] | None = None,
                 pattern: re.Pattern[str] | None = None, **kwargs: Any) -> None:
        """`hit`: a search hit shown first (item, character offset in its text), as
        `show_hit` shows one; `pattern`: the search, whose matches are lit."""
        super().__init__(**kwargs)
        self.items = items
        self.levels: dict[str, str] = dict(DEFAULT)
        self.expanded: set[int] = set()
        self.pinned: set[int] = set()  # search hits: shown even when their kind is hidden
        self.hit: int | None = None
        self.pattern = pattern
        self.cursor = 0
        self.rendered = 0  # items rendered so far (tests check only those on screen are)
        self._rows = [0] * len(items)  # lines per item (its blank line above included)
        self._exact = [False] * len(items)  # is _rows[i] measured, or an estimate?
        self._tops: list[int] = [0] * (len(items) + 1)  # first line of each item
        self._width = 0  # the width items are laid out at (0: not yet)
        self._lines: LRUCache[int, list[Strip]] = LRUCache(512)
        self._styles: dict[str, Style] = {}
        self._settling = False
        self._stale = False  # a height changed while drawing: laid out after the frame
        self._pending_hit: tuple[int, int] | None = None  # shown once laid out
        if hit is not None:
            self._mark_hit(*hit)

    # -- items ---------------------------------------------------------------------------
    def shown(self, index: int) -> bool:
        return self.levels[self.items[index].kind] != HIDDEN or index in self.pinned

    def one_line(self, index: int) -> bool:
        return self.levels[self.items[index].kind] != FULL and index not in self.expanded

    def _gap(self, index: int) -> int:
        return 1 if self.items[index].kind in SPACED else 0

    def _estimate(self, index: int) -> int:
        if not self.shown(index):
            return 0
        return self._gap(index) + estimate_rows(self.items[index], self.one_line(index),
                                                index in self.expanded, self._body_width())

    def _body_width(self) -> int:
        return max(10, self._width - MARGIN)

    def block_lines(self, index: int) -> list[Strip]:
        """Item `index` rendered at the view's width (its blank line above not included);
        its height is exact from then on."""
        found = self._lines.get(index)
        if found is None:
            self.rendered += 1
            item = self.items[index]
            renderable = block_renderable(item, self.one_line(index), index in self.expanded,
                                          self.pattern)
            console = self.app.console
            options = console.options.update(width=self._body_width(), highlight=False)
            found = [Strip(line, self._body_width())
                     for line in console.render_lines(renderable, options, pad=True)]
            self._lines[index] = found
            self._rows[index] = self._gap(index) + len(found) if self.shown(index) else 0
            self._exact[index] = True
        return found

    def block_text(self, index: int) -> str:
        """Item `index` as drawn, in plain text (tests, and what a copy takes)."""
        return "\n".join(strip.text.rstrip() for strip in self.block_lines(index))

    # -- layout ----------------------------------------------------------------------------
    def _relayout(self) -> None:
        self._tops = [0, *accumulate(self._rows)]
        self.virtual_size = Size(self._width, self._tops[-1])

    def item_at(self, row: int) -> int:
        """The item drawn on line `row` of the whole transcript."""
        return max(0, min(bisect_right(self._tops, row) - 1, len(self.items) - 1))

    def top(self, index: int) -> int:
        """The first line of item `index` (its blank line above, if it has one)."""
        return self._tops[index]

    def _anchor(self) -> tuple[int, int]:
        """What is at the top of the view: (item, lines into it)."""
        y = round(self.scroll_y)
        index = self.item_at(y)
        return index, y - self._tops[index]

    def _scroll(self, y: int) -> None:
        # forced: the scrollbars may not be worked out yet for a new virtual size
        self.scroll_to(y=max(0, y), animate=False, force=True, immediate=True)

    def _relayout_at(self, anchor: tuple[int, int]) -> None:
        """Lay out anew (heights changed), the line `anchor` (from `_anchor`, taken before
        the change) kept at the top of the view."""
        index, within = anchor
        self._relayout()
        self._scroll(self._tops[index] + min(within, max(self._rows[index] - 1, 0)))

    def _changed(self, indices: Any = None) -> None:
        """Items `indices` (all when None) look different now: forget their lines, make
        their heights estimates again, and draw, the top line kept in place."""
        if not self._width:
            return
        anchor = self._anchor()
        for i in range(len(self.items)) if indices is None else indices:
            self._lines.discard(i)
            self._exact[i] = False
            self._rows[i] = self._estimate(i)
        self._relayout_at(anchor)
        self.settle()
        self.refresh()

    def settle(self) -> None:
        """Render the items in view (and a screen below) whose heights are estimates,
        keeping the top line in place; again if that brought others into view."""
        if self._settling or not self._width or not self.items:
            return
        self._settling = True
        try:
            for _ in range(8):
                anchor = index, within = self._anchor()
                bottom = self._tops[index] + within + max(self.size.height, 10)
                measured = False
                i = index
                while i < len(self.items) and self._tops[i] < bottom:
                    if self.shown(i) and not self._exact[i]:
                        before = self._rows[i]
                        self.block_lines(i)
                        measured |= self._rows[i] != before
                    i += 1
                if not measured:
                    return
                self._relayout_at(anchor)
        finally:
            self._settling = False

    def _lines_to_draw(self, index: int) -> list[Strip]:
        """`block_lines`, from drawing: an item `settle` did not measure (it always
        measures what shows, so this is a safety net) is laid out anew after the frame."""
        rows = self._rows[index]
        found = self.block_lines(index)
        if self._rows[index] != rows and not self._stale:
            self._stale = True
            self.call_after_refresh(self._restale)
        return found

    def _restale(self) -> None:
        self._stale = False
        self._relayout_at(self._anchor())
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        width = self.scrollable_content_region.width
        if width == self._width:
            self.settle()
            return
        first = not self._width
        self._width = width
        if first:  # the first layout: every height an estimate; at the top, or at a hit
            self._lines.clear()  # (anything rendered before had no width to go by)
            self._exact = [False] * len(self.items)
            self._rows = [self._estimate(i) for i in range(len(self.items))]
            self._relayout()
            if self._pending_hit is not None:
                self._to_hit()
            else:
                self.settle()
        else:  # a new width: every item wraps anew
            self._changed()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if round(old) != round(new):
            self.settle()

    # -- drawing ---------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _style(self, name: str) -> Style:
        found = self._styles.get(name)
        if found is None:
            found = self._styles[name] = (self.rich_style if name == "base" else
                                          self.get_component_rich_style(f"transcript--{name}"))
        return found

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._style("base")
        row = round(self.scroll_y) + y
        if not self.items or row >= self._tops[-1]:
            return Strip.blank(width, base)
        index = self.item_at(row)
        line = row - self._tops[index] - self._gap(index)
        lines = self._lines_to_draw(index)
        if line < 0 or line >= len(lines):  # its blank line, or an estimate too high
            return Strip.blank(width, base)
        style = base + self._style("cursor") if index == self.cursor else base
        if index == self.hit:
            mark = Segment("▌", style + self._style("hit-mark"))
        elif index == self.cursor:
            mark = Segment("▌", style + self._style("cursor-mark"))
        else:
            mark = Segment(" ", style)
        body = lines[line].apply_style(style)
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(row)) is not None:
            start, end = span
            end = body.cell_length if end == -1 else min(end, body.cell_length)
            if end > start:
                head, lit, tail = body.divide([start, end, body.cell_length])
                body = Strip.join([head, lit.apply_style(
                    self.screen.get_component_rich_style("screen--selection")), tail])
        strip = Strip.join([Strip([mark], 1), body.apply_offsets(0, row),
                            Strip.blank(MARGIN - 1, style)])
        return strip.crop_extend(0, width, base)

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected lines' text (columns counted from each block line's start)."""
        first = selection.start.y if selection.start else 0
        last = selection.end.y if selection.end else self._tops[-1] - 1
        rows = []
        for row in range(first, last + 1):
            index = self.item_at(row)
            line = row - self._tops[index] - self._gap(index)
            lines = self.block_lines(index)
            rows.append(lines[line].text.rstrip() if 0 <= line < len(lines) else "")
        start = Offset(selection.start.x, 0) if selection.start else None
        end = Offset(selection.end.x, last - first) if selection.end else None
        return Selection(start, end).extract("\n".join(rows)), "\n"

    # -- detail levels -----------------------------------------------------------------------
    def set_levels(self, levels: dict[str, str]) -> None:
        self.levels = dict(levels)
        self.expanded.clear()
        self._changed()
        if not self.shown(self.cursor):  # onto the nearest block still shown
            after = self._next_shown(self.cursor, 1)
            before = self._next_shown(self.cursor, -1)
            self.set_cursor(after if after is not None else
                            before if before is not None else self.cursor)
        self.post_message(self.LevelsChanged())

    def action_cycle(self, n: int) -> None:
        """Step kind `n` through full -> hidden -> one line -> full."""
        kind = KINDS[n][0]
        order = (FULL, HIDDEN, "line")
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
        text.append(f"block {self.cursor + 1 if self.items else 0:,} of {len(self.items):,}",
                    style="dim")
        return text


class ConversationView(Vertical):
    """The transcript with its legend (the kinds, their levels and the keys) above it."""

    def __init__(self, items: list[Item], hit: tuple[int, int] | None = None,
                 pattern: re.Pattern[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items = items
        self.hit = hit
        self.pattern = pattern

    def compose(self) -> ComposeResult:
        yield Static(id="transcript-legend")
        yield Transcript(self.items, self.hit, self.pattern, id="transcript")

    def on_mount(self) -> None:
        self._legend()

    def on_transcript_levels_changed(self, message: Transcript.LevelsChanged) -> None:
        self._legend()

    def _legend(self) -> None:
        # two lines high (inspector.tcss): a new legend needs no layout of the screen
        self.query_one("#transcript-legend", Static).update(
            self.query_one(Transcript).legend(), layout=False)


__all__ = ["ConversationView", "Transcript", "LEVELS"]
