"""The request under the main table's cursor, read and prepared for the detail view
before Enter asks for it.

Opening a request reads it from the store (decompressing and joining its parts) and makes
what the detail view shows of it (`Loaded`: the transcript's blocks, the tree, a search's
hits): 60-80 ms of a 1 MB request's open, before anything is drawn. While the cursor rests
on a row, the main screen has that done in a thread; the detail view takes the result
instead of reading the request again.

A result is kept only while nothing was committed to the database since its read began
(`PRAGMA data_version` on the backend's watch connection): exact token counts, a
re-attribution or a rating may rewrite a stored request in place, and a stale view would
be shown as the truth. One result is kept at a time (a long request's is tens of MB);
the detail view that takes it owns it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from inspector.tui.widgets.detail.loaded import Loaded

log = logging.getLogger(__name__)


class ReadAhead:
    """At most one request read ahead; thread-safe."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._lock = threading.Lock()
        #: (capture id, search, change token when its read began, what was made)
        self._kept: tuple[str, str | None, int, Loaded] | None = None

    def make(self, capture_id: str, search: str | None,
             cancelled: Callable[[], bool] = lambda: False) -> None:
        """Read and prepare `capture_id` as a detail view opened with `search` would (run
        in a worker thread). Failures are left for the detail view to meet and report."""
        try:
            token = self.backend.change_token()
            if token is None:
                return
            with self._lock:
                if self._kept is not None and self._kept[:3] == (capture_id, search, token):
                    return  # made already, and still current
            exchange = self.backend.exchange(capture_id)
            if not exchange or cancelled():
                return
            loaded = Loaded.make(exchange, search)
        except Exception:
            log.debug("reading %s ahead failed", capture_id, exc_info=True)
            return
        with self._lock:
            self._kept = (capture_id, search, token, loaded)

    def take(self, capture_id: str, search: str | None) -> Loaded | None:
        """What was made for `capture_id` under `search`, if nothing was committed since
        it was read; the caller owns it (it is kept no longer)."""
        with self._lock:
            kept = self._kept
            if kept is None or kept[:2] != (capture_id, search):
                return None
            self._kept = None
        try:
            current = self.backend.change_token() == kept[2]
        except Exception:  # the watch connection failed: read the request again
            current = False
        return kept[3] if current else None
