"""Starting child processes safely from anywhere, including inside the running app.

Both children (the recorder, and the app's runtime) are started with multiprocessing's
"spawn" method: never fork a process that runs threads. Starting a spawned process also
starts multiprocessing's resource tracker, which is handed `sys.stderr.fileno()`. Inside
a running Textual app `sys.stderr` is the app's capture object, whose fileno() is -1, and
the start fails with "bad value(s) in fds_to_keep". `start_process` lends the process's
real stderr for that moment.

A child is also started with SIGINT, SIGTERM and SIGHUP blocked (the signal mask survives
the exec), so a Ctrl-C that reaches the whole process group while the child is still
importing cannot print a KeyboardInterrupt traceback from it; the child sets its own
handlers and unblocks them (`recorder_child.quiet_signals`).
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from typing import Any

CONTEXT = multiprocessing.get_context("spawn")


_BLOCKED = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None))
                 if s is not None)


def start_process(process: Any) -> None:
    """`process.start()`, with a stderr that has a file descriptor and the stopping
    signals blocked in the child until it is ready for them."""
    from multiprocessing import resource_tracker

    current = sys.stderr
    try:
        usable = current is not None and current.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if not usable and sys.__stderr__ is not None:
        sys.stderr = sys.__stderr__
    try:
        # multiprocessing starts its resource tracker on the first spawn and unblocks
        # SIGINT and SIGTERM in this thread as it does: have it running before we block
        resource_tracker.ensure_running()
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _BLOCKED)
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    finally:
        sys.stderr = current
