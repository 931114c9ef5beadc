"""Mixed into a screen that has findings or threads worked out in a process of its own
(see `analysis.findings.child`): the process it started last is ended when it asks for
another (the answer it was working on is no longer wanted) and when the screen closes.
A long session's findings take seconds of a core."""

from __future__ import annotations

from typing import Any


class EndsChildProcess:
    _child: Any = None

    def child_started(self, child: Any) -> None:
        """Give as `started` to the backend: `child` is now the one that counts."""
        self.end_child()
        self._child = child

    def end_child(self) -> None:
        child, self._child = self._child, None
        if child is not None and child.poll() is None:
            child.terminate()

    def on_unmount(self) -> None:
        self.end_child()
