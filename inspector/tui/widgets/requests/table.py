"""The live requests table: one row per capture, newest first, drawn a line at a time.

The table holds only a window of rows (the screen pages through the store), so it opens
at once on any database and its memory stays bounded. It is a line-API `ScrollView`, as
the Raw view is: `render_line` lays out only the rows on screen, from the row's cells
(cells.py), and keeps the drawn line until that row, the cursor or the look changes.
Replacing the 200 rows of a window is a list assignment; the frame after it draws the
40 rows that show. (Textual's DataTable rebuilt its row and cell maps and re-rendered
every visible cell through rich whenever rows were replaced or sorted: 100-150 ms of the
UI thread for a new filter, a page or Escape on a large database.)

Keys: up/down, PgUp/PgDn, Home/End, Enter opens, `g` the newest request (the screen
decides how: it may lie outside the window), `G` the last row. A click moves the cursor;
a click on the cursor's row opens it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Iterable

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from inspector.tui.widgets.requests.cells import COLUMNS, COMPACT_COLUMNS, WIDE, row_cells

if TYPE_CHECKING:
    from inspector.store.rows import RequestRow

#: blank cells between two columns (one each side, as a DataTable pads)
GAP = 2
#: a style per column naming it in its meta (see `_layout`)
COLUMN_META = [Style.from_meta({"column": i}) for i in range(len(COLUMNS))]


class RequestsTable(ScrollView, can_focus=True):
    """Requests, newest first (or oldest first with the cursor following new ones)."""

    COMPONENT_CLASSES = {"requests--header", "requests--even-row", "requests--cursor"}
    DEFAULT_CSS = """
    RequestsTable {
        background: $surface;
        color: $foreground;
        & > .requests--header { text-style: bold; background: $panel; color: $foreground; }
        & > .requests--even-row { background: $surface-lighten-1 50%; }
        &:dark > .requests--even-row { background: $surface-darken-1 40%; }
        & > .requests--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .requests--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """
    BINDINGS = [
        Binding("enter", "select", "Open", show=False),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "edge(0)", "Top", show=False),
        Binding("end,ctrl+end", "edge(1)", "Bottom", show=False),
        Binding("g", "first", "Newest", show=False),
        Binding("G", "edge(1)", "Bottom", show=False),
    ]

    class Selected(Message):
        """Enter, or a click on the cursor's row: open this capture."""

        def __init__(self, capture_id: str) -> None:
            super().__init__()
            self.capture_id = capture_id

    class EdgeReached(Message):
        """The cursor reached the top or bottom of the loaded window: the screen may page."""

        def __init__(self, edge: str, anchor: str | None, fill: int = 0) -> None:
            super().__init__()
            self.edge = edge  # "older" or "newer"
            #: the capture to keep the cursor on once the window has moved
            self.anchor = anchor
            #: the table's `fills` when sent: a message from before a refill is stale
            self.fill = fill

    class NewestWanted(Message):
        """`g`: the newest request, which may lie outside the loaded window."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.newest_first = True
        self.compact = False
        self.rows_by_id: dict[str, RequestRow] = {}
        #: capture ids in the order shown, and each one's place in it
        self.order: list[str] = []
        self._index: dict[str, int] = {}
        self.cursor_row = 0
        #: how many times the rows were replaced (see EdgeReached.fill)
        self.fills = 0
        #: capture id -> kind of finding, for the rows that have one
        self.marks: dict[str, str] = {}
        #: True while rows are being replaced (scroll resets are not the user's)
        self._refilling = False
        #: capture id -> its cells; and drawn lines, by what they depend on
        self._cells: dict[str, list[Any]] = {}
        self._versions: dict[str, int] = {}
        self._lines: LRUCache[tuple, Strip] = LRUCache(512)
        self._styles: dict[str, Style] | None = None
        self.drawn = 0  # rows laid out so far (tests check only visible ones are)

    # -- shape ---------------------------------------------------------------------------
    @property
    def columns_spec(self) -> tuple[tuple[str, str, int], ...]:
        return COMPACT_COLUMNS if self.compact else COLUMNS

    @property
    def column_keys(self) -> list[str]:
        return [key for key, _, _ in self.columns_spec]

    @property
    def row_count(self) -> int:
        return len(self.order)

    def _resize_virtual(self) -> None:
        width = sum(w + GAP for _, _, w in self.columns_spec)
        self.virtual_size = Size(width, len(self.order) + 1)  # + the header line

    def on_resize(self, event: events.Resize) -> None:
        """Narrow terminals get the compact column set (cells are made again, lazily)."""
        compact = event.size.width < WIDE
        if compact != self.compact:
            self.compact = compact
            self._cells.clear()
            self._lines.clear()
            self._resize_virtual()
            self.refresh()

    # -- rows ----------------------------------------------------------------------------
    def replace_rows(self, rows: Iterable[RequestRow]) -> None:
        """Show exactly these rows (given newest first); keep the cursor on the same capture."""
        current = self.current_id()
        self.fills += 1
        self.rows_by_id = {row.id: row for row in rows}
        self._cells.clear()
        self._versions.clear()
        self._lines.clear()
        self._reorder()
        self._refilling = True
        try:
            if current in self._index:
                self.move_cursor(row=self._index[current], scroll=True)
            else:
                self.move_cursor(row=0 if self.newest_first else self.row_count - 1,
                                 scroll=True)
        finally:
            self._refilling = False

    def upsert(self, rows: Iterable[RequestRow]) -> int:
        """Add new rows and update known ones in place (a pending row never replaces a
        completed one); returns how many were new. A cursor on the newest row follows
        the newest; anywhere else it stays on its capture."""
        added = 0
        for row in rows:
            known = self.rows_by_id.get(row.id)
            if known is not None and (row == known or (row.pending and not known.pending)):
                continue  # unchanged, or a late "started" that must not undo a stored row
            added += known is None
            self.rows_by_id[row.id] = row
            self._changed(row.id)
        if added:
            current = self.current_id()
            at_newest = self.cursor_row == 0 if self.newest_first else (
                self.cursor_row >= self.row_count - 2)
            self._reorder()
            if at_newest:
                self.move_cursor(row=0 if self.newest_first else self.row_count - 1,
                                 scroll=True)
            elif current in self._index:
                self.move_cursor(row=self._index[current])
        return added

    def remove(self, ids: Iterable[str]) -> None:
        """Take rows out (requests in flight that will not be stored, or the oldest rows
        of a window that grew)."""
        current = self.current_id()
        gone = [i for i in ids if self.rows_by_id.pop(i, None) is not None]
        if gone:
            for capture_id in gone:
                self._cells.pop(capture_id, None)
                self._versions.pop(capture_id, None)
            self._reorder()
            self.move_cursor(row=self._index.get(current, self.cursor_row))

    def set_marks(self, marks: dict[str, str]) -> None:
        """Show which rows have a finding (`marks`: capture id -> kind)."""
        for capture_id in self.rows_by_id:
            if self.marks.get(capture_id) != marks.get(capture_id):
                self._changed(capture_id)
        self.marks = {k: v for k, v in marks.items() if k in self.rows_by_id}

    def set_newest_first(self, newest_first: bool) -> None:
        self.newest_first = newest_first
        self._reorder()
        self.move_cursor(row=0 if newest_first else max(self.row_count - 1, 0), scroll=True)

    def _reorder(self) -> None:
        """Capture ids sort by time: newest first is the ids in reverse."""
        self.order = sorted(self.rows_by_id, reverse=self.newest_first)
        self._index = {capture_id: i for i, capture_id in enumerate(self.order)}
        self._lines.clear()  # rows moved: zebra stripes and the cursor with them
        self._resize_virtual()
        self.refresh()

    def _changed(self, capture_id: str) -> None:
        self._cells.pop(capture_id, None)
        self._versions[capture_id] = self._versions.get(capture_id, 0) + 1
        if capture_id in self._index:
            self.refresh_row(self._index[capture_id])

    def refresh_row(self, index: int) -> None:
        """Draw the row at `index` again, if it shows."""
        self.refresh(Region(0, index + 1 - int(self.scroll_y), self.size.width, 1))

    # -- reading -------------------------------------------------------------------------
    def current_id(self) -> str | None:
        return self.id_at(self.cursor_row)

    def id_at(self, index: int) -> str | None:
        return self.order[index] if 0 <= index < len(self.order) else None

    def get_row_index(self, capture_id: str) -> int:
        return self._index[capture_id]

    def cells(self, capture_id: str) -> list[Any]:
        """The cells of a row, made when first needed (most rows of a window never show)."""
        found = self._cells.get(capture_id)
        if found is None:
            row = self.rows_by_id[capture_id]
            found = row_cells(row, self.compact, self._now(), self.marks.get(capture_id))
            self._cells[capture_id] = found
        return found

    def cell(self, capture_id: str, column: str) -> Any:
        return self.cells(capture_id)[self.column_keys.index(column)]

    def _now(self) -> float:
        """The app's clock (tests fix it), else the wall clock."""
        try:
            return self.app.clock()
        except Exception:  # no app (a bare widget), or one without a clock
            return time.time()

    # -- the cursor ------------------------------------------------------------------------
    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        """Put the cursor on row `row` (clamped), scrolled into view unless `scroll` is
        False; reaching either end of the window tells the screen, which may page."""
        old = self.cursor_row
        new = max(0, min(row, self.row_count - 1))
        self.cursor_row = new
        if old != new:
            self.refresh_row(old)
            self.refresh_row(new)
        if scroll:
            self._scroll_to_cursor()
        if self._refilling or not self.row_count or old == new:
            return
        older_edge = self.row_count - 1 if self.newest_first else 0
        newer_edge = 0 if self.newest_first else self.row_count - 1
        if new == older_edge:
            self.post_message(self.EdgeReached("older", self.current_id(), self.fills))
        elif new == newer_edge:
            self.post_message(self.EdgeReached("newer", self.current_id(), self.fills))

    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        top, height = int(self.scroll_y), self._body_height()
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + height:
            self.scroll_to(y=self.cursor_row - height + 1, animate=False, immediate=True)

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Scrolling (the mouse wheel) to the end of the window pages too, not only the cursor."""
        super().watch_scroll_y(old, new)
        if self._refilling or not self.row_count or new == old:
            return
        if new > old and new >= self.max_scroll_y:
            self.post_message(self.EdgeReached("older" if self.newest_first else "newer",
                                               self.id_at(self.row_count - 1), self.fills))
        elif new < old and new <= 0:
            self.post_message(self.EdgeReached("newer" if self.newest_first else "older",
                                               self.id_at(0), self.fills))

    def action_cursor(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        self.move_cursor(row=self.cursor_row + direction * self._body_height())

    def action_edge(self, end: int) -> None:
        self.move_cursor(row=self.row_count - 1 if end else 0)

    def action_first(self) -> None:
        """The newest request: the screen owns the window, so it decides how."""
        self.post_message(self.NewestWanted())

    def action_select(self) -> None:
        if (capture_id := self.current_id()) is not None:
            self.post_message(self.Selected(capture_id))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return  # the header, or a scrollbar
        index = int(self.scroll_y) + offset.y - 1
        if 0 <= index < self.row_count:
            event.stop()
            if index == self.cursor_row:
                self.action_select()
            else:
                self.move_cursor(row=index)

    def on_focus(self) -> None:
        self._restyle()

    def on_blur(self) -> None:
        self._restyle()

    # -- drawing -------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyle()

    def _restyle(self) -> None:
        self._styles = None
        self._lines.clear()
        self.refresh()

    def _style(self, name: str) -> Style:
        if self._styles is None:
            self._styles = {"base": self.rich_style}
        found = self._styles.get(name)
        if found is None:
            found = self._styles[name] = self.get_component_rich_style(f"requests--{name}")
        return found

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            key: tuple = ("header", self.compact)
        else:
            index = scroll_y + y - 1
            capture_id = self.id_at(index)
            if capture_id is None:
                return Strip.blank(width, self._style("base"))
            key = (capture_id, index, index == self.cursor_row, self.compact,
                   self._versions.get(capture_id, 0))
        strip = self._lines.get(key)
        if strip is None:
            strip = self._header() if y == 0 else self._row(key[0], key[1], key[2])
            self._lines[key] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, self._style("base"))

    def _header(self) -> Strip:
        style = self._style("base") + self._style("header")
        return self._layout([Text(label) for _, label, _ in self.columns_spec], style)

    def _row(self, capture_id: str, index: int, cursor: bool) -> Strip:
        self.drawn += 1
        style = self._style("base")
        if index % 2 == 0:
            style += self._style("even-row")
        strip = self._layout(self.cells(capture_id), style)
        if cursor:  # over the cells' own colours, as a selection is
            cursor_style = self._style("cursor")
            strip = Strip([Segment(s.text, (s.style or style) + cursor_style, s.control)
                           for s in strip], strip.cell_length)
        return strip

    def _layout(self, cells: list[Any], style: Style) -> Strip:
        """One line of `cells` in the columns' widths, each padded one cell each side.
        Each cell's segments carry its column in their meta, so a cell stays a run of
        its own (an SVG screenshot places each run at its column)."""
        console = self.app.console
        segments: list[Segment] = []
        total = 0
        for (_, _, width), cell, column in zip(self.columns_spec, cells, COLUMN_META):
            text = cell if isinstance(cell, Text) else Text(str(cell))
            if text.cell_len > width:
                text = text.copy()
                text.truncate(width, overflow="ellipsis")
            pad = width - text.cell_len
            left = pad if text.justify == "right" else 0
            piece = Text(" " * (1 + left), no_wrap=True, end="")
            piece.append_text(text)
            piece.append(" " * (1 + pad - left))
            # under the cell's own styles (a Text without spans renders unstyled)
            segments.extend(Segment.apply_style(piece.render(console), style + column))
            total += width + GAP
        return Strip(segments, total)
