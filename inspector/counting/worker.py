"""Exact counting beside the recorder (`--exact`).

The recorder stores each capture with estimated shares at once; `Counter` then counts
its parts with count_tokens on a thread of its own and replaces the stored tree when the
counts are in. Forwarding never waits on it (it runs in the recorder's process), nor
does storing (a capture is stored before it is counted). The credentials of each request
are taken from the raw headers in the recorder's memory, used for that request's counts
and dropped with the job; they are never stored, logged or passed on.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from inspector.counting.apply import apply_counts
from inspector.counting.cache import CountCache
from inspector.counting.client import CountClient, Credentials, Pacer, Upstream
from inspector.counting.measure import DEFAULT_BUDGET, measure
from inspector.model import Exchange, Node

log = logging.getLogger(__name__)

_STOP = object()


@dataclass
class CountSettings:
    """What the recorder needs to count: built from the config when `exact` is on."""

    upstream: Upstream = field(default_factory=Upstream)
    budget: int = DEFAULT_BUDGET


def is_messages_call(method: str, path: str) -> bool:
    return method == "POST" and path.split("?")[0].rstrip("/") == "/v1/messages"


@dataclass
class _Job:
    id: str
    request: dict[str, Any]
    root: Node
    usage: Any
    model: str | None
    origin: tuple[str, str, int]
    credentials: Credentials


class Counter:
    """Counts captured Messages requests and updates their stored trees."""

    def __init__(self, db_path: Path | str, settings: CountSettings, max_pending: int = 256) -> None:
        self.db_path = str(db_path)
        self.settings = settings
        self.pacer = Pacer(settings.upstream.per_minute)
        self.counted = 0
        self.skipped = 0
        self._jobs: queue.Queue[Any] = queue.Queue(max_pending)
        self._offered: set[str] = set()
        self._committed: set[str] = set()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clients: dict[tuple[str, str, int], CountClient] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="claude-inspect-counter", daemon=True)
        self._thread.start()

    def wrap(self, prepare: Callable[[Exchange], Any]) -> Callable[[Exchange], Any]:
        """`prepare` (exchange -> Record) that also hands each Messages call to us."""
        def prepare_and_offer(ex: Exchange) -> Any:
            credentials = Credentials.from_headers(ex.request_headers)
            origin = (ex.scheme, ex.host, ex.port)
            record = prepare(ex)
            try:
                self.offer(record, credentials, origin)
            except Exception:
                log.exception("exact counting could not take %s", record.capture.id)
            return record
        return prepare_and_offer

    def offer(self, record: Any, credentials: Credentials | None, origin: tuple[str, str, int]) -> None:
        c = record.capture
        if (credentials is None or record.attribution is None or c.status != 200
                or not isinstance(c.request_json, dict) or not is_messages_call(c.method, c.path)):
            return
        job = _Job(c.id, c.request_json, copy.deepcopy(record.attribution), c.usage, c.model,
                   origin, credentials)
        with self._cond:
            self._offered.add(c.id)
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            with self._cond:
                self._offered.discard(c.id)
            self.skipped += 1
            log.warning("exact counting is behind; %s keeps its estimates", c.id)

    def committed(self, ids: list[str]) -> None:
        with self._cond:
            self._committed.update(i for i in ids if i in self._offered)
            self._cond.notify_all()

    def close(self, grace: float = 5.0) -> None:
        """Finish what `grace` seconds allow, then stop: requests not yet counted keep
        their estimates (`claude-inspect count` can count them later)."""
        try:
            self._jobs.put(_STOP, timeout=grace)
        except queue.Full:
            pass
        if self._thread is not None:
            self._thread.join(grace)
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(2.0)
        for client in self._clients.values():
            client.close()

    def _run(self) -> None:
        from inspector.store import Store

        cache = CountCache(self.db_path)
        store = Store(self.db_path)
        try:
            while not self._stop.is_set():
                job = self._jobs.get()
                if job is _STOP:
                    break
                try:
                    self._count(job, cache, store)
                except Exception:
                    log.exception("exact counting failed for %s", job.id)
                finally:
                    job.credentials = None  # type: ignore[assignment]
                    with self._cond:
                        self._offered.discard(job.id)
                        self._committed.discard(job.id)
        finally:
            cache.close()
            store.close()

    def _count(self, job: _Job, cache: CountCache, store: Any) -> None:
        client = self._clients.get(job.origin)
        if client is None:
            client = self._clients[job.origin] = CountClient(*job.origin, self.settings.upstream,
                                                             self.pacer)
        counts = measure(job.request, job.root, client, cache, job.credentials,
                         self.settings.budget, self._stop)
        if not counts.exact and counts.full is None and not counts.notes:
            return
        root = apply_counts(job.root, counts, job.usage, job.model)  # partial counts too
        with self._cond:  # the estimated tree must be stored before we replace it
            self._cond.wait_for(lambda: job.id in self._committed or self._stop.is_set(), 30)
            stored = job.id in self._committed
        if not stored:
            return  # the capture itself was not stored
        from inspector.attribution import cost

        store.set_attribution(job.id, root, cost(job.model, job.usage) if job.model else None)
        self.counted += 1
        log.info("counted %s: %d calls, %d from cache", job.id, counts.calls, counts.cached)
