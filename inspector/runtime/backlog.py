"""The recorder's waiting room: exchanges its child has not taken yet.

The proxy's loop only appends to it (no I/O). Bodies waiting in memory are bounded: past
`max_memory`, a spiller thread packs the newest exchanges into files in the temp folder
(they are read back when the child can take them), so a recorder slower than the traffic
costs disk, not memory and not captures. Past twice `max_memory` (the spiller behind),
`max_spilled` on disk, or `max_items`, exchanges are dropped and counted.
"""

from __future__ import annotations

import collections
import logging
import os
import re
import tempfile
import threading
import time
from typing import Any, Callable

from inspector.model import SPOOL_PREFIX, Exchange
from inspector.runtime.recorder_child import BODIES, close_bodies, pack

log = logging.getLogger(__name__)


class Waiting:
    """One waiting exchange: in memory, or packed into a spill file. Or a note (a request
    started, or will not be stored), already packed: `note` holds its bytes."""

    __slots__ = ("ex", "memory", "capture_id", "spill", "spill_bytes", "paths", "note")

    def __init__(self, ex: Exchange | None, memory: int = 0, note: bytes | None = None) -> None:
        self.ex: Exchange | None = ex
        self.memory = memory
        self.capture_id = ex.id if ex is not None else None
        self.spill: str | None = None
        self.spill_bytes = 0
        self.paths: list[str] = []
        self.note = note

    def packed(self) -> tuple[bytes, list[str]]:
        """The exchange as bytes for the pipe, and the body files it refers to."""
        if self.note is not None:
            return self.note, []
        if self.ex is not None:
            return pack(self.ex)
        assert self.spill is not None
        with open(self.spill, "rb") as f:
            data = f.read()
        unlink([self.spill])
        return data, self.paths

    def discard(self) -> None:
        if self.ex is not None:
            close_bodies(self.ex)
        unlink([self.spill] if self.spill else [])
        unlink(self.paths)


class Backlog:
    """Thread-safe. `put` from any thread, `get` from the feeder, one spiller thread."""

    def __init__(self, *, max_items: int, max_memory: int, max_spilled: int,
                 on_spill: Callable[[], None] | None = None) -> None:
        self.max_items = max_items
        self.max_memory = max_memory
        self.max_spilled = max_spilled
        self.on_spill = on_spill
        #: exchanges dropped here (bounds passed, or a spill file could not be written)
        self.dropped = 0
        self._cond = threading.Condition()
        self._memory: collections.deque[Waiting] = collections.deque()
        self._disk: collections.deque[Waiting] = collections.deque()
        self._memory_bytes = 0
        self._disk_bytes = 0
        self._spilling = 0  # exchanges in the spiller's hands
        self._closed = False
        self._spiller: threading.Thread | None = None

    def start(self) -> None:
        self._spiller = threading.Thread(target=self._spill_loop, name="claude-inspect-spiller",
                                         daemon=True)
        self._spiller.start()

    def __len__(self) -> int:
        return len(self._memory) + len(self._disk) + self._spilling

    @property
    def on_disk(self) -> int:
        return len(self._disk)

    def put(self, ex: Exchange) -> bool:
        """Queue `ex`; False if it was dropped instead (its bodies are freed)."""
        memory = sum(memory_bytes(getattr(ex, name)) for name in BODIES)
        with self._cond:
            full = bool(self._closed or len(self) >= self.max_items
                        or (self._memory
                            and self._memory_bytes + memory > 2 * self.max_memory))
            if full:
                self.dropped += 1
            else:
                self._memory.append(Waiting(ex, memory))
                self._memory_bytes += memory
                self._cond.notify_all()
        if full:
            close_bodies(ex)
        return not full

    def put_note(self, data: bytes) -> None:
        """Queue a note for the child (a few bytes; never dropped, never counted)."""
        with self._cond:
            if not self._closed:
                self._memory.append(Waiting(None, note=data))
                self._cond.notify_all()

    def get(self) -> Waiting | None:
        """The next waiting exchange (memory first); None once closed and empty."""
        with self._cond:
            while not self._memory and not self._disk and (not self._closed or self._spilling):
                self._cond.wait()
            if self._memory:
                item = self._memory.popleft()
                self._memory_bytes -= item.memory
                return item
            if self._disk:
                item = self._disk.popleft()
                self._disk_bytes -= item.spill_bytes
                return item
            return None

    def close(self) -> None:
        """No more puts; `get` drains what waits, then returns None."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def discard_all(self) -> int:
        """Drop everything waiting (recording has failed for good); returns how many."""
        with self._cond:
            items = [*self._memory, *self._disk]
            self._memory.clear()
            self._disk.clear()
            self._memory_bytes = self._disk_bytes = 0
            items = [item for item in items if item.note is None]
            self.dropped += len(items)
        for item in items:
            item.discard()
        return len(items)

    # -- the spiller ----------------------------------------------------------------------

    def _spill_loop(self) -> None:
        while True:
            with self._cond:
                while self._memory_bytes <= self.max_memory and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                item = self._memory.pop()  # the newest: it would be sent last
                self._memory_bytes -= item.memory
                self._spilling += 1  # `get` must not report the end while we hold one
            try:
                self._spill(item)
            finally:
                with self._cond:
                    self._spilling -= 1
                    self._cond.notify_all()

    def _spill(self, item: Waiting) -> None:
        if item.note is not None:  # a few bytes: it waits with the spilled ones
            with self._cond:
                self._disk.append(item)
                self._cond.notify_all()
            return
        ex, item.ex, item.memory = item.ex, None, 0
        assert ex is not None
        try:
            data, item.paths = pack(ex)
            with self._cond:
                room = self._disk_bytes + len(data) <= self.max_spilled
                if room:
                    self._disk_bytes += len(data)
                    item.spill_bytes = len(data)
            if room:
                fd, item.spill = tempfile.mkstemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-queue-")
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
        except Exception:  # noqa: BLE001 - a full disk: the exchange is dropped, counted
            room = False
        if not room:
            close_bodies(ex)
            item.discard()
            with self._cond:
                self._disk_bytes -= item.spill_bytes
                self.dropped += 1
            return
        with self._cond:
            first = not self._disk
            self._disk.append(item)
            self._cond.notify_all()
        if first and self.on_spill is not None:
            self.on_spill()


def memory_bytes(body: Any) -> int:
    """What a body copy costs in memory (a spooled one lives on disk)."""
    if body is None:
        return 0
    n = len(body)
    return n if n <= body.spool_bytes else 0


def unlink(paths: list[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            pass


_SPOOL_NAME = re.compile(re.escape(SPOOL_PREFIX) + r"(\d+)-")


def remove_stale_spool_files(folder: str | None = None, max_age: float = 86400.0) -> int:
    """Delete body spool files left in the temp folder by a process that no longer runs
    (they hold unredacted bodies). Files of unknown origin go once older than `max_age`."""
    folder = folder or tempfile.gettempdir()
    removed = 0
    try:
        names = [n for n in os.listdir(folder) if n.startswith(SPOOL_PREFIX)]
    except OSError:
        return 0
    for name in names:
        path = os.path.join(folder, name)
        match = _SPOOL_NAME.match(name)
        try:
            if match:
                if _alive(int(match.group(1))):
                    continue
            elif time.time() - os.stat(path).st_mtime < max_age:
                continue
            os.unlink(path)
            removed += 1
        except OSError:
            continue
    if removed:
        log.info("removed %d body files left in %s by a proxy that no longer runs",
                 removed, folder)
    return removed


def _alive(pid: int) -> bool:
    # the store has its own (`store.pending`): the forwarding process never imports the store
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
