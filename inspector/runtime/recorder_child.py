"""The recorder child process, and the wire format of the exchanges it is sent.

The child reads exchanges from its input pipe until EOF, turns each into a record
(`pipeline.prepare_record`) and stores it through the store's `Writer`. It tells the parent
what became of every exchange it took, so the parent knows exactly which ones a crash
loses, and it says in one line when the database cannot take captures:

    ("ready", usable)                  started; the database takes captures (or not)
    ("working", None)                  preparing a batch (at most twice a second)
    ("done", stored_ids, failed_ids)   after each batch (failed: could not be stored)
    ("problem", text)                  the database refuses captures ("... is not a database")
    ("ok", text)                       it takes them again

Memory stays bounded whatever the database does: the child stops reading its pipe while
its writer has a backlog, so a slow or failing disk backs up into the parent's bounded
queue (which counts what it drops) instead of into this process. While the database is
unusable, exchanges are discarded at once (and counted) and the database is tried again
every few seconds.

The child ignores SIGINT, SIGTERM and SIGHUP (a Ctrl-C reaches the whole process group;
the parent decides when recording ends) and ends when its input pipe closes, after
storing what it was sent, even if the parent died.
"""

from __future__ import annotations

import collections
import logging
import pickle
import signal
import sqlite3
import threading
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

from inspector.model import CapturedBody, Exchange

log = logging.getLogger(__name__)

BODIES = ("request_body", "response_body")
_FIELDS = tuple(f.name for f in fields(Exchange) if f.name not in BODIES)
#: exchanges the child's writer may hold before the child stops reading its pipe (what a
#: crash of the child can lose; the parent's queue holds the rest)
BACKLOG = 64
#: seconds between attempts to use a database that refused captures
RETRY_DATABASE = 3.0
#: signals the children ignore (the parent decides when they end)
QUIET_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None))
                      if s is not None)


def pack(ex: Exchange) -> tuple[bytes, list[str]]:
    """An exchange as bytes for the pipe, and the spool files they refer to (which the
    receiver will own). The bodies are detached from `ex`."""
    state: dict[str, Any] = {name: getattr(ex, name) for name in _FIELDS}
    paths = []
    for name in BODIES:
        body: CapturedBody | None = getattr(ex, name)
        if body is None:
            state[name] = None
        else:
            data, path = body.detach()
            if path is not None:
                paths.append(path)
            state[name] = (data, path, body.size, body.truncated, body.limit)
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), paths


def to_wire(ex: Exchange) -> bytes:
    return pack(ex)[0]


def from_wire(data: bytes) -> Exchange:
    return from_state(pickle.loads(data))


def from_state(state: dict[str, Any]) -> Exchange:
    for name in BODIES:
        part = state[name]
        if part is not None:
            body, path, size, truncated, limit = part
            state[name] = CapturedBody.adopt(body, path, size=size, truncated=truncated,
                                             limit=limit)
    return Exchange(**state)


def close_bodies(ex: Any) -> None:
    for name in BODIES:
        body = getattr(ex, name, None)
        if body is not None:
            body.close()


def describe_database_error(path: Path | str, error: BaseException) -> str:
    """What a database error means for recording, in words a user acts on."""
    name = Path(path).name
    text = str(error).strip() or type(error).__name__
    if "not a database" in text or "malformed" in text:
        return f"{name} is not a database (or is damaged): not recording; --db names another file"
    if "full" in text:
        return f"{name}: the disk is full: captures are not stored"
    if "disk I/O" in text or isinstance(error, OSError):
        return f"{name}: writing failed ({text}; disk full?): captures are not stored"
    if "readonly" in text or "read-only" in text:
        return f"{name} is read-only: not recording"
    if "unable to open" in text:
        return f"{name} cannot be opened (missing folder or no permission): not recording"
    if "locked" in text or "busy" in text:
        return f"{name} is locked by another program: captures wait"
    return f"{name}: {text}: captures are not stored"


def quiet_signals() -> None:
    """Ignore the signals a terminal sends the whole group, then take delivery of any that
    arrived while the parent kept them blocked over our start (see `spawn`)."""
    for sig in QUIET_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, QUIET_SIGNALS)


def child_main(db_path: str, log_path: str | None, retention_days: int, items: Any,
               events: Any, counting: Any = None) -> None:
    """The recorder process (see the module's docstring)."""
    quiet_signals()
    # A log file on a full disk must not print a traceback per line to the terminal.
    logging.raiseExceptions = False
    root = logging.getLogger()
    if log_path:
        try:
            handler = logging.FileHandler(log_path, encoding="utf-8")
            handler.setFormatter(logging.Formatter(
                "%(asctime)s %(levelname)s recorder %(name)s: %(message)s"))
            root.addHandler(handler)
            root.setLevel(logging.INFO)
        except OSError:
            root.addHandler(logging.NullHandler())
    else:
        root.addHandler(logging.NullHandler())
    ChildRecorder(db_path, retention_days, items, events, counting).run()


