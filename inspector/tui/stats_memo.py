"""Stats figures kept between visits to the Stats view, and worked out before the first.

On 100k captures one grouping of a period takes 0.1-0.7 s of SQLite; the view must show
within 200 ms of `t`. So the figures of each (period, grouping) are kept with the store's
change-feed position they were computed at, the app works out the view's first figures
(the last 7 days by source, by day, by session) once it is idle after its first paint,
and the view shows what is kept at once and computes again only what is out of date: the
store changed since, or the figures are older than FRESH (a period ends now, so its
start moves).

Thread-safe: computed in worker threads, read on the UI thread.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

#: seconds figures of a period ending now stand for, the store unchanged
FRESH = 60.0
#: what the Stats view shows first: its default period, its table's grouping, then the
#: plots' and the top lists'
FIRST = (("7d", "source"), ("7d", "day"), ("7d", "session"))


@dataclass(frozen=True)
class Kept:
    result: dict[str, Any] | None
    seq: int  # the store's change feed position when computed
    at: float  # time.monotonic() when computed

    def current(self, seq: int) -> bool:
        return self.seq == seq and time.monotonic() - self.at < FRESH


class StatsMemo:
    """(period, grouping) -> the figures last computed for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, str], Kept] = {}

    def get(self, period: str, by: str) -> Kept | None:
        with self._lock:
            return self._kept.get((period, by))

    def figures(self, backend: Any, period: str, by: str, now: float, seq: int,
                notice: Callable[[int], None] | None = None, force: bool = False
                ) -> dict[str, Any] | None:
        """Figures for `period` (a key of `figures.PERIODS`) ending at `now` (epoch
        seconds), grouped `by`: those kept if current at the store's feed position `seq`
        (read before, so later writes make them stale), else (or with `force`) computed
        and kept. Runs in a worker thread."""
        from inspector.tui.widgets.stats import figures

        kept = self.get(period, by)
        if kept is not None and kept.current(seq) and not force:
            return kept.result
        seconds = figures.period_seconds(period)
        result = backend.stats(None if seconds is None else now - seconds, None, by, notice)
        with self._lock:
            self._kept[(period, by)] = Kept(result, seq, time.monotonic())
        return result

    def warm(self, backend: Any, now: Callable[[], float],
             cancelled: Callable[[], bool] = lambda: False) -> None:
        """Compute what the Stats view shows first, unless it is kept and current."""
        seq = backend.seq()
        for period, by in FIRST:
            if cancelled():
                return
            self.figures(backend, period, by, now(), seq)
