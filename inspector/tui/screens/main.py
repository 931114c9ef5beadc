"""The main screen: the live requests table, the filter box and the status bar.

The table shows a window of at most `WINDOW` rows; the screen pages through the store when
the cursor reaches an edge. Every database read runs in a thread worker and comes back as a
`WindowLoaded` message tagged with a generation number, so a stale answer (the filter
changed meanwhile) is dropped.

New captures come through the store only: when anyone commits, the screen reads the rows
past its feed position (`seq`, a rowid) and the requests in flight, and updates just
those rows of the table (`ChangesLoaded`), whatever the store holds.

Never wait: typing in the filter box applies the filter `DEBOUNCE` seconds after the last
key, leaving out what is not finished yet (see `filter_box`); a newer filter stops the
query still running for an older one; Escape paints the unfiltered head from memory at
once (then refreshes it); `g` goes to the newest request, loading the head if needed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Input

from inspector.tui import format as fmt
from inspector.tui.errors import guarded
from inspector.tui.widgets.requests.empty_state import EmptyState
from inspector.tui.widgets.requests.table import RequestsTable
from inspector.tui.widgets.status.status_bar import Counts, ProxyState, StatusBar
from inspector.tui.widgets.footer import KeysFooter
from inspector.tui.screens.filter_box import FilterBox
from inspector.tui.screens.idle_jobs import IdleJobs

if TYPE_CHECKING:
    from inspector.store.rows import RequestRow
    from inspector.tui.backend import Changes

log = logging.getLogger(__name__)

#: rows held by the table at once
WINDOW = 200
#: how far a page step moves the window
STEP = 100
#: shortest time between two refreshes caused by new captures (seconds)
REFRESH_GAP = 0.1
#: the anchor of a load that puts the cursor on the newest request
NEWEST = "<newest>"


class WindowLoaded(Message):
    def __init__(self, generation: int, offset: int, rows: list[RequestRow],
                 total: int, matching: int | None, merge: bool, anchor: str | None,
                 seq: int = 0, pending: list[RequestRow] | None = None,
                 quota: Any = None) -> None:
        super().__init__()
        #: the subscription quota headers last seen (the status bar's bars)
        self.quota = quota
        #: the store's change feed position the window was read at
        self.seq = seq
        #: requests in flight (on the unfiltered head of the list only)
        self.pending = pending or []
        self.generation = generation
        self.window_start = offset
        self.rows = rows
        self.total = total
        self.matching = matching
        self.merge = merge
        self.anchor = anchor


class ChangesLoaded(Message):
    """What the store gained since `since` (the feed position it was asked from)."""

    def __init__(self, generation: int, since: int, changes: Changes, quota: Any = None) -> None:
        super().__init__()
        self.generation = generation
        self.since = since
        self.changes = changes
        self.quota = quota


class WindowFailed(Message):
    """The database could not be read: say why, in one line, instead of loading forever."""

    def __init__(self, generation: int, reason: str) -> None:
        super().__init__()
        self.generation = generation
        self.reason = reason


class MainScreen(IdleJobs, FilterBox, Screen):
    """Requests as they happen."""

    BINDINGS = [
        Binding("enter", "open", "Open", show=True),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("f", "follow", "Follow"),
        Binding("s", "sessions", "Sessions"),
        Binding("t", "stats", "Stats"),
        Binding("i", "findings", "Findings"),
        Binding("p", "pause", "Pause rec."),
        Binding("r", "reload", "Reload", show=False),
    ]

    def __init__(self, backend: Any) -> None:
        super().__init__()
        self.backend = backend
        self.terms: dict[str, Any] = {}
        self.filter_text = ""
        self.window_start = 0
        self.generation = 0
        self.loaded_once = False
        self.loading = False
        self._refresh_timer = None
        self._last_refresh = 0.0
        self.counts = Counts()
        self.proxy_state = ProxyState()
        self.init_idle_jobs()
        self._typed_timer = None
        #: the last unfiltered head of the list (a WindowLoaded), painted at once on Escape
        self._head: WindowLoaded | None = None
        #: the store's change feed position the table is up to (see `refresh_captures`)
        self.seq = 0
        #: rows of requests in flight shown in the table
        self.pending_ids: set[str] = set()
        self._feed_due = False
        self._quota: Any = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="filter: words  model:opus  status:200  source:mcp:github  "
                                "session:abc  since:1h   (Enter applies, Escape clears)",
                    id="filter")
        yield RequestsTable(id="requests")
        yield EmptyState(id="empty")
        yield StatusBar(id="status")
        yield KeysFooter()

    def on_mount(self) -> None:
        self._show_filter_box(False)
        self.query_one("#empty").display = False
        self.query_one(RequestsTable).focus()
        self.set_proxy_state(self.proxy_state)
        ready = self.backend.prefetched_window({}, WINDOW)
        if ready is None:
            self.load(0)
            return
        # read while the app started (see Backend.prefetch_window): in the first paint
        window, quota = ready
        self.generation += 1
        self.backend.want_window(self.generation)
        self.on_window_loaded(WindowLoaded(self.generation, 0, window.rows, window.total,
                                           window.matching, False, None, window.seq,
                                           window.pending, quota))

    # -- loading ---------------------------------------------------------------------
    def load(self, offset: int, *, merge: bool = False, anchor: str | None = None,
             interrupt: bool = False) -> None:
        """Read a window at `offset`; with `interrupt` (a new question from the user) a
        read still running for an older one is stopped. Refreshes caused by new captures
        do not interrupt: under steady traffic a slow filter would never finish."""
        self.loading = True
        self.generation += 1
        self.backend.want_window(self.generation, interrupt=interrupt)
        self._load(self.generation, dict(self.terms), max(offset, 0), merge, anchor)

    @work(thread=True, exclusive=True, group="window", exit_on_error=False)
    def _load(self, generation: int, terms: dict[str, Any], offset: int, merge: bool,
              anchor: str | None) -> None:
        try:
            window = self.backend.window(generation, terms, WINDOW, offset)
            if window is None:
                return  # a newer read was asked for: this answer would be dropped anyway
            quota = self.backend.quota()
        except Exception as e:  # a file that is no database, a vanished folder, ...
            log.warning("reading %s failed", self.backend.db_path, exc_info=True)
            self.post_message(WindowFailed(generation, fmt.database_problem(
                self.backend.db_path, e)))
            return
        self.post_message(WindowLoaded(generation, offset, window.rows, window.total,
                                       window.matching, merge, anchor, window.seq,
                                       window.pending, quota))

    @guarded
    def on_window_failed(self, message: WindowFailed) -> None:
        if message.generation != self.generation:
            return
        self.loading = False
        self.query_one(EmptyState).problem = message.reason
        self._show_table(False)

    @guarded
    def on_window_loaded(self, message: WindowLoaded) -> None:
        if message.generation != self.generation:
            return
        self.loading = False
        table = self.query_one(RequestsTable)
        self.window_start = message.window_start
        self.seq = message.seq
        self._quota = message.quota
        if message.merge and self.window_start == 0:
            table.upsert(message.rows)
        else:
            table.replace_rows(message.rows)
            if message.anchor == NEWEST and table.row_count:
                table.move_cursor(row=0 if table.newest_first else table.row_count - 1,
                                  scroll=True)
            elif message.anchor and message.anchor in table.rows_by_id:
                table.move_cursor(row=table.get_row_index(message.anchor), scroll=True)
        if not self.terms and self.window_start == 0:
            self._head = message
        self.pending_ids = {r.id for r in message.pending}
        table.upsert(message.pending)
        self.loaded_once = True
        self.query_one(EmptyState).problem = None
        shown = len(message.rows)
        self.counts = replace(
            self.counts, total=message.total, matching=message.matching,
            filter_text=self.filter_text,
            window=(self.window_start + 1 if shown else 0, self.window_start + shown),
            extra={**self.counts.extra, "quota": self._quota},
        )
        self._update_status()
        empty = table.row_count == 0
        self.query_one(EmptyState).filtered = bool(self.terms)
        self._show_table(not empty)
        self.rows_shown()
        if self._feed_due:
            self._feed_due = False
            self.refresh_captures()

    # -- the change feed: the store is the only way captures reach the table --------
    @guarded
    def refresh_captures(self) -> None:
        """Someone committed to the database: fetch what is new since `seq`.

        Only the new rows are read and only their table rows touched, so a capture costs
        the same with 10 stored as with 100k. At most one fetch per REFRESH_GAP: the first
        news is fetched at once, a burst behind it is folded into one more fetch."""
        if self._refresh_timer is not None:
            return
        if self.loading:
            self._feed_due = True  # the window being read may miss it: fetch after
            return
        wait = self._last_refresh + REFRESH_GAP - time.monotonic()
        if wait > 0:
            self._refresh_timer = self.set_timer(wait, self._refresh_now)
            return
        self._refresh_now()

    def _refresh_now(self) -> None:
        self._refresh_timer = None
        if self.loading:  # a read is on its way (maybe one the user asked for): let it land
            self._refresh_timer = self.set_timer(REFRESH_GAP, self._refresh_now)
            return
        self._last_refresh = time.monotonic()
        self._fetch_changes(self.generation, dict(self.terms), self.seq)

    @work(thread=True, exclusive=True, group="feed", exit_on_error=False)
    def _fetch_changes(self, generation: int, terms: dict[str, Any], since: int) -> None:
        try:
            changes = self.backend.changes(terms, since)
            quota = self.backend.quota() if changes.rows else self._quota
        except Exception:  # a locked or vanished file: the next change tries again
            log.debug("reading changes failed", exc_info=True)
            return
        self.post_message(ChangesLoaded(generation, since, changes, quota))

    @guarded
    def on_changes_loaded(self, message: ChangesLoaded) -> None:
        if message.generation != self.generation or message.since != self.seq:
            if not self.loading:
                self.refresh_captures()  # asked from an older position: ask again
            return
        changes = message.changes
        if changes.reset:
            self.load(self.window_start, anchor=self.query_one(RequestsTable).current_id())
            return
        self.seq = changes.seq
        self._quota = message.quota
        table = self.query_one(RequestsTable)
        new = [r for r in changes.rows if r.id not in table.rows_by_id]
        if self.window_start == 0:
            done = {r.id for r in changes.rows}
            pending = {r.id for r in changes.pending}
            table.remove(self.pending_ids - pending - done)  # in flight, not stored
            self.pending_ids = pending
            if table.upsert([*changes.rows, *changes.pending]):
                self._show_table(True)
            if table.row_count > WINDOW + STEP:  # the oldest go, a step at a time
                table.remove(sorted(table.rows_by_id)[:table.row_count - WINDOW])
        matching = self.counts.matching
        self.counts = replace(
            self.counts, total=self.counts.total + changes.added,
            matching=None if matching is None else matching + len(new),
            extra={**self.counts.extra, "quota": message.quota},
        )
        if self.window_start == 0:
            shown = table.row_count - len(self.pending_ids)
            self.counts = replace(self.counts, window=(1 if shown else 0, shown))
        self._update_status()
        self.schedule_marks()

    @on(RequestsTable.EdgeReached)
    @guarded
    def _page(self, message: RequestsTable.EdgeReached) -> None:
        if self.loading:
            return  # one page move at a time
        table = self.query_one(RequestsTable)
        limit = self.counts.matching if self.counts.matching is not None else self.counts.total
        anchor = message.anchor
        if message.fill != table.fills:
            return  # sent before the rows were last replaced: that edge is gone
        if message.edge == "older" and self.window_start + table.row_count < limit:
            self.load(self.window_start + STEP, anchor=anchor)
        elif message.edge == "newer" and self.window_start > 0:
            self.load(self.window_start - STEP, anchor=anchor)

    def _show_table(self, show: bool) -> None:
        """Table or first-run text; the keyboard stays with the table when it shows."""
        table = self.query_one(RequestsTable)
        self.query_one("#empty").display = not show
        table.display = show
        focused = self.focused
        if show and (focused is None or not focused.display or focused.disabled):
            table.focus()

    # -- status ----------------------------------------------------------------------
    def set_proxy_state(self, state: ProxyState) -> None:
        self.proxy_state = state
        if self.is_mounted:
            self.query_one(EmptyState).state = state
            self._update_status()

    def _update_status(self) -> None:
        table = self.query_one(RequestsTable)
        self.counts = replace(self.counts, follow=not table.newest_first)
        bar = self.query_one(StatusBar)
        bar.state = self.proxy_state
        bar.counts = self.counts

    # -- actions ---------------------------------------------------------------------
    def action_open(self) -> None:
        capture_id = self.query_one(RequestsTable).current_id()
        if capture_id:
            self._open(capture_id)

    @on(RequestsTable.Selected, "#requests")
    def _row_selected(self, message: RequestsTable.Selected) -> None:
        message.stop()
        self._open(message.key)

    def _open(self, capture_id: str) -> None:
        """The request's detail; under a text search, opened at its hits."""
        self.app.open_detail(capture_id, search=self.terms.get("text"))

    @on(RequestsTable.NewestWanted)
    @guarded
    def _newest(self, message: RequestsTable.NewestWanted) -> None:
        """`g`: the newest request, wherever the window is."""
        message.stop()
        table = self.query_one(RequestsTable)
        if self.window_start == 0 and not self.loading:
            if table.row_count:
                table.move_cursor(row=0 if table.newest_first else table.row_count - 1,
                                  scroll=True)
            return
        self.load(0, anchor=NEWEST, interrupt=True)

    def _restore_head(self) -> None:
        """Back to no filter: paint the unfiltered head kept from before, at once, then
        read it again quietly (captures may have arrived meanwhile)."""
        self.terms = {}
        self.filter_text = ""
        head, self._head = self._head, None
        self.generation += 1
        self.backend.want_window(self.generation, interrupt=True)
        replay = WindowLoaded(self.generation, 0, head.rows, head.total, None, False, None,
                              head.seq, head.pending, head.quota)
        self.on_window_loaded(replay)
        self.load(0, merge=True)

    def action_follow(self) -> None:
        table = self.query_one(RequestsTable)
        table.set_newest_first(not table.newest_first)
        self._update_status()
        self.notify("Following new requests at the bottom" if not table.newest_first
                    else "Newest first", timeout=2)

    def action_sessions(self) -> None:
        self.app.open_sessions()

    def action_stats(self) -> None:
        self.app.open_stats()

    def action_findings(self) -> None:
        self.app.open_findings()

    def action_pause(self) -> None:
        self.app.toggle_recording()

    def action_reload(self) -> None:
        self.load(self.window_start)
