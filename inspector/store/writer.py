"""The writer thread: the only place captures are written while a proxy runs.

The proxy calls `submit` from its event loop; it appends to a queue and returns at once.
One thread takes items off the queue, turns each into a Record (`prepare`: capture,
attribution, cost), and writes them in batches, one transaction per batch. A database
error (say, locked by another process) is retried with backoff, never raised to callers.
`close()` drains everything submitted before it returns, so nothing relayed is lost on
Ctrl-C, SIGTERM or quitting the app.

With `index_when_idle`, the thread also works off the search index's backlog (captures
stored before the index existed, see `search_backlog.py`) whenever its queue has been empty
for `IDLE` seconds: one short batch at a time, `PAUSE` apart, checking the queue between
batches, so a capture waits at most one batch, and another process's writer too.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable

from inspector.model import Capture
from inspector.store import pending
from inspector.store.db import Store
from inspector.store.pending import PendingDrop, PendingStart
from inspector.store.records import Record

log = logging.getLogger(__name__)

_STOP = object()

#: seconds of an empty queue before the writer indexes a batch of the search backlog
IDLE = 0.5
#: captures of the search backlog indexed per transaction (about 0.2 s of work)
INDEX_BATCH = 500
#: seconds between two batches: another process's writer, waiting in SQLite's busy
#: handler (which polls every 100 ms once it has waited a while), gets the lock in this
#: gap; back to back, the batches would starve it for seconds
PAUSE = 0.12


class Writer:
    """Batches records into the database on its own thread."""

    def __init__(
        self,
        path: Path | str,
        prepare: Callable[[Any], Record | None] = lambda x: x,
        on_written: Callable[[list[str]], None] | None = None,
        *,
        fallback: Callable[[Any], Record | None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        batch_size: int = 200,
        max_delay: float = 0.005,
        retry_for: float = 30.0,
        busy_timeout: float = 0.5,
        index_when_idle: bool = False,
    ) -> None:
        self.path = Path(path)
        self.prepare = prepare
        #: when `prepare` fails: what can still be stored of the item (say, the capture
        #: without its attribution)
        self.fallback = fallback
        self.on_written = on_written
        #: hears of each failed write attempt (from the writer's thread; must not raise)
        self.on_error = on_error
        self.batch_size = batch_size
        self.max_delay = max_delay
        #: how long to keep retrying one batch before giving up on it (logged, counted)
        self.retry_for = retry_for
        #: SQLite's own wait for a lock before we log and retry
        self.busy_timeout = busy_timeout
        #: whether captures left to index for search are indexed while idle
        self.index_when_idle = index_when_idle
        self._indexing = False  # the last idle batch found work: the next after PAUSE
        self.written = 0
        self.failed = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._submitted = 0
        self._done = 0
        self._count_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closing = False
        self._store: Store | None = None

    @property
    def pending(self) -> int:
        """Items submitted and not yet written (or failed)."""
        with self._count_lock:
            return self._submitted - self._done

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="claude-inspect-writer",
                                        daemon=True)
        self._thread.start()

    def submit(self, item: Any) -> None:
        """Queue one item for storage. Thread-safe; never blocks, never raises."""
        try:
            thread = self._thread
            if self._closing and thread is not None and not thread.is_alive():
                log.error("a capture arrived after the writer closed; it is not stored")
                with self._count_lock:
                    self.failed += 1
                return
            with self._count_lock:
                self._submitted += 1
            self._queue.put(item)
        except Exception:  # pragma: no cover - SimpleQueue.put does not fail in practice
            log.exception("could not queue a capture")

    def close(self, timeout: float | None = None) -> bool:
        """Write everything submitted so far, then stop the thread. Returns False if the
        timeout passed first (the thread then finishes in the background)."""
        if self._thread is None:
            self.start()
        if not self._closing:
            self._closing = True
            self._queue.put(_STOP)
        assert self._thread is not None
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        self._store = self._open()
        stopping = False
        while not stopping:
            items: list[Any] = []
            try:
                # idle for IDLE seconds, then a batch; a batch every PAUSE while idle
                wait = (PAUSE if self._indexing else IDLE) if self.index_when_idle else None
                first = self._queue.get(timeout=wait)
            except queue.Empty:
                self._index_some()
                continue
            except Exception:  # pragma: no cover
                continue
            if first is _STOP:
                stopping = True
            else:
                items.append(first)
            deadline = time.monotonic() + self.max_delay
            while len(items) < self.batch_size:
                wait = deadline - time.monotonic()
                try:
                    item = self._queue.get(timeout=wait) if wait > 0 and not stopping \
                        else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    continue
                items.append(item)
            if items:
                self._write_batch(items)
            # items submitted while stopping are still written before the thread ends
            if stopping and not self._queue.empty():
                stopping = False
                self._queue.put(_STOP)
        if self._store is not None:
            self._store.checkpoint()  # leave no WAL behind on a clean exit
            self._store.close()
            self._store = None

    def _index_some(self) -> None:
        """Index one batch of the search backlog; stop trying once it is done (or the
        store cannot say). A locked database is left for the next idle moment."""
        try:
            if self._store is None:
                self._store = Store(self.path, busy_timeout=self.busy_timeout)
            self._indexing = self._store.index_backlog(INDEX_BATCH) > 0
            if not self._indexing:
                self.index_when_idle = False
        except (sqlite3.Error, OSError) as e:
            self._indexing = False
            log.debug("search backlog not indexed now: %s", e)
        except Exception:
            log.exception("indexing the search backlog failed; not trying again")
            self.index_when_idle = False

    def _open(self) -> Store | None:
        """Open the database; on failure log it and let the first write retry."""
        try:
            return Store(self.path, busy_timeout=self.busy_timeout)
        except (sqlite3.Error, OSError) as e:
            log.warning("cannot open the capture database %s yet: %s", self.path, e)
            return None

    def _prepare(self, item: Any) -> Record | None:
        try:
            result = self.prepare(item)
            if result is None or isinstance(result, Record):
                return result
            item = result  # an Exchange or a Capture: store it without attribution
        except Exception:
            log.exception("preparing a capture failed; storing what can be stored")
        try:
            if isinstance(item, Record):
                return item
            if isinstance(item, Capture):
                return Record(capture=item)
            if self.fallback is not None:
                return self.fallback(item)
        except Exception:
            log.exception("capture could not be stored at all")
        return None

    @staticmethod
    def _release(item: Any) -> None:
        for name in ("request_body", "response_body"):
            body = getattr(item, name, None)
            if body is not None and hasattr(body, "close"):
                try:
                    body.close()
                except Exception:
                    pass

    def _write_batch(self, items: list[Any]) -> None:
        notes = [i for i in items if isinstance(i, (PendingStart, PendingDrop))]
        if notes:  # requests in flight: written first, so a batch's capture ends them
            items = [i for i in items if not isinstance(i, (PendingStart, PendingDrop))]
            self._write_pending(notes)
            if not items:
                return
        records: list[Record] = []
        lost = 0
        for item in items:
            rec = self._prepare(item)
            self._release(item)
            if rec is None:
                lost += 1
            else:
                records.append(rec)
        ok = self._store_with_retry(records) if records else True
        with self._count_lock:
            if ok:
                self.written += len(records)
                self.failed += lost
            else:
                self.failed += lost + len(records)
            self._done += len(items)
        if ok and records and self.on_written is not None:
            try:
                self.on_written([r.capture.id for r in records])
            except Exception:
                log.exception("on_written callback failed")

    def _write_pending(self, notes: list[Any]) -> None:
        """Pending rows are a courtesy to readers: one attempt, never retried."""
        try:
            if self._store is None:
                self._store = Store(self.path, busy_timeout=self.busy_timeout)
            with self._store.conn:
                pending.write(self._store.conn, notes)
        except (sqlite3.Error, OSError) as e:
            log.debug("pending rows not written: %s", e)
        with self._count_lock:
            self._done += len(notes)

    def _store_with_retry(self, records: list[Record]) -> bool:
        delay, start = 0.02, time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                if self._store is None:
                    self._store = Store(self.path, busy_timeout=self.busy_timeout)
                self._store.write(records)
                if attempt > 1:
                    log.info("capture batch written after %d attempts", attempt)
                return True
            except (sqlite3.Error, OSError) as e:
                if self.on_error is not None:
                    self.on_error(e)
                if time.monotonic() - start > self.retry_for:
                    log.error("giving up on %d captures after %d attempts: %s",
                              len(records), attempt, e)
                    return False
                log.warning("database error writing %d captures (%s); retry in %.2fs",
                            len(records), e, delay)
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except Exception:
                log.exception("unexpected error writing %d captures", len(records))
                return False
