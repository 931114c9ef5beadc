"""Starting child processes safely from anywhere, including inside the running app.

Both children (the recorder, and the app's runtime) are started with multiprocessing's
"spawn" method: never fork a process that runs threads. Starting a spawned process also
starts multiprocessing's resource tracker, which is handed `sys.stderr.fileno()`. Inside
a running Textual app `sys.stderr` is the app's capture object, whose fileno() is -1, and
the start fails with "bad value(s) in fds_to_keep". `start_process` lends the process's
real stderr for that moment.
"""

from __future__ import annotations

import multiprocessing
import sys
from typing import Any

CONTEXT = multiprocessing.get_context("spawn")


def start_process(process: Any) -> None:
    """`process.start()`, with a stderr that has a file descriptor."""
    current = sys.stderr
    try:
        usable = current is not None and current.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable or sys.__stderr__ is None:
        process.start()
        return
    sys.stderr = sys.__stderr__
    try:
        process.start()
    finally:
        sys.stderr = current
