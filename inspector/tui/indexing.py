"""The search index's backlog, seen from the app: captures stored before text search
existed are scanned by every search until they are indexed.

A recording proxy indexes them when idle (its writer, in its own process). Browsing
without one (`--no-proxy`, or a database of another machine), nobody would: the app then
starts `claude-inspect index --quiet` beside itself (a process of its own, so indexing
never holds the app's interpreter lock), and stops it when it ends (a stopped run loses
nothing: each batch is its own transaction). The status bar shows how far it is.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class IndexWatch:
    def __init__(self, db_path: Path, drive: bool) -> None:
        """`drive`: start an index process when there is a backlog (no recorder of this
        app's own is running)."""
        self.db_path = db_path
        self.drive = drive
        self.process: subprocess.Popen | None = None

    def poll(self, backend: Any) -> tuple[int, int] | None:
        """(indexed, stored) while a backlog is left, else None. Runs in a worker."""
        progress = backend.index_progress()
        if progress is None or progress[0] >= progress[1]:
            return None
        if self.drive and self.process is None:
            self._start()
        elif self.process is not None and self.process.poll() not in (None, 0):
            # a read-only file, a full disk: searches go on scanning what is not indexed
            log.warning("indexing for search stopped (exit %s)", self.process.returncode)
            self.drive = False
            return None  # not again, and no progress to show that would never move
        return progress

    def _start(self) -> None:
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "inspector", "index", "--quiet", "--db",
                 str(self.db_path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError:
            log.warning("could not start indexing for search", exc_info=True)
            self.drive = False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
