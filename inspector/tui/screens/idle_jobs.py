"""What the main screen does besides answering the user, mixed into `MainScreen`: the
table's finding marks, the Stats view's first figures worked out ahead of time, the
detail view's code loaded ahead of the first open, the request under the cursor read
ahead of Enter, and the search index's progress. Each runs in a worker (or a process of
its own) once the first rows are on screen, so none of them delays the first paint or a
key.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import replace
from typing import Any

from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from inspector.tui.errors import guarded
from inspector.tui.indexing import IndexWatch
from inspector.tui.widgets.requests.table import RequestsTable

log = logging.getLogger(__name__)

#: shortest time between two computations of the marks (seconds), and how many of the
#: newest rows they cover. Each pass reads only requests it never read (see
#: `Backend.marks`), in a process of its own.
MARKS_GAP = 10.0
MARKS_ROWS = 50
#: seconds after the first rows show before the Stats view's first figures are worked
#: out (in a thread, see stats_memo) and the search index is looked at: the first paint
#: and the marks go first
WARM_AFTER = 1.5
#: seconds between two looks at the search index's progress, while it has a backlog
INDEX_POLL = 2.0
#: seconds the cursor rests on a row before its request is read ahead (read_ahead.py):
#: rows passed over with the arrow keys are never read
READ_AHEAD_AFTER = 0.15
#: what opening a request first imports (the screen, its tabs, and rich's markdown and
#: syntax highlighting for the transcript): 60-90 ms of the first open, done while idle
PRELOAD = ("inspector.tui.screens.detail", "rich.markdown", "rich.syntax",
           "pygments.lexers.data")


class MarksLoaded(Message):
    """Which rows of the window have a finding: capture id -> kind."""

    def __init__(self, marks: dict[str, str]) -> None:
        super().__init__()
        self.marks = marks


class IndexProgress(Message):
    """(indexed, stored) captures of the text search index; None: nothing left."""

    def __init__(self, progress: tuple[int, int] | None) -> None:
        super().__init__()
        self.progress = progress


class IdleJobs:
    """Mixed into the main screen (which has `backend`, `counts`, `terms`, `pending_ids`
    and `_update_status`)."""

    backend: Any
    counts: Any
    terms: dict[str, Any]
    pending_ids: set[str]

    def init_idle_jobs(self) -> None:
        self._marks_timer: Any = None
        self._warm_timer: Any = None
        self._index_watch: IndexWatch | None = None
        self._ahead_timer: Any = None
        self.loaded_marks = False

    def rows_shown(self) -> None:
        """The window's rows are on screen: time for the marks, the cursor's request (its
        row may be the one it was on, under another filter), and (once) the rest."""
        self.schedule_marks()
        self.read_ahead_later()
        if self._warm_timer is None:
            self._warm_timer = self.set_timer(WARM_AFTER, self._warm_stats)
            self.set_timer(WARM_AFTER, self._poll_index)
            self.set_timer(WARM_AFTER, self._preload)

    # -- the finding marks -----------------------------------------------------------------
    def schedule_marks(self) -> None:
        table = self.query_one(RequestsTable)
        if table.row_count and self._marks_timer is None:
            self._marks_timer = self.set_timer(0.05 if not self.loaded_marks else MARKS_GAP,
                                               self._find_marks)

    def _find_marks(self) -> None:
        self._marks_timer = None
        rows = self.query_one(RequestsTable).rows_by_id.values()
        newest = sorted((r for r in rows if r.ts and not r.pending),
                        key=lambda r: r.ts, reverse=True)[:MARKS_ROWS]
        if newest:
            self._load_marks([r.id for r in newest])

    @work(thread=True, exclusive=True, group="marks", exit_on_error=False)
    def _load_marks(self, ids: list[str]) -> None:
        self.post_message(MarksLoaded(self.backend.marks(ids)))

    @guarded
    def on_marks_loaded(self, message: MarksLoaded) -> None:
        self.loaded_marks = True
        self.query_one(RequestsTable).set_marks(message.marks)

    # -- the Stats view's first figures --------------------------------------------------
    @work(thread=True, exclusive=True, group="stats-warm", exit_on_error=False)
    def _warm_stats(self) -> None:
        """Work out what the Stats view shows first, so `t` shows it at once."""
        worker = get_current_worker()
        self.backend.stats_memo.warm(self.backend, self.app.clock, lambda: worker.is_cancelled)

    # -- the detail view's code ----------------------------------------------------------
    @work(thread=True, exclusive=True, group="preload", exit_on_error=False)
    def _preload(self) -> None:
        """Import what the first open of a request needs (an import the UI thread asks
        for meanwhile waits for this one to finish: never done twice)."""
        for name in PRELOAD:
            try:
                importlib.import_module(name)
            except ImportError:  # an optional piece: imported when needed, as before
                log.debug("preloading %s failed", name, exc_info=True)

    # -- the request under the cursor ----------------------------------------------------
    def on_line_table_highlighted(self, message: RequestsTable.Highlighted) -> None:
        if message.table.id == "requests":
            self.read_ahead_later()

    def on_screen_resume(self) -> None:
        self.read_ahead_later()  # back from a detail view, which took what was read

    def read_ahead_later(self) -> None:
        """Read the cursor's request ahead once the cursor has rested there a moment."""
        if self._ahead_timer is not None:
            self._ahead_timer.stop()
        self._ahead_timer = self.set_timer(READ_AHEAD_AFTER, self._read_ahead_now)

    def _read_ahead_now(self) -> None:
        self._ahead_timer = None
        key = self.query_one(RequestsTable).current_id()
        # a request in flight changes when stored; another screen on top reads its own
        if key is None or key in self.pending_ids or self.app.screen is not self:
            return
        self._read_ahead(key, self.terms.get("text") or None)

    @work(thread=True, exclusive=True, group="read-ahead", exit_on_error=False)
    def _read_ahead(self, key: str, search: str | None) -> None:
        from inspector.tui.read_ahead import ReadAhead

        if self.app.read_ahead is None:  # one worker of this group runs at a time
            self.app.read_ahead = ReadAhead(self.backend)
        worker = get_current_worker()
        self.app.read_ahead.make(key, search, lambda: worker.is_cancelled)

    # -- the search index ----------------------------------------------------------------
    def _poll_index(self) -> None:
        """How far the search index is (and, browsing only, have it worked off)."""
        if self._index_watch is None:
            self._index_watch = IndexWatch(self.backend.db_path,
                                           drive=getattr(self.app, "runtime", None) is None)
        self._check_index(self._index_watch)

    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def _check_index(self, watch: IndexWatch) -> None:
        try:
            progress = watch.poll(self.backend)
        except Exception:  # a locked or vanished file: said nothing, tried no more
            log.debug("reading the search index's progress failed", exc_info=True)
            progress = None
        self.post_message(IndexProgress(progress))

    @guarded
    def on_index_progress(self, message: IndexProgress) -> None:
        self.counts = replace(self.counts, extra={**self.counts.extra, "index": message.progress})
        self._update_status()
        if message.progress is not None:
            self.set_timer(INDEX_POLL, self._poll_index)

    def on_unmount(self) -> None:
        self.backend.stop_marks()  # the marks process ends with the screen
        if self._index_watch is not None:
            self._index_watch.stop()  # and the index process (it loses nothing)
