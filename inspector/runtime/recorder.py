"""The recorder: capture, attribution and storage in a child process, and its supervisor.

Turning an exchange into what we store (decoding, SSE reassembly, JSON parsing,
attribution, SQLite) is CPU work in Python. Run in a thread of the proxy's process it
competes with the forwarding loop for the GIL; measured on a 2-core machine, recording in
a thread halved the proxy's 32-client request rate, added 5 ms to its p99 and 18 ms to a
2 MB upload. In a child process that work runs beside the proxy instead of between its
steps: the proxy's side only pickles each exchange onto a pipe, from a feeder thread.

    proxy loop --submit--> bounded queue --feeder--> pipe --> child (recorder_child.py)
                                                                 |
    listeners <--on_written-- listener thread <---- pipe <-------+  (what became of each)
                      supervisor thread: watches the child, restarts it, says what happened

`Recorder` owns the child and never lets recording slow or stop forwarding:
- `submit` never blocks: it appends to a `Backlog` (backlog.py) that holds at most
  `max_queued_bytes` of bodies in memory and spills the rest to disk (up to
  `max_spilled_bytes`), so a slow recorder costs disk, not memory or captures. Past both
  bounds (the child stopped for long) exchanges are dropped, counted and reported.
- The supervisor notices the child's death at once (its sentinel), counts the exchanges
  it had taken and not stored, deletes their spool files (bodies over 1 MiB cross as the
  path of an unredacted temporary file), says so, and starts a new child. A child that
  keeps dying is given up on, loudly.
- Every fault reaches `on_notice(kind, text)` ("recorder_fault", "recorder_ok" when
  storing resumes, "recorder_note" for a backlog on disk) in one line naming the
  recorder or the database, for the console and the app's status bar.
- `close(timeout)` is bounded: a child that makes no progress (stopped, a database that
  refuses writes) is stopped at `timeout` and what it held is counted and said, so no
  orphan keeps files open; one that is still storing gets up to a minute.
"""

from __future__ import annotations

import atexit
import collections
import logging
import multiprocessing.connection
import pickle
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable

from inspector.model import Exchange
from inspector.runtime.backlog import Backlog, remove_stale_spool_files, unlink
from inspector.runtime.recorder_child import child_main, close_bodies, from_wire, to_wire
from inspector.runtime.spawn import CONTEXT, start_process

__all__ = ["Recorder", "from_wire", "to_wire"]

log = logging.getLogger(__name__)

Notice = Callable[[str, str], None]


class _Child:
    """One recorder process and what it was sent and has not yet accounted for."""

    def __init__(self, process: Any, items: Any, events: Any) -> None:
        self.process = process
        self.items = items
        self.events = events
        #: id -> spool files, for exchanges sent and not yet reported stored or failed
        self.inflight: dict[str, list[str]] = {}
        self.dead = False
        #: the child has opened the database (or found it unusable) and reads its pipe
        self.ready = False
        self.listener: threading.Thread | None = None
        self.last_progress = time.monotonic()


