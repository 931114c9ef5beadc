"""A table drawn a line at a time: the app's tables of requests and of stats groups.

A line-API `ScrollView`, as the Raw view is: rows are a list of keys, and `render_line`
lays out only the rows on screen, from the cells a subclass makes for a key (`make_cells`,
asked the first time the row shows), keeping each drawn line until that row, the cursor
or the look changes. Replacing every row is a list assignment; the frame after it draws
the rows that show. (Textual's DataTable rebuilt its row and cell maps and rendered
every visible cell through rich whenever rows were replaced or sorted: 100-180 ms of the
UI thread for a window of requests or a screen of stats groups.)

Columns have fixed widths (nothing to measure, and a row that arrives later never finds
its column too narrow); a cell is a rich `Text` (or a string), cut with an ellipsis,
right-aligned when its `justify` says so. Line 0 is the header, fixed; the rows scroll.

Keys: up/down, PgUp/PgDn, Home/End, Enter posts `Selected`. A click moves the cursor; a
click on the cursor's row selects it.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
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

#: (column key, header, width)
Columns = tuple[tuple[str, str, int], ...]

#: blank cells between two columns (one each side, as a DataTable pads)
GAP = 2


class LineTable(ScrollView, can_focus=True):
    """Rows of cells under a header, with a row cursor. Subclasses give `columns_spec`
    and `make_cells(key)`."""

    COMPONENT_CLASSES = {"table--header", "table--even-row", "table--cursor"}
    DEFAULT_CSS = """
    LineTable {
        background: $surface;
        color: $foreground;
        & > .table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .table--even-row { background: $surface-lighten-1 50%; }
        &:dark > .table--even-row { background: $surface-darken-1 40%; }
        & > .table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .table--cursor {
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
    ]

    class RowMessage(Message):
        """About the row `key` of `table`."""

        def __init__(self, table: LineTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> LineTable:
            """The table (so `@on(..., "#id")` can tell tables apart)."""
            return self.table

    class Selected(RowMessage):
        """Enter, or a click on the cursor's row."""

    class Highlighted(RowMessage):
        """The cursor is on a new row."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: row keys in the order shown, and each one's place in it
        self.order: list[str] = []
        self._index: dict[str, int] = {}
        self.cursor_row = 0
        #: key -> its cells; a version per key bumped when they change; drawn lines
        self._cells: dict[str, list[Any]] = {}
        self._versions: dict[str, int] = {}
        self._lines: LRUCache[tuple, tuple[Strip, Style]] = LRUCache(512)
        self._styles: dict[str, Style] | None = None
        self._column_styles: dict[Style, list[tuple[Style, Style]]] = {}
        self.drawn = 0  # rows laid out so far (tests check only visible ones are)

    # -- what subclasses give ------------------------------------------------------------
    @property
    def columns_spec(self) -> Columns:
        raise NotImplementedError

    def make_cells(self, key: str) -> list[Any]:
        raise NotImplementedError

    def cursor_moved(self, old: int, new: int) -> None:
        """The cursor moved from row `old` to `new` (by a key, a click or the code)."""
        if (key := self.id_at(new)) is not None:
            self.post_message(self.Highlighted(self, key))

    # -- rows ----------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.order)

    @property
    def column_keys(self) -> list[str]:
        return [key for key, _, _ in self.columns_spec]

    def set_order(self, keys: list[str]) -> None:
        """Show the rows `keys`, in this order (the cursor is the caller's to place)."""
        self.order = keys
        self._index = {key: i for i, key in enumerate(keys)}
        self._lines.clear()  # rows moved: zebra stripes and the cursor with them
        self.virtual_size = Size(sum(w + GAP for _, _, w in self.columns_spec), len(keys) + 1)
        self.refresh()

    def show_rows(self, keys: list[str]) -> None:
        """Show these rows in place of all others, the cursor on the first, announced
        as highlighted (as a move of the cursor would be)."""
        self.forget()
        self.set_order(keys)
        self.move_cursor(row=0)
        if keys:
            self.post_message(self.Highlighted(self, keys[0]))

    def forget(self, keys: Any = None) -> None:
        """Drop the cells made for `keys` (all when None): their rows are gone."""
        if keys is None:
            self._cells.clear()
            self._versions.clear()
            self._lines.clear()
        else:
            for key in keys:
                self._cells.pop(key, None)
                self._versions.pop(key, None)

    def changed(self, key: str) -> None:
        """The cells of row `key` must be made again."""
        self._cells.pop(key, None)
        self._versions[key] = self._versions.get(key, 0) + 1
        if key in self._index:
            self.refresh_row(self._index[key])

    def refresh_row(self, index: int) -> None:
        """Draw the row at `index` again, if it shows."""
        self.refresh(Region(0, index + 1 - int(self.scroll_y), self.size.width, 1))

    def cells(self, key: str) -> list[Any]:
        """The cells of a row, made when first needed (most rows may never show)."""
        found = self._cells.get(key)
        if found is None:
            found = self._cells[key] = self.make_cells(key)
        return found

    def cell(self, key: str, column: str) -> Any:
        return self.cells(key)[self.column_keys.index(column)]

    def id_at(self, index: int) -> str | None:
        return self.order[index] if 0 <= index < len(self.order) else None

    def current_id(self) -> str | None:
        return self.id_at(self.cursor_row)

    def get_row_index(self, key: str) -> int:
        return self._index[key]

    # -- the cursor ------------------------------------------------------------------------
    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        """Put the cursor on row `row` (clamped), scrolled into view unless `scroll` is
        False."""
        old = self.cursor_row
        new = max(0, min(row, self.row_count - 1))
        self.cursor_row = new
        if old != new:
            self.refresh_row(old)
            self.refresh_row(new)
        if scroll:
            if self.scrollable_content_region.height < 2:
                # not laid out (hidden, or the screen around it changing): its height
                # would scroll the cursor to the top line; scroll once it has one
                self.call_after_refresh(self._scroll_to_cursor)
            else:
                self._scroll_to_cursor()
        if old != new and self.row_count:
            self.cursor_moved(old, new)

    def _scroll_to_cursor(self) -> None:
        """Scroll as little as shows the cursor's row (forced: rows just replaced, the
        view may not have worked out its scrollbar yet, and a scroll is refused until
        it has)."""
        top, height, row = int(self.scroll_y), self.body_height(), self.cursor_row
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True, force=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True,
                           force=True)

    def body_height(self) -> int:
        """Lines for rows: the view's, less the header's."""
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        self.move_cursor(row=self.cursor_row + direction * self.body_height())

    def action_edge(self, end: int) -> None:
        self.move_cursor(row=self.row_count - 1 if end else 0)

    def action_select(self) -> None:
        if (key := self.current_id()) is not None:
            self.post_message(self.Selected(self, key))

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
        self._column_styles.clear()
        self._lines.clear()
        self.refresh()

    def _style(self, name: str) -> Style:
        if self._styles is None:
            self._styles = {"base": self.rich_style}
        found = self._styles.get(name)
        if found is None:
            found = self._styles[name] = self.get_component_rich_style(f"table--{name}")
        return found

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        columns = self.columns_spec
        if y == 0:
            key: tuple = ("", -1, False, columns, 0)
        else:
            index = scroll_y + y - 1
            row = self.id_at(index)
            if row is None:
                return Strip.blank(width, self._style("base"))
            key = (row, index, index == self.cursor_row, columns, self._versions.get(row, 0))
        found = self._lines.get(key)
        if found is None:
            found = self._header() if y == 0 else self._row(key[0], key[1], key[2])
            self._lines[key] = found
        strip, fill = found
        return strip.crop_extend(scroll_x, scroll_x + width, fill)

    def _header(self) -> tuple[Strip, Style]:
        """The header line, and the style that fills the width past the last column."""
        style = self._style("base") + self._style("header")
        return self._layout([Text(label) for _, label, _ in self.columns_spec], style), style

    def _row(self, key: str, index: int, cursor: bool) -> tuple[Strip, Style]:
        """The line of row `key` at `index`, and the style of the rest of the width."""
        self.drawn += 1
        style = self._style("base")
        if index % 2 == 0:
            style += self._style("even-row")
        strip = self._layout(self.cells(key), style)
        if cursor:  # over the cells' own colours, as a selection is
            cursor_style = self._style("cursor")
            strip = Strip([Segment(s.text, (s.style or style) + cursor_style, s.control)
                           for s in strip], strip.cell_length)
            style += cursor_style
        return strip, style

    def _layout(self, cells: list[Any], style: Style) -> Strip:
        """One line of `cells` in the columns' widths, each padded one cell each side.
        Each cell's segments carry its column in their meta, and the blank before a
        right-aligned value a meta of its own, so each stays a run of its own (an SVG
        screenshot places each run at its column, and some viewers shrink leading
        blanks). A cell of one style is one segment made here; rich renders only cells
        of several styles (~1 ms a row before: this runs for every row that shows)."""
        columns = self.columns_spec
        styles = self._cell_styles(style, len(columns))
        segments: list[Segment] = []
        total = 0
        for (_, _, width), cell, (pad_style, cell_style) in zip(columns, cells, styles):
            total += width + GAP
            if isinstance(cell, Text):
                plain, justify = cell.plain, cell.justify
            else:
                plain, justify = str(cell), None
            length = cell_len(plain)
            if length > width or "\n" in plain:  # cut by rich, with an ellipsis
                text = cell.copy() if isinstance(cell, Text) else Text(plain)
                text.truncate(width, overflow="ellipsis")
                cell, plain, length = text, text.plain, text.cell_len
            pad = width - length
            left = pad if justify == "right" else 0
            segments.append(Segment(" " * (1 + left), pad_style))
            if isinstance(cell, Text) and cell.spans:
                piece = Text(no_wrap=True, end="")
                piece.append_text(cell)  # its own style becomes a span, over the row's
                segments.extend(Segment.apply_style(piece.render(self.app.console),
                                                    cell_style))
            elif isinstance(cell, Text) and cell.style:
                segments.append(Segment(plain, cell_style + _parse(cell.style)))
            else:
                segments.append(Segment(plain, cell_style))
            segments.append(Segment(" " * (1 + pad - left), cell_style))
        return Strip(segments, total)

    def _cell_styles(self, style: Style, n: int) -> list[tuple[Style, Style]]:
        """(blank before, cell) styles of each column on a row of `style`."""
        found = self._column_styles.get(style)
        if found is None or len(found) < n:
            found = self._column_styles[style] = [
                (style + Style.from_meta({"column": i, "pad": True}),
                 style + Style.from_meta({"column": i})) for i in range(n)]
        return found


def _parse(style: str | Style) -> Style:
    return style if isinstance(style, Style) else Style.parse(style)