class ChildRecorder:
    """The loop of the recorder process: pipe in, writer out, reports back."""

    def __init__(self, db_path: str, retention_days: int, items: Any, events: Any,
                 counting: Any = None) -> None:
        self.db_path = db_path
        self.counting = counting  # exact counts on a thread of this process (counting/)
        self._counter: Any = None
        self.retention_days = retention_days
        self.items = items
        self.events = events
        self._send_lock = threading.Lock()
        self._order: collections.deque[str] = collections.deque()
        self._order_lock = threading.Lock()
        self._problem: str | None = None
        self._writer: Any = None
        self._last_beat = 0.0

    def send(self, message: tuple) -> None:
        with self._send_lock:
            try:
                self.events.send(message)
            except (OSError, ValueError):
                pass  # the parent is gone; storing goes on regardless

    # -- the database's health ---------------------------------------------------------

    def _set_problem(self, text: str | None) -> None:
        if text == self._problem:
            return
        previous, self._problem = self._problem, text
        if text is not None:
            log.warning("%s", text)
            self.send(("problem", text))
        elif previous is not None:
            message = f"{Path(self.db_path).name} takes captures again: recording"
            log.info("%s", message)
            self.send(("ok", message))

    def _open(self) -> bool:
        """Prepare the database and start the writer; False (and a problem said) if the
        database cannot take captures."""
        from inspector.runtime.pipeline import prepare_database, prepare_record
        from inspector.store import Store, Writer

        try:
            Store(self.db_path, busy_timeout=2.0).close()  # raises what prepare only logs
            prepare_database(self.db_path, self.retention_days)
        except (sqlite3.Error, OSError) as e:
            self._set_problem(describe_database_error(self.db_path, e))
            return False
        prepare_one = prepare_record
        if self.counting is not None:
            from inspector.counting.worker import Counter

            if self._counter is None:
                self._counter = Counter(self.db_path, self.counting)
                self._counter.start()
            prepare_one = self._counter.wrap(prepare_record)

        def prepare(ex: Exchange) -> Any:
            self._beat()
            return prepare_one(ex)

        # while idle, the writer indexes captures stored before the search index existed
        self._writer = Writer(self.db_path, prepare=prepare, on_written=self._stored,
                              on_error=self._write_failed, index_when_idle=True)
        self._writer.start()
        self._set_problem(None)
        return True

    @staticmethod
    def _pending(note: tuple) -> Any:
        from inspector.runtime.pipeline import pending_item

        return pending_item(note)

    def _beat(self) -> None:
        """Tell the parent we are working through a batch (at most twice a second): a
        batch of big exchanges can take seconds before its commit reports anything."""
        now = time.monotonic()
        if now - self._last_beat >= 0.5:
            self._last_beat = now
            self.send(("working", None))

    def _write_failed(self, error: BaseException) -> None:
        self._set_problem(describe_database_error(self.db_path, error))

    # -- what became of each exchange ---------------------------------------------------

    def _stored(self, ids: list[str]) -> None:
        """The writer committed `ids`. It works in order, so every exchange taken before
        the last of them that was not stored could not be: report both."""
        remaining = set(ids)
        failed = []
        with self._order_lock:
            while remaining and self._order:
                first = self._order.popleft()
                if first in remaining:
                    remaining.discard(first)
                else:
                    failed.append(first)
        self._set_problem(None)
        if failed and self._writer is not None:
            from inspector.store.pending import PendingDrop

            for capture_id in failed:
                self._writer.submit(PendingDrop(capture_id))
        if self._counter is not None:
            self._counter.committed(ids)
        self.send(("done", ids, failed))

    def _discard(self, ex: Exchange) -> None:
        close_bodies(ex)
        self.send(("done", [], [ex.id]))

    # -- the loop ---------------------------------------------------------------------

    def run(self) -> None:
        ready = self._open()
        self.send(("ready", ready))
        last_try = time.monotonic()
        while True:
            while ready and self._writer.pending >= BACKLOG:
                time.sleep(0.02)  # let the pipe fill: the parent counts what it drops
            try:
                data = self.items.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                state = pickle.loads(data)
                if isinstance(state, tuple):  # a note: a request started, or is dropped
                    if ready:
                        self._writer.submit(self._pending(state))
                    continue
                ex = from_state(state)
            except Exception:
                log.exception("a capture could not be read from the pipe")
                continue
            if not ready and time.monotonic() - last_try > RETRY_DATABASE:
                last_try = time.monotonic()
                ready = self._open()
            if not ready:
                self._discard(ex)
                continue
            with self._order_lock:
                self._order.append(ex.id)
            self._writer.submit(ex)
        if self._writer is not None:
            self._writer.close()
        if self._counter is not None:
            self._counter.close()
        with self._order_lock:
            left = list(self._order)
            self._order.clear()
        if left:
            self.send(("done", [], left))
        try:
            self.events.close()
        except OSError:
            pass