class Recorder:
    """Stores exchanges through a supervised child process. Same surface as the store's
    Writer: `start`, `submit` (thread-safe, never blocks), `close`, `written`, `failed`,
    `pending`, and `on_written(ids)` called (from a thread of ours) after each commit.
    Exchanges not stored are counted in `failed` (the database refused them), `lost` (the
    child died with them) or `dropped` (the queue was full)."""

    def __init__(self, db_path: Path | str, *, log_path: Path | str | None = None,
                 retention_days: int = 0,
                 on_written: Callable[[list[str]], None] | None = None,
                 on_notice: Notice | None = None,
                 max_queued: int = 20000, max_queued_bytes: int = 32 << 20,
                 max_spilled_bytes: int = 1 << 30,
                 max_restarts: int = 5, stall_after: float = 8.0,
                 counting: Any = None) -> None:
        self.db_path = str(db_path)
        #: a counting.worker.CountSettings for exact counts (`--exact`), or None
        self.counting = counting
        self.retention_days = retention_days
        self.log_path = str(log_path) if log_path else None
        self.on_written = on_written
        self.on_notice = on_notice
        #: restarts allowed within a minute before the recorder is given up on
        self.max_restarts = max_restarts
        #: seconds without progress, with exchanges waiting, before a stall is reported
        self.stall_after = stall_after
        self.written = self.failed = self.lost = 0
        self.restarts = 0
        self._dropped = 0
        self._submitted = 0
        self._backlog = Backlog(max_items=max_queued, max_memory=max_queued_bytes,
                                max_spilled=max_spilled_bytes, on_spill=self._spilling)
        self._cond = threading.Condition()  # guards the child, its inflight, the counts
        self._child: _Child | None = None
        self._closing = False
        self._broken = False
        self._restart_times: collections.deque[float] = collections.deque()
        self._last_progress = 0.0
        self._dropped_said = 0
        self._stall_said = False
        self._spill_said = False
        self._feeder: threading.Thread | None = None
        self._supervisor: threading.Thread | None = None

    @property
    def dropped(self) -> int:
        """Exchanges never handed to the child: the backlog was full, or recording failed."""
        return self._dropped + self._backlog.dropped

    @property
    def pending(self) -> int:
        return max(self._submitted - self.written - self.failed - self.lost - self.dropped, 0)

    @property
    def not_stored(self) -> int:
        return self.failed + self.lost + self.dropped

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        remove_stale_spool_files()
        self._child = self._spawn()
        self._feeder = threading.Thread(target=self._feed, name="claude-inspect-feeder",
                                        daemon=True)
        self._supervisor = threading.Thread(target=self._supervise,
                                            name="claude-inspect-supervisor", daemon=True)
        self._backlog.start()
        self._feeder.start()
        self._supervisor.start()
        # a process that exits without close() must not wait forever on its child
        # (multiprocessing joins children at exit): end it within a bounded time
        atexit.register(self.close, 10.0)

    def submit(self, ex: Exchange) -> None:
        """Queue one exchange for storage: a list append, no I/O (see `Backlog`). When
        recording has failed for good, or the backlog is full, it is dropped (counted and
        said)."""
        with self._cond:
            self._submitted += 1
            broken = self._closing or self._broken
            if broken:
                self._dropped += 1
        if broken:
            close_bodies(ex)
        else:
            self._backlog.put(ex)

    def announce(self, ex: Exchange) -> None:
        """A request has started: the child writes a pending row for it, which the
        capture replaces when it is stored. A list append; never blocks."""
        started = getattr(ex.timings, "started_wall", None) or time.time()
        self._note(("start", (ex.id, started, ex.method, ex.host, ex.target)))

    def forget(self, capture_id: str) -> None:
        """An announced exchange will not be submitted: its pending row goes."""
        self._note(("drop", capture_id))

    def _note(self, note: tuple) -> None:
        if not (self._closing or self._broken):
            self._backlog.put_note(pickle.dumps(note, protocol=pickle.HIGHEST_PROTOCOL))

    def _spilling(self) -> None:
        if not self._spill_said:
            self._spill_said = True
            self._say("recorder_note", "recorder is behind: exchanges wait on disk until "
                                       "it catches up")

    def close(self, timeout: float | None = None, *, while_storing: float = 60.0) -> bool:
        """Send everything queued, let the child store it, and wait for it to end.

        A child still storing at `timeout` (progress in the last 3 s) is given more time,
        up to `while_storing` seconds in all: a backlog that is being written is never
        thrown away. A child that stores nothing (stopped, or a database that refuses
        writes) is stopped at `timeout`, and what it had not stored is counted and said.
        Returns True when everything sent was accounted for."""
        if self._feeder is None:  # never started, or start() was interrupted
            child, self._child = self._child, None
            if child is not None:
                child.items.close()  # its EOF: it ends
                child.process.join(timeout if timeout is not None else 10)
                if child.process.is_alive():
                    child.process.kill()
            return True
        if self._closing and self._child is None and not self._feeder.is_alive():
            return True
        start = time.monotonic()
        deadline = None if timeout is None else start + timeout
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._backlog.close()
        assert self._feeder is not None and self._supervisor is not None
        said_waiting = False
        while True:
            step = None if deadline is None else min(_left(deadline) or 0.0, 0.5)
            self._feeder.join(step)
            child = self._child
            if child is not None:
                child.process.join(0 if self._feeder.is_alive() else step)
            clean = not self._feeder.is_alive() and (child is None
                                                     or not child.process.is_alive())
            if clean or deadline is None:
                break
            now = time.monotonic()
            if now < deadline:
                continue
            if now - self._last_progress < 3.0 and now - start < while_storing:
                if not said_waiting:
                    said_waiting = True
                    self._say("recorder_note", f"recorder is still storing {self.pending} "
                                               f"exchanges; waiting while it makes progress")
                continue
            break
        if not clean:
            before = self.not_stored
            self._kill()
            self._feeder.join(5)
            self._supervisor.join(5)
            with self._cond:
                self.lost += self.pending  # whatever is still unaccounted for
            if self.not_stored > before:
                self._say("recorder_fault",
                          f"recorder made no progress at exit and was stopped after "
                          f"{time.monotonic() - start:.0f} s; "
                          f"{self.not_stored - before} exchanges not stored")
        self._supervisor.join(5)
        return clean

    def _kill(self) -> None:
        child = self._child
        if child is None:
            return
        try:
            child.process.kill()
        except (OSError, ValueError, AttributeError):
            pass
        child.process.join(5)

    # -- the child ----------------------------------------------------------------------

    def _spawn(self) -> _Child:
        items_reader, items_writer = CONTEXT.Pipe(duplex=False)
        events_reader, events_writer = CONTEXT.Pipe(duplex=False)
        process = CONTEXT.Process(
            target=child_main, name="claude-inspect-recorder", daemon=False,
            args=(self.db_path, self.log_path, self.retention_days, items_reader, events_writer,
                  self.counting))
        start_process(process)
        items_reader.close()  # the child's ends: ours must close so EOF can happen
        events_writer.close()
        child = _Child(process, items_writer, events_reader)
        child.listener = threading.Thread(target=self._listen, args=(child,),
                                          name="claude-inspect-events", daemon=True)
        child.listener.start()
        return child

    def _listen(self, child: _Child) -> None:
        while True:
            try:
                message = child.events.recv()
            except (EOFError, OSError):
                break
            kind = message[0]
            if kind == "done":
                stored, failed = message[1], message[2]
                with self._cond:
                    for capture_id in (*stored, *failed):
                        child.inflight.pop(capture_id, None)
                    self.written += len(stored)
                    self.failed += len(failed)
                    child.last_progress = time.monotonic()
                    if stored:
                        self._last_progress = child.last_progress
                if self._stall_said:
                    self._stall_said = False
                    self._say("recorder_ok", "recorder is storing again")
                if stored and self.on_written is not None:
                    try:
                        self.on_written(list(stored))
                    except Exception:
                        log.exception("on_written failed")
            elif kind == "working":
                child.last_progress = self._last_progress = time.monotonic()
            elif kind == "ready":
                child.ready = True
                child.last_progress = time.monotonic()
            elif kind == "problem":
                self._say("recorder_fault", message[1])
            elif kind == "ok":
                self._say("recorder_ok", message[1])

    # -- our threads ------------------------------------------------------------------

    def _feed(self) -> None:
        while (item := self._backlog.get()) is not None:
            if item.note is not None:
                self._send_note(item.note)
                continue
            try:
                data, paths = item.packed()
            except Exception:
                log.exception("a capture could not be packed for the recorder")
                item.discard()
                with self._cond:
                    self.failed += 1
                continue
            self._deliver(item.capture_id, data, paths)
        child = self._child
        if child is not None:
            try:
                child.items.close()  # the child's EOF: it stores what it has, then ends
            except OSError:
                pass

    def _send_note(self, data: bytes) -> None:
        """Notes are best effort: a child that is not there does not get them (a new
        one deletes the pending rows the dead one left, see `store.pending`)."""
        child = self._child
        if child is None or child.dead:
            return
        try:
            child.items.send_bytes(data)
        except (OSError, ValueError):
            pass

    def _deliver(self, capture_id: str, data: bytes, paths: list[str]) -> None:
        """Send one packed exchange to the live child; if it dies under us, to the next."""
        while True:
            with self._cond:
                while (self._child is None or self._child.dead) and not self._broken:
                    if self._closing and self._child is None:
                        break
                    self._cond.wait(0.5)
                child = self._child
                if child is None or child.dead or self._broken:
                    self.lost += 1
                    unlink(paths)
                    return
                if not child.inflight:  # a stall is counted from the first waiting one
                    child.last_progress = time.monotonic()
                child.inflight[capture_id] = paths
            try:
                child.items.send_bytes(data)
                return
            except (OSError, ValueError):
                with self._cond:
                    mine = child.inflight.pop(capture_id, None) is not None
                if not mine:  # the supervisor counted it with the dead child
                    return
                with self._cond:  # wait for the supervisor to notice the death
                    while self._child is child and not child.dead and not self._broken:
                        self._cond.wait(0.5)

    def _supervise(self) -> None:
        while True:
            child = self._child
            if child is None:
                return
            ended = multiprocessing.connection.wait([child.process.sentinel], timeout=1.0)
            self._report_drops()
            if not ended:
                self._check_stall(child)
                continue
            child.process.join()
            if child.listener is not None:
                child.listener.join(5)  # every report the child sent is counted first
            with self._cond:
                child.dead = True
                inflight, child.inflight = child.inflight, {}
                self.lost += len(inflight)
                self._cond.notify_all()
            for paths in inflight.values():
                unlink(paths)
            code = child.process.exitcode
            if self._closing and code == 0:
                with self._cond:
                    self._child = None
                    self._cond.notify_all()
                return
            how = _describe_exit(code)
            lost = f"{len(inflight)} exchange{'' if len(inflight) == 1 else 's'} lost"
            if self._closing or not self._may_restart():
                with self._cond:
                    self._child = None
                    self._broken = not self._closing
                    self._cond.notify_all()
                if not self._closing:
                    self._say("recorder_fault",
                              f"recorder keeps stopping ({how}): not recording; {lost}")
                    self._discard_queue()
                elif code is not None and code != -signal.SIGKILL:
                    self._say("recorder_fault", f"recorder stopped unexpectedly ({how}); {lost}")
                return
            try:
                new = self._spawn()
            except Exception as e:  # noqa: BLE001 - said below, recording stops
                with self._cond:
                    self._child, self._broken = None, True
                    self._cond.notify_all()
                self._say("recorder_fault", f"recorder stopped ({how}) and could not be "
                                            f"restarted ({e}): not recording; {lost}")
                self._discard_queue()
                return
            with self._cond:
                self.restarts += 1
                self._child = new
                self._cond.notify_all()
            self._say("recorder_fault", f"recorder stopped unexpectedly ({how}), restarted; {lost}")

    def _may_restart(self) -> bool:
        now = time.monotonic()
        times = self._restart_times
        while times and now - times[0] > 60:
            times.popleft()
        if len(times) >= self.max_restarts:
            return False
        times.append(now)
        return True

    def _discard_queue(self) -> None:
        self._backlog.close()
        self._backlog.discard_all()

    def _report_drops(self) -> None:
        if self._spill_said and not self._backlog.on_disk:
            self._spill_said = False
            self._say("recorder_note", "recorder has caught up with its backlog")
        dropped = self.dropped
        if dropped > self._dropped_said and not self._broken:
            new = dropped - self._dropped_said
            self._dropped_said = dropped
            self._say("recorder_fault",
                      f"recorder is not keeping up: {new} more exchanges not stored "
                      f"({dropped} in all); forwarding goes on")

    def _check_stall(self, child: _Child) -> None:
        if self._stall_said or not child.inflight:
            return
        # a child still starting (imports, migrations: slow on a busy machine) gets longer
        limit = self.stall_after if child.ready else max(self.stall_after, 60.0)
        if time.monotonic() - child.last_progress > limit:
            self._stall_said = True
            self._say("recorder_fault",
                      f"recorder has stored nothing for {limit:.0f} s "
                      f"({len(child.inflight) + len(self._backlog)} exchanges waiting); "
                      f"is it stopped?")

    def _say(self, kind: str, text: str) -> None:
        if self.on_notice is None:
            (log.warning if kind == "recorder_fault" else log.info)("%s", text)
            return
        try:
            self.on_notice(kind, text)
        except Exception:
            log.exception("on_notice failed")


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "no exit code"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exit code {code}"
