"""The main screen's window reads, mixed into `Backend`: a connection of their own, so a
newer question can stop an older one that is still running without touching any other
screen's read (SQLite calls a progress handler every few thousand steps of a query, and
it stops the query once a newer read asked to: unlike `Connection.interrupt()`, this
cannot miss a query that is just starting); and the first window read ahead while the
app starts (`prefetch_window`), used when nothing was committed since.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inspector.tui.format import AtLeast

if TYPE_CHECKING:
    from inspector.store.rows import RequestRow

log = logging.getLogger(__name__)


@dataclass
class Window:
    """One read of the main screen's window: rows newest first, how many captures there
    are, how many match the filter (None without one; an `AtLeast` under a text search
    past one page), the feed position the rows are up to, and the requests in flight."""

    rows: list[RequestRow]
    total: int
    matching: int | None
    seq: int
    pending: list[RequestRow]


_UNREAD = object()


@dataclass
class _Prefetched:
    """A window read ahead of its asking (`Backend.prefetch_window`), with what it was
    asked and the window connection's `data_version` when its read began."""

    terms: dict[str, Any]
    limit: int
    offset: int
    version: int | None
    window: Window
    #: the quota headers read just after the window (`Backend.quota`)
    quota: Any = _UNREAD

    def fits(self, terms: dict[str, Any], limit: int, offset: int,
             version: int | None) -> bool:
        """Is this what `window(…, terms, limit, offset)` would read now?"""
        return ((self.terms, self.limit, self.offset) == (terms, limit, offset)
                and self.version is not None and version == self.version)


class WindowReads:
    """Mixed into `Backend` (which gives `exists`, `_open`, `_filter` and `quota`)."""

    def _init_window_reads(self) -> None:
        self._window_lock = threading.Lock()
        self._window = None
        self._window_wanted = 0
        #: the window read running now, and the reads below which should stop
        self._window_running = 0
        self._window_stop_below = 0
        #: the window `prefetch_window` read, until `prefetched_window` or `window` takes
        #: it (or finds it stale and drops it)
        self._prefetched: _Prefetched | None = None
        self._prefetch_thread: threading.Thread | None = None

    def want_window(self, ticket: int, *, interrupt: bool = False) -> None:
        """A window read numbered `ticket` is coming (call on the UI thread): reads with
        a smaller number that have not started yet will not run, and with `interrupt` a
        running one is stopped."""
        self._window_wanted = max(self._window_wanted, ticket)
        if interrupt:
            self._window_stop_below = max(self._window_stop_below, ticket)

    def window(self, ticket: int, terms: dict[str, Any], limit: int,
               offset: int = 0) -> Window | None:
        """The main screen's window (see `Window`); None when a newer window read was
        asked for meanwhile (`want_window`). The window `prefetch_window` read, if it
        asked the same and nothing was committed since it began."""
        if not self.exists():
            return Window([], 0, 0 if terms else None, 0, [])
        with self._window_lock:
            if ticket < self._window_wanted:
                return None
            prefetched, self._prefetched = self._prefetched, None
            store = self._window_store()
            if prefetched is not None and prefetched.fits(terms, limit, offset,
                                                          data_version(store.conn)):
                return prefetched.window
            self._window_running = ticket
            try:
                return self._read_window(store, terms, limit, offset, ticket)
            except sqlite3.OperationalError as e:
                if "interrupt" in str(e).lower():
                    return None
                raise
            finally:
                self._window_running = 0

    def prefetch_window(self, terms: dict[str, Any], limit: int, offset: int = 0) -> None:
        """Read the window `window(…, terms, limit, offset)` will ask for, and the quota,
        now, in a thread of its own: the CLI calls this before it imports and starts the
        app, so the first window is read while Textual boots (SQLite releases the GIL).
        The main screen takes it when it mounts (`prefetched_window`), or its first
        `window` call returns it. It is used once, and only if nothing was committed
        since its read began (`PRAGMA data_version` on the window's connection);
        otherwise the window is read again. A failure here is only logged: the read
        that follows meets it again and reports it."""
        if not self.exists():
            return
        thread = threading.Thread(target=self._prefetch, args=(dict(terms), limit, offset),
                                  name="window-prefetch", daemon=True)
        self._prefetch_thread = thread
        thread.start()

    def prefetched_window(self, terms: dict[str, Any], limit: int,
                          offset: int = 0) -> tuple[Window, Any] | None:
        """The window and quota `prefetch_window` read, if that read is done, asked the
        same and nothing was committed since; else None. Never waits (the UI thread
        calls it): a read still under way gives None."""
        if not self._window_lock.acquire(blocking=False):
            return None
        try:
            prefetched = self._prefetched
            if prefetched is None or prefetched.quota is _UNREAD or not prefetched.fits(
                    terms, limit, offset, data_version(self._window_store().conn)):
                return None
            self._prefetched = None
            return prefetched.window, prefetched.quota
        finally:
            self._window_lock.release()

    def _prefetch(self, terms: dict[str, Any], limit: int, offset: int) -> None:
        # runs with `_window_running` at 0, so no newer question stops it: it is the
        # unfiltered head of the list (milliseconds), and a filter typed meanwhile waits
        # for the lock at most that long
        with self._window_lock:
            if self._window_wanted:  # a window read was asked for already: let it read
                return
            try:
                store = self._window_store()
                version = data_version(store.conn)
                window = self._read_window(store, terms, limit, offset, None)
            except Exception:
                log.debug("window prefetch failed", exc_info=True)
                return
            prefetched = _Prefetched(terms, limit, offset, version, window)
            try:
                prefetched.quota = self.quota()  # what the table's load reads next
            except Exception:
                log.debug("quota prefetch failed", exc_info=True)
            self._prefetched = prefetched

    def _window_store(self):
        """The window reads' connection; call with `_window_lock` held."""
        if self._window is None:
            self._window = self._open()
            self._window.conn.set_progress_handler(self._stop_window_read, 4000)
        return self._window

    def _read_window(self, store, terms: dict[str, Any], limit: int, offset: int,
                     ticket: int | None) -> Window | None:
        """Read a window on `store`; None when `ticket` is no longer the newest."""
        from inspector.store.queries import count_requests, last_seq, pending_rows, request_rows

        seq = last_seq(store)  # first: what is written after it comes by the feed
        rows = request_rows(store, self._filter(terms, limit, offset))
        if ticket is not None and ticket < self._window_wanted:
            return None
        total = count_requests(store, self._filter({}))
        if terms.get("text") and len(rows) == limit:
            # more than a page matches: say so rather than verify every body
            matching = AtLeast(offset + len(rows) + 1)
        else:
            matching = count_requests(store, self._filter(terms)) if terms else None
        pending = pending_rows(store) if offset == 0 and not terms else []
        return Window(rows, total, matching, seq, pending)

    def _stop_window_read(self) -> int:
        """SQLite's progress handler on the window connection: non-zero stops the query."""
        return int(0 < self._window_running < self._window_stop_below)


def data_version(conn: sqlite3.Connection) -> int | None:
    """`PRAGMA data_version`: changes when another connection commits (None if unknown)."""
    try:
        return conn.execute("PRAGMA data_version").fetchone()[0]
    except sqlite3.Error:
        return None
