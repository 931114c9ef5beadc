"""The live requests table: one row per capture, keyed by capture id.

The table holds only a window of rows (the screen pages through the store), so it opens
at once on any database and its memory stays bounded. Rows are updated in place by key;
newest first is kept by sorting on the capture id (ids sort by time).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Iterable

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from inspector.tui import format as fmt
from inspector.tui.widgets.requests.cell_cache import StableCells

if TYPE_CHECKING:
    from inspector.store.rows import RequestRow

#: (column key, header, width). Fixed widths: nothing to measure on 200 rows, and a row
#: that arrives later never finds its column too narrow.
COLUMNS = (
    ("mark", "!", 1),
    ("time", "Time", 11),
    ("session", "Session", 8),
    ("model", "Model", 10),
    ("endpoint", "Endpoint", 13),
    ("status", "Status", 6),
    ("stream", "S", 1),
    ("prompt", "Prompt tokens", 20),
    ("output", "Out", 6),
    ("cost", "Cost", 7),
    ("latency", "Latency", 7),
    ("source", "Largest source", 26),
)


class KeyedText(Text):
    """Text that remembers the capture id it belongs to, so rows can sort by it."""

    sort_key: str = ""


#: the same for terminals narrower than WIDE: no endpoint or stream mark, the cached part
#: of the prompt as a share
COMPACT_COLUMNS = (
    ("mark", "!", 1),
    ("time", "Time", 11),
    ("session", "Session", 8),
    ("model", "Model", 10),
    ("status", "Status", 6),
    ("prompt", "Prompt", 13),
    ("output", "Out", 5),
    ("cost", "Cost", 7),
    ("latency", "Took", 6),
    ("source", "Largest source", 12),
)
WIDE = 128

#: the marker of a request with a finding, by kind (the first kind listed wins)
MARKS = {
    "cache_break": ("✖", "bold red"),
    "large_tool_result": ("▲", "yellow"),
    "repeated_read": ("↻", "yellow"),
    "compaction": ("⇊", "cyan"),
    "truncation": ("…", "red"),
}


def mark_cell(kind: str | None) -> Text:
    symbol, style = MARKS.get(kind or "", (" ", ""))
    return Text(symbol, style=style)


def row_cells(row: RequestRow, compact: bool = False, now: float | None = None,
              mark: str | None = None) -> list[Any]:
    """The table cells of one request row; `now` (epoch seconds, default the wall clock)
    decides which rows show their date; `mark` is the kind of finding it has, if any."""
    in_progress = row.pending
    time_cell = KeyedText(fmt.when(row.ts, time.time() if now is None else now))
    time_cell.sort_key = row.id
    if row.stream and row.stream_complete is False and not in_progress:
        stream_cell = Text("✂", style="bold red")  # cut off before message_stop
    else:
        stream_cell = Text("≋" if row.stream else " ", style="cyan")
    source: Any = row.top_source or ""
    if row.error and not source:
        source = Text(str(row.error)[:40], style="red")
    prompt = row.prompt_tokens
    cells = [
        mark_cell(mark),
        time_cell,
        Text(fmt.short_session(row.session_id), style="magenta"),
        fmt.short_model(row.model),
        endpoint_cell(row.method, row.path),
        fmt.status(row.status, error=row.error, in_progress=in_progress),
        stream_cell,
        fmt.prompt_cell(prompt, row.cache_read_tokens),
        Text(fmt.tokens(row.output_tokens), justify="right"),
        Text(fmt.cost(row.cost_usd), justify="right"),
        Text("live…" if in_progress else fmt.ms(row.total_ms),
             style="italic cyan" if in_progress else ""),
        source,
    ]
    if compact:
        cached = row.cache_read_tokens or 0
        prompt_cell = Text(fmt.tokens(prompt), style="" if prompt is not None else "dim")
        if prompt and cached:
            prompt_cell.append(f" {100 * cached // prompt}%c", style="dim")
        # mark, time, session, model, status, prompt, out, cost, latency, source
        return [cells[0], cells[1], cells[2], cells[3], cells[5], prompt_cell, cells[8],
                cells[9], cells[10], cells[11]]
    return cells


def endpoint_cell(method: str | None, path: str | None) -> str:
    """"/v1/messages" for the usual POST; other methods are named ("HEAD /")."""
    path = fmt.endpoint(path)
    if method and method != "POST":
        return f"{method} {path}"
    return path


class RequestsTable(StableCells, DataTable):
    """Requests, newest first (or oldest first with the cursor following new ones)."""

    BINDINGS = [
        Binding("g", "first", "Newest", show=False),
        Binding("G", "last", "Bottom", show=False),
    ]

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
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.newest_first = True
        self.compact = False
        #: True while the rows are being replaced (scroll resets are not the user's)
        self._refilling = False
        self.rows_by_id: dict[str, RequestRow] = {}
        #: how many times the rows were replaced (see EdgeReached.fill)
        self.fills = 0
        #: capture id -> kind of finding, for the rows that have one
        self.marks: dict[str, str] = {}

    @property
    def columns_spec(self) -> tuple[tuple[str, str, int], ...]:
        return COMPACT_COLUMNS if self.compact else COLUMNS

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for key, label, width in self.columns_spec:
            self.add_column(label, key=key, width=width)

    def on_resize(self, event) -> None:  # noqa: ANN001
        """Narrow terminals get the compact column set; rows are re-added from memory."""
        compact = event.size.width < WIDE
        if compact == self.compact:
            return
        self.compact = compact
        rows = list(self.rows_by_id.values())
        current = self.current_id()
        self.clear(columns=True)
        self._add_columns()
        self.rows_by_id = {}
        for row in rows:
            self._add(row)
        self.sort("time", key=lambda cell: getattr(cell, "sort_key", ""),
                  reverse=self.newest_first)
        if current in self.rows_by_id:
            self.move_cursor(row=self.get_row_index(current))

    def _update_dimensions(self, new_rows) -> None:  # noqa: ANN001 - Textual's signature
        """Every column has a fixed width and every row one line: nothing to measure.
        (DataTable measures each cell of each new row on the UI thread: ~0.15 s for a
        window of 200 rows.) Only the virtual size is recomputed."""
        super()._update_dimensions(())

    # -- data ----------------------------------------------------------------------------
    def replace_rows(self, rows: Iterable[RequestRow]) -> None:
        """Show exactly these rows (given newest first); keep the cursor on the same capture."""
        current = self.current_id()
        self.fills += 1
        self._refilling = True
        try:
            self._refill(rows, current)
        finally:
            self._refilling = False

    def _refill(self, rows: Iterable[RequestRow], current: str | None) -> None:
        self.clear()
        self.rows_by_id = {}
        rows = list(rows)
        if not self.newest_first:
            rows.reverse()
        for row in rows:
            self._add(row)
        if current and current in self.rows_by_id:
            self.move_cursor(row=self.get_row_index(current), scroll=True)
        elif not self.newest_first and self.row_count:
            self.move_cursor(row=self.row_count - 1)

    def upsert(self, rows: Iterable[RequestRow]) -> int:
        """Add new rows and update known ones in place (a pending row never replaces a
        completed one); returns how many were new. Costs what the given rows cost, not
        what the table holds (but for the sort of the window when rows were added)."""
        added = 0
        for row in rows:
            known = self.rows_by_id.get(row.id)
            if known is None:
                self._add(row)
                added += 1
                continue
            if row.pending and not known.pending:
                continue  # a late "started" must not undo a stored row
            if row == known:
                continue  # a refresh of the window's head: most rows did not change
            self.rows_by_id[row.id] = row
            self.changed(row.id)
            cells = row_cells(row, self.compact, self._now(), self.marks.get(row.id))
            for (col, _, _), cell in zip(self.columns_spec, cells):
                self.update_cell(row.id, col, cell)
        if added:
            self._order()
        return added

    def remove(self, ids: Iterable[str]) -> None:
        """Take rows out (requests in flight that will not be stored, or the oldest rows
        of a window that grew)."""
        for capture_id in ids:
            if self.rows_by_id.pop(capture_id, None) is not None:
                self.remove_row(capture_id)

    def clear(self, columns: bool = False) -> RequestsTable:
        self.forget_cells()
        return super().clear(columns)

    def _add(self, row: RequestRow) -> None:
        self.changed(row.id)
        self.rows_by_id[row.id] = row
        self.add_row(*row_cells(row, self.compact, self._now(), self.marks.get(row.id)),
                     key=row.id)

    def _now(self) -> float:
        """The app's clock (tests fix it), else the wall clock."""
        try:
            return self.app.clock()
        except Exception:  # no app (a bare widget), or one without a clock
            return time.time()

    def _order(self) -> None:
        """Sort after new rows arrived. A cursor on the newest row keeps following the
        newest; anywhere else it stays on the capture it was on."""
        current = self.current_id()
        at_newest = self.cursor_row == 0 if self.newest_first else (
            self.cursor_row >= self.row_count - 2)
        self.sort("time", key=lambda cell: getattr(cell, "sort_key", ""),
                  reverse=self.newest_first)
        if at_newest:
            self.move_cursor(row=0 if self.newest_first else self.row_count - 1, scroll=True)
        elif current:
            self.move_cursor(row=self.get_row_index(current))

    def set_marks(self, marks: dict[str, str]) -> None:
        """Show which rows have a finding (`marks`: capture id -> kind)."""
        for key in self.rows_by_id:
            kind = marks.get(key)
            if self.marks.get(key) != kind:
                self.changed(key)
                self.update_cell(key, "mark", mark_cell(kind))
        self.marks = {k: v for k, v in marks.items() if k in self.rows_by_id}

    def set_newest_first(self, newest_first: bool) -> None:
        self.newest_first = newest_first
        self._order()
        self.move_cursor(row=0 if newest_first else max(self.row_count - 1, 0), scroll=True)

    def current_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key
        except Exception:
            return None
        return key.value

    # -- paging hints -------------------------------------------------------------------
    def watch_cursor_coordinate(self, old, new) -> None:  # noqa: ANN001 - Textual's signature
        super().watch_cursor_coordinate(old, new)
        if self._refilling or not self.row_count:
            return  # the rows are being replaced: the screen placed the cursor itself
        older_edge = self.row_count - 1 if self.newest_first else 0
        newer_edge = 0 if self.newest_first else self.row_count - 1
        if new.row == older_edge and old.row != new.row:
            self.post_message(self.EdgeReached("older", self.current_id(), self.fills))
        elif new.row == newer_edge and old.row != new.row:
            self.post_message(self.EdgeReached("newer", self.current_id(), self.fills))

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Scrolling (the mouse wheel) to the end of the window pages too, not only the cursor."""
        super().watch_scroll_y(old, new)
        if self._refilling or not self.row_count or new == old:
            return
        if new > old and new >= self.max_scroll_y:
            self.post_message(self.EdgeReached("older" if self.newest_first else "newer",
                                               self._id_at(self.row_count - 1), self.fills))
        elif new < old and new <= 0:
            self.post_message(self.EdgeReached("newer" if self.newest_first else "older",
                                               self._id_at(0), self.fills))

    def _id_at(self, row: int) -> str | None:
        try:
            return self.coordinate_to_cell_key((row, 0)).row_key.value
        except Exception:
            return None

    def action_first(self) -> None:
        """The newest request: the screen owns the window, so it decides how."""
        self.post_message(self.NewestWanted())

    def action_last(self) -> None:
        self.move_cursor(row=self.row_count - 1)
