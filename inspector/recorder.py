"""The recorder: capture, attribution and storage in a child process.

Turning an exchange into what we store (decoding, SSE reassembly, JSON parsing,
attribution, SQLite) is CPU work in Python. Run in a thread of the proxy's process it
competes with the forwarding loop for the GIL; measured on a 2-core machine, recording in
a thread halved the proxy's 32-client request rate, added 5 ms to its p99 and 18 ms to a
2 MB upload. In a child process that work runs beside the proxy instead of between its
steps: the proxy's side only pickles each exchange onto a pipe, from a feeder thread.

    proxy loop --submit--> queue --feeder thread--> pipe --> child: Writer(prepare_record)
                                                                 |
    listeners <--on_written-- events thread <------ pipe <-------+  (ids as committed)

A spooled body (over 1 MiB) crosses as the path of its spool file, so a 50 MB reply never
passes through the pipe or the proxy's memory. The child ignores SIGINT and SIGTERM (a
Ctrl-C reaches the whole process group) and ends when its input pipe closes: it drains
what it was sent first, even if the parent died.
"""

from __future__ import annotations

import logging
import pickle
import queue
import signal
import threading
from dataclasses import fields
from pathlib import Path
from typing import Any, Callable

from inspector.model import CapturedBody, Exchange
from inspector.spawn import CONTEXT, start_process

log = logging.getLogger(__name__)

_STOP = object()
_BODIES = ("request_body", "response_body")
_FIELDS = tuple(f.name for f in fields(Exchange) if f.name not in _BODIES)


def to_wire(ex: Exchange) -> bytes:
    """An exchange as bytes for the pipe; the bodies are detached from `ex`."""
    state: dict[str, Any] = {name: getattr(ex, name) for name in _FIELDS}
    for name in _BODIES:
        body: CapturedBody | None = getattr(ex, name)
        if body is None:
            state[name] = None
        else:
            data, path = body.detach()
            state[name] = (data, path, body.size, body.truncated, body.limit)
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def from_wire(data: bytes) -> Exchange:
    state = pickle.loads(data)
    for name in _BODIES:
        part = state[name]
        if part is not None:
            body, path, size, truncated, limit = part
            state[name] = CapturedBody.adopt(body, path, size=size, truncated=truncated,
                                             limit=limit)
    return Exchange(**state)


class Recorder:
    """Stores exchanges through a child process. Same surface as the store's Writer:
    `start`, `submit` (thread-safe, never blocks), `close` (drains), `written`, `failed`,
    `pending`, and `on_written(ids)` called (from a thread of ours) after each commit."""

    def __init__(self, db_path: Path | str, *, log_path: Path | str | None = None,
                 retention_days: int = 0,
                 on_written: Callable[[list[str]], None] | None = None,
                 counting: Any = None) -> None:
        self.db_path = str(db_path)
        #: a counting.CountSettings for exact counts (`--exact`), or None
        self.counting = counting
        self.retention_days = retention_days
        self.log_path = str(log_path) if log_path else None
        self.on_written = on_written
        self.written = 0
        self.failed = 0
        self._submitted = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._process: Any = None
        self._items: Any = None
        self._events: Any = None
        self._feeder: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self._closed = False

    @property
    def pending(self) -> int:
        return max(self._submitted - self.written - self.failed, 0)

    def start(self) -> None:
        items_reader, items_writer = CONTEXT.Pipe(duplex=False)
        events_reader, events_writer = CONTEXT.Pipe(duplex=False)
        self._process = CONTEXT.Process(
            target=child_main, name="claude-inspect-recorder", daemon=False,
            args=(self.db_path, self.log_path, self.retention_days, items_reader, events_writer,
                  self.counting))
        start_process(self._process)
        items_reader.close()  # the child's ends: ours must close so EOF can happen
        events_writer.close()
        self._items, self._events = items_writer, events_reader
        self._feeder = threading.Thread(target=self._feed, name="claude-inspect-feeder",
                                        daemon=True)
        self._listener = threading.Thread(target=self._listen, name="claude-inspect-events",
                                          daemon=True)
        self._feeder.start()
        self._listener.start()

    def submit(self, ex: Exchange) -> None:
        if self._closed:
            log.error("a capture arrived after the recorder closed; it is not stored")
            self.failed += 1
            _close_bodies(ex)
            return
        self._submitted += 1
        self._queue.put(ex)

    def close(self, timeout: float | None = None) -> bool:
        """Send everything submitted, let the child store it, and wait for it to end.
        Returns False if `timeout` passed first (the child then finishes on its own)."""
        if self._process is None:
            return True
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
        assert self._feeder is not None and self._listener is not None
        self._feeder.join(timeout)
        self._process.join(timeout)
        self._listener.join(1 if timeout is None else min(timeout, 1))
        return not self._process.is_alive()

    # -- our threads ------------------------------------------------------------------

    def _feed(self) -> None:
        while True:
            ex = self._queue.get()
            if ex is _STOP:
                break
            data = None
            try:
                data = to_wire(ex)
                self._items.send_bytes(data)
            except (OSError, ValueError, pickle.PicklingError):
                if self.failed == 0:
                    log.exception("the recorder process is gone: captures are not stored")
                self.failed += 1
                _close_bodies(ex)
                if data is not None:  # the detached bodies' spool files are ours again
                    again = from_wire(data)
                    for body in (again.request_body, again.response_body):
                        if body is not None:
                            body.close()
        try:
            self._items.close()  # the child's EOF: drain and stop
        except OSError:
            pass

    def _listen(self) -> None:
        while True:
            try:
                kind, value = self._events.recv()
            except (EOFError, OSError):
                break
            if kind == "stored":
                self.written += len(value)
                if self.on_written is not None:
                    try:
                        self.on_written(value)
                    except Exception:
                        log.exception("on_written failed")
            elif kind == "failed":
                self.failed += value


def _close_bodies(ex: Exchange) -> None:
    for name in _BODIES:
        body = getattr(ex, name)
        if body is not None:
            body.close()


def child_main(db_path: str, log_path: str | None, retention_days: int, items: Any,
               events: Any, counting: Any = None) -> None:
    """The recorder process: prepare the database, then read exchanges until EOF, store
    them and report their ids."""
    for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:  # a closed terminal hangs up the whole group: drain, then end
            signal.signal(sig, signal.SIG_IGN)
    root = logging.getLogger()
    if log_path:
        handler = logging.FileHandler(log_path, encoding="utf-8")
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s recorder %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    else:
        root.addHandler(logging.NullHandler())

    from inspector.pipeline import prepare_database, prepare_record
    from inspector.store import Writer

    prepare_database(db_path, retention_days)

    lock = threading.Lock()

    counter = None
    if counting is not None:  # exact counts, on a thread of this process (see counting/)
        from inspector.counting.worker import Counter
        counter = Counter(db_path, counting)
        counter.start()

    def report(ids: list[str]) -> None:
        if counter is not None:
            counter.committed(ids)
        with lock:
            events.send(("stored", ids))

    writer = Writer(db_path, prepare=counter.wrap(prepare_record) if counter else prepare_record,
                    on_written=report)
    writer.start()
    while True:
        try:
            data = items.recv_bytes()
        except (EOFError, OSError):
            break
        try:
            writer.submit(from_wire(data))
        except Exception:
            log.exception("a capture could not be read from the pipe")
            with lock:
                events.send(("failed", 1))
    writer.close()
    if counter is not None:
        counter.close()
    if writer.failed:
        with lock:
            events.send(("failed", writer.failed))
    events.close()
