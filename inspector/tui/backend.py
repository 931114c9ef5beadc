"""Read access to the capture store for the app, safe to call from worker threads.

Every call runs off the UI thread (in a Textual thread worker). The `Store` guards its one
connection with a lock, so workers share it. The cheap `change_token` lets a watcher notice
rows written by another process (another `claude-inspect proxy`) without re-reading
anything.

The main screen's window reads (`window`, and the first one read ahead while the app
starts) have a connection of their own: see window_reads.py.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from inspector.tui.stats_memo import StatsMemo
from inspector.tui.window_reads import WindowReads, data_version

if TYPE_CHECKING:
    from inspector.store.rows import RequestRow, SessionSummary

log = logging.getLogger(__name__)


#: rows of the main screen's first window (its WINDOW; a test keeps the two equal): what
#: the CLI reads ahead while the app starts (`prefetch_window`)
FIRST_WINDOW = 200

#: new rows the feed reads at once; past this many, the window is read again instead
FEED_LIMIT = 500


@dataclass
class Changes:
    """What the store gained since the feed position the app had (see `Backend.changes`)."""

    #: the feed's position now
    seq: int
    #: new or rewritten rows that match the filter, oldest first
    rows: list[RequestRow]
    #: how many rows were written in all (filter or not)
    added: int
    #: the requests in flight (none under a filter: only their head is known)
    pending: list[RequestRow] = field(default_factory=list)
    #: the feed went backwards (rows deleted, places reused): reload the window
    reset: bool = False


class Backend(WindowReads):
    """The store, seen from the app. One instance per app; methods are thread-safe."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = Path(db_path)
        self._lock = threading.Lock()
        self._shared = None
        self._watch: sqlite3.Connection | None = None
        # Analysis (stats, diffs, ratings) writes: rollup tables and feedback rows. It gets
        # its own connection, so a stats refresh never runs inside a table read's cursor.
        self._analysis_lock = threading.Lock()
        self._analysis = None
        #: the Stats view's figures, kept between visits (see stats_memo)
        self.stats_memo = StatsMemo()
        # the table's finding marks: a process of their own (see `marks`)
        self._marks_lock = threading.Lock()
        self._marks: Any = None  # a findings.marks.MarksProcess
        #: requests the last marks pass read (each is read once, the first time it is asked)
        self.marks_read = 0
        # the findings processes running (see `findings`), ended when the app closes
        self._children_lock = threading.Lock()
        self._children: set[Any] = set()
        self._closing = False
        # the main screen's window reads: own connection, newest question wins
        self._init_window_reads()

    # -- connections -----------------------------------------------------------------
    def _store(self):
        with self._lock:
            if self._shared is None:
                self._shared = self._open()
            return self._shared

    def _open(self):
        from inspector.store import Store

        for attempt in range(20):
            try:
                return Store(self.db_path)
            except sqlite3.OperationalError as e:
                if _read_only(e):
                    return _open_read_only(self.db_path)
                # the writer may be creating the schema this very moment
                if attempt == 19:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    def _filter(self, terms: dict[str, Any], limit: int = 20, offset: int = 0):
        from inspector.store.queries import Filter

        known = {f.name for f in fields(Filter)}
        kwargs = {k: v for k, v in terms.items() if k in known and v not in (None, "")}
        model = kwargs.get("model")
        if model and "*" not in model and "%" not in model:
            kwargs["model"] = f"*{model}*"  # `model:opus` finds claude-opus-4-1-...
        return Filter(**kwargs, limit=limit, offset=offset)

    def exists(self) -> bool:
        return self.db_path.exists()

    # -- queries -------------------------------------------------------------------------
    # -- the change feed -------------------------------------------------------------
    def seq(self) -> int:
        """Where the store's change feed stands (see `queries.last_seq`)."""
        if not self.exists():
            return 0
        from inspector.store.queries import last_seq

        return last_seq(self._store())

    def pending(self) -> list[RequestRow]:
        """Requests in flight, newest first."""
        if not self.exists():
            return []
        from inspector.store.queries import pending_rows

        return pending_rows(self._store())

    def changes(self, terms: dict[str, Any], seq: int) -> Changes:
        """What the store gained since `seq`: the rows matching `terms` (oldest first),
        how many rows in all, and the requests in flight. Reads only the new rows."""
        from inspector.store.queries import count_after, rows_after

        store = self._store()
        top = self.seq()
        if top < seq:  # rows went (a purge) and their places were reused: start over
            return Changes(top, [], 0, [], reset=True)
        rows = rows_after(store, self._filter(terms), seq, limit=FEED_LIMIT)
        if len(rows) == FEED_LIMIT:  # more than a window: reading the window is cheaper
            return Changes(top, [], 0, [], reset=True)
        rows = [r for r in rows if r.seq <= top]
        added = count_after(store, seq, top) if rows or top > seq else 0
        return Changes(top, rows, added, [] if terms else self.pending())

    def count(self, terms: dict[str, Any]) -> int:
        if not self.exists():
            return 0
        from inspector.store.queries import count_requests

        return count_requests(self._store(), self._filter(terms))

    def exchange(self, capture_id: str) -> dict[str, Any]:
        """Everything stored about one capture (request, response, usage, timings, tree)."""
        from inspector.store.exchanges import get_exchange

        return get_exchange(self._store(), capture_id)

    def sessions(self, terms: dict[str, Any], limit: int = 200) -> list[SessionSummary]:
        if not self.exists():
            return []
        from inspector.store.sessions import session_summaries

        return session_summaries(self._store(), self._filter(terms, limit))

    # -- analysis (stats, turn diffs, ratings) ------------------------------------------
    def _analysis_store(self):
        """The analysis connection; call with `_analysis_lock` held."""
        if self._analysis is None:
            from inspector.store import Store

            try:
                self._analysis = Store(self.db_path)
            except sqlite3.OperationalError as e:
                if not _read_only(e):
                    raise
                # analysis writes its summary tables: give it a private copy to write to
                self._analysis = _private_copy(_open_read_only(self.db_path))
        return self._analysis

    def stats(self, since: float | None, until: float | None = None, by: str = "source",
              notice: Callable[[int], None] | None = None) -> dict[str, Any] | None:
        """The figures of `claude-inspect stats` (see `inspector.analysis.stats`); None
        when nothing was ever stored. `notice(n)` hears of a one-time bulk summing."""
        if not self.exists():
            return None
        from inspector.analysis.stats import compute_stats

        with self._analysis_lock:
            return compute_stats(self._analysis_store().conn, since, until, by, notice)

    def diff(self, capture_id: str) -> dict[str, Any] | None:
        """What changed since the previous request of the capture's session (the dict of
        `diff_exchanges`), or None when it is the first request of its session."""
        from inspector.analysis.turns import NoPrevious, diff_exchanges

        with self._analysis_lock:
            try:
                return diff_exchanges(self._analysis_store(), capture_id)
            except NoPrevious:
                return None

    def index_progress(self) -> tuple[int, int] | None:
        """(indexed, stored): how many captures the text search index covers (see
        `search.index_progress`); None when there is no database."""
        if not self.exists():
            return None
        from inspector.store.search import index_progress

        return index_progress(self._store())

    def quota(self) -> dict[str, str] | None:
        """The quota headers of the newest reply that carried them, or None."""
        if not self.exists():
            return None
        from inspector.analysis.quota import latest

        return latest(self._store().conn)

    def session_tree(self, session_id: str, cancelled: Callable[[], bool] = lambda: False,
                     started: Callable[[Any], None] | None = None,
                     ) -> list[dict[str, Any]] | None:
        """The main conversation, subagents and side calls of one session (see
        `threads.session_tree`), worked out in a process of its own as findings are (see
        `findings`): None when `cancelled()` said so first."""
        if not self.exists():
            return []
        from inspector.analysis.findings.child import threads_in_child

        return threads_in_child(self.db_path, session_id,
                                lambda: cancelled() or self._closing,
                                self._begun(started))

    def findings(self, since: float | None, session: str | None = None,
                 kinds: tuple[str, ...] | None = None, until: float | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 each: Callable[[list[Any]], None] | None = None,
                 cancelled: Callable[[], bool] = lambda: False,
                 started: Callable[[Any], None] | None = None) -> list[Any] | None:
        """The findings of the period (see `inspector.analysis.findings`), most
        actionable first; [] when nothing was ever stored, None when `cancelled()` said
        so before the end. `progress(read, total)`: requests read so far, of how many
        (reading them is most of the wait); `each`: each session's findings as they are
        found; `started(process)`: the child doing it (to end it when no longer wanted).

        A process of its own works them out (`findings.child`): parsing a period's
        requests never holds this interpreter's lock (the UI loop's) or the analysis
        connection (the Stats view's, diffs', ratings')."""
        if not self.exists():
            return []
        from inspector.analysis.findings.child import find_in_child

        return find_in_child(self.db_path, since, until, session, kinds, progress, each,
                             lambda: cancelled() or self._closing, self._begun(started))

    def _begun(self, started: Callable[[Any], None] | None) -> Callable[[Any], None]:
        """What hears of a child process: kept to be ended when the app closes, and told
        to `started`."""
        def begun(child: Any) -> None:
            with self._children_lock:
                self._children = {c for c in self._children if c.poll() is None} | {child}
            if started is not None:
                started(child)

        return begun

    def marks(self, ids: list[str]) -> dict[str, str]:
        """The table's finding marks of the requests `ids`: capture id -> kind.

        A process of their own works them out (`findings.marks`): it reads each request
        once, with its session before it, and keeps what later requests need; its parsing
        of megabyte bodies never holds this interpreter's lock, so the app's loop never
        waits on it."""
        if not self.exists():
            return {}
        with self._marks_lock:
            if self._marks is None:
                from inspector.analysis.findings.marks import MarksProcess

                self._marks = MarksProcess(self.db_path)
            try:
                answer = self._marks.ask(ids)
            except (EOFError, OSError, ValueError):
                self._marks.stop()  # it died or was stopped: the next pass starts another
                self._marks = None
                raise
        self.marks_read = answer["read"]
        log.debug("marks: %d requests read for %d rows", self.marks_read, len(ids))
        return answer["marks"]

    def stop_marks(self) -> None:
        """End the marks process (the app is closing); a pass under way fails at once."""
        running = self._marks
        if running is not None:
            running.process.terminate()  # ends a pass that holds the lock
        with self._marks_lock:
            if self._marks is not None:
                self._marks.stop()
                self._marks = None

    def rate(self, capture_id: str, word: str, note: str | None = None) -> dict[str, Any]:
        """Store a rating ("good" or "bad") of a capture (full id); returns what was stored."""
        from inspector.analysis.ratings import rate

        with self._analysis_lock:
            return rate(self._analysis_store(), capture_id, word, note or None)

    def close(self) -> None:
        self._closing = True
        with self._children_lock:
            for child in self._children:
                if child.poll() is None:
                    child.terminate()
            self._children.clear()
        with self._analysis_lock:
            if self._analysis is not None:
                self._analysis.close()
                self._analysis = None
        with self._lock:
            if self._shared is not None:
                self._shared.close()
                self._shared = None
        self.stop_marks()
        with self._window_lock:
            if self._window is not None:
                self._window.close()
                self._window = None
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    # -- change detection ---------------------------------------------------------------
    def change_token(self) -> int | None:
        """A number that changes whenever any other connection commits to the database.

        `PRAGMA data_version` on a connection of our own: costs microseconds and sees
        commits from this process's writer thread and from other processes alike.
        """
        conn = self._watch
        if conn is None:
            if not self.exists():
                return None
            conn = self._watch = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True,
                                                 check_same_thread=False)
        return data_version(conn)


def _read_only(error: sqlite3.Error) -> bool:
    """The database may be read but not written (a read-only file or folder)."""
    text = str(error).lower()
    return any(w in text for w in ("readonly", "read-only", "unable to open"))


def _open_read_only(path: Path):
    """A Store that never writes: the file as it stands when SQLite cannot even create
    its -shm file beside it."""
    from inspector.store import Store

    try:
        return Store(path, readonly=True)
    except sqlite3.OperationalError:
        return Store(path, immutable=True)


def _private_copy(store):
    """A writable copy of `store` in a temporary folder (deleted when the app closes)."""
    import atexit
    import shutil
    import tempfile

    from inspector.store import Store

    folder = tempfile.mkdtemp(prefix="claude-inspect-")
    atexit.register(shutil.rmtree, folder, True)
    copy = sqlite3.connect(Path(folder) / "copy.db")
    try:
        store.conn.backup(copy)
    finally:
        copy.close()
        store.close()
    return Store(Path(folder) / "copy.db")
