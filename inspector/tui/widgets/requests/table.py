"""The live requests table: one row per capture, keyed by capture id, newest first.

The table holds only a window of rows (the screen pages through the store), so it opens
at once on any database and its memory stays bounded; it is a `LineTable`, so replacing
the window's rows costs a list, and a frame draws only the rows on screen. Rows are
updated in place by key; newest first is the ids in reverse (ids sort by time).

Besides the table's keys: `g` the newest request (the screen decides how: it may lie
outside the window), `G` the last row. Reaching either end of the window, by the cursor
or by scrolling, tells the screen (`EdgeReached`), which may page.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Iterable

from textual import events
from textual.binding import Binding
from textual.message import Message

from inspector.tui.widgets.line_table import Columns, LineTable
from inspector.tui.widgets.requests.cells import COLUMNS, COMPACT_COLUMNS, WIDE, row_cells

if TYPE_CHECKING:
    from inspector.store.rows import RequestRow


class RequestsTable(LineTable):
    """Requests, newest first (or oldest first with the cursor following new ones)."""

    BINDINGS = [
        Binding("g", "first", "Newest", show=False),
        Binding("G", "edge(1)", "Bottom", show=False),
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
        super().__init__(**kwargs)
        self.newest_first = True
        self.compact = False
        self.rows_by_id: dict[str, RequestRow] = {}
        #: how many times the rows were replaced (see EdgeReached.fill)
        self.fills = 0
        #: capture id -> kind of finding, for the rows that have one
        self.marks: dict[str, str] = {}
        #: True while rows are being replaced (scroll resets are not the user's)
        self._refilling = False

    @property
    def columns_spec(self) -> Columns:
        return COMPACT_COLUMNS if self.compact else COLUMNS

    def make_cells(self, key: str) -> list[Any]:
        return row_cells(self.rows_by_id[key], self.compact, self._now(), self.marks.get(key))

    def _now(self) -> float:
        """The app's clock (tests fix it), else the wall clock."""
        try:
            return self.app.clock()
        except Exception:  # no app (a bare widget), or one without a clock
            return time.time()

    def on_resize(self, event: events.Resize) -> None:
        """Narrow terminals get the compact column set (cells are made again, lazily)."""
        compact = event.size.width < WIDE
        if compact != self.compact:
            self.compact = compact
            self.forget()
            self.set_order(self.order)

    # -- rows ----------------------------------------------------------------------------
    def replace_rows(self, rows: Iterable[RequestRow]) -> None:
        """Show exactly these rows (given newest first); keep the cursor on the same capture."""
        current = self.current_id()
        self.fills += 1
        self.rows_by_id = {row.id: row for row in rows}
        self.forget()
        self._reorder()
        self._refilling = True
        try:
            if current in self.rows_by_id:
                self.move_cursor(row=self.get_row_index(current))
            else:
                self.move_cursor(row=0 if self.newest_first else self.row_count - 1)
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
            self.changed(row.id)
        if added:
            current = self.current_id()
            at_newest = self.cursor_row == 0 if self.newest_first else (
                self.cursor_row >= self.row_count - 2)
            self._reorder()
            if at_newest:
                self.move_cursor(row=0 if self.newest_first else self.row_count - 1)
            elif current in self.rows_by_id:
                self.move_cursor(row=self.get_row_index(current))
        return added

    def remove(self, ids: Iterable[str]) -> None:
        """Take rows out (requests in flight that will not be stored, or the oldest rows
        of a window that grew)."""
        current = self.current_id()
        gone = [i for i in ids if self.rows_by_id.pop(i, None) is not None]
        if gone:
            self.forget(gone)
            self._reorder()
            keep = self.get_row_index(current) if current in self.rows_by_id else self.cursor_row
            self.move_cursor(row=keep)

    def set_marks(self, marks: dict[str, str]) -> None:
        """Show which rows have a finding (`marks`: capture id -> kind)."""
        for capture_id in self.rows_by_id:
            if self.marks.get(capture_id) != marks.get(capture_id):
                self.changed(capture_id)
        self.marks = {k: v for k, v in marks.items() if k in self.rows_by_id}

    def set_newest_first(self, newest_first: bool) -> None:
        self.newest_first = newest_first
        self._reorder()
        self.move_cursor(row=0 if newest_first else max(self.row_count - 1, 0))

    def _reorder(self) -> None:
        self.set_order(sorted(self.rows_by_id, reverse=self.newest_first))

    # -- paging hints -------------------------------------------------------------------
    def cursor_moved(self, old: int, new: int) -> None:
        if self._refilling:
            return  # the rows are being replaced: the screen placed the cursor itself
        older_edge = self.row_count - 1 if self.newest_first else 0
        newer_edge = 0 if self.newest_first else self.row_count - 1
        if new == older_edge:
            self.post_message(self.EdgeReached("older", self.current_id(), self.fills))
        elif new == newer_edge:
            self.post_message(self.EdgeReached("newer", self.current_id(), self.fills))

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

    def action_first(self) -> None:
        """The newest request: the screen owns the window, so it decides how."""
        self.post_message(self.NewestWanted())
