"""Findings, and a session's threads, worked out in a process of their own, for the app.

Reading a period means parsing every request of it: 5 s for the findings of one request
of a 300-turn session (its 300 requests of a megabyte each), a minute for a busy week,
1.4 s for that session's threads. In the app's process that work held the interpreter's
lock from its UI loop all along (and the analysis connection from the Stats view, diffs
and ratings). Here a child process does it and tells, a JSON line at a time:

    {"total": N}               requests in the period, first
    {"read": n}                requests read so far, every hundred
    {"found": [finding, ...]}  a session's findings, as each is done
    {"threads": [group, ...]}  with --threads: the session's threads (`session_tree`)
    {"end": true}              all done
    {"error": "..."}           it failed (and ends)

`spawn` starts a module of this package in a child that imports this very checkout
(the marks process uses it too); `open_store` opens the database without writing to it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any, Callable

from inspector.analysis.findings.model import Finding


def spawn(module: str, *args: str) -> subprocess.Popen[str]:
    """`python -m module args...`, talking JSON lines over its stdin and stdout."""
    import inspector

    # the child imports this very checkout of the package, however the app was started
    root = str(Path(inspector.__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    env = dict(os.environ, PYTHONPATH=root + (os.pathsep + path if path else ""))
    return subprocess.Popen([sys.executable, "-m", module, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)


def open_store(db_path: str) -> Any:
    """The store, read-only (findings never write); immutable where even reading would
    need to write (a read-only folder with a journal to replay)."""
    import sqlite3

    from inspector.store import Store

    try:
        return Store(db_path, readonly=True)
    except sqlite3.OperationalError:
        return Store(db_path, immutable=True)


def serve(argv: list[str], out: IO[str]) -> None:
    """The child: find, and say so a line at a time (see the module's text)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--since", type=float)
    parser.add_argument("--until", type=float)
    parser.add_argument("--session")
    parser.add_argument("--kind", action="append")
    parser.add_argument("--threads", action="store_true",
                        help="the session's threads instead of findings")
    args = parser.parse_args(argv)

    def say(message: dict[str, Any]) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    try:
        from inspector.analysis.findings import find
        from inspector.store.queries import Filter, count_requests

        store = open_store(args.db)
        if args.threads:
            from inspector.analysis.findings import load_sessions
            from inspector.analysis.findings.threads import session_tree

            found = load_sessions(store, session=args.session)
            say({"threads": session_tree(found.get(args.session, []))})
        else:
            say({"total": count_requests(store, Filter(since=args.since, until=args.until,
                                                       session=args.session))})
            find(store, since=args.since, until=args.until, session=args.session,
                 kinds=args.kind, progress=lambda n: say({"read": n}),
                 each=lambda found: say({"found": [f.to_dict() for f in found]}))
        store.close()
        say({"end": True})
    except BrokenPipeError:  # the app went away, or no longer wants the answer
        pass
    except Exception as e:  # noqa: BLE001 - told to the app, which shows it
        say({"error": f"{type(e).__name__}: {e}"})


def find_in_child(db_path: str | Path, since: float | None = None,
                  until: float | None = None, session: str | None = None,
                  kinds: tuple[str, ...] | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  each: Callable[[list[Finding]], None] | None = None,
                  cancelled: Callable[[], bool] = lambda: False,
                  started: Callable[[subprocess.Popen[str]], None] | None = None,
                  ) -> list[Finding] | None:
    """`find`'s answer, worked out in a child process: the findings, most actionable
    first, or None when `cancelled()` said so first (the child is ended then).
    `started(process)` hears of the child (to end it when the app closes). RuntimeError
    when the child fails."""
    args = [str(db_path)]
    for flag, value in (("--since", since), ("--until", until), ("--session", session)):
        if value is not None:
            args += [flag, str(value)]
    for kind in kinds or ():
        args += ["--kind", kind]
    found: list[Finding] = []
    total = [0]

    def heard(message: dict[str, Any]) -> None:
        if "total" in message:
            total[0] = message["total"]
        elif "read" in message and progress is not None:
            progress(message["read"], total[0])
        elif "found" in message:
            batch = [Finding(**f) for f in message["found"]]
            found.extend(batch)
            if each is not None:
                each(batch)

    if not _talk(args, heard, cancelled, started):
        return None
    found.sort(key=lambda f: f.order)
    return found


def threads_in_child(db_path: str | Path, session: str,
                     cancelled: Callable[[], bool] = lambda: False,
                     started: Callable[[subprocess.Popen[str]], None] | None = None,
                     ) -> list[dict[str, Any]] | None:
    """`session_tree` of one session, worked out in a child process (None: cancelled)."""
    tree: list[dict[str, Any]] = []

    def heard(message: dict[str, Any]) -> None:
        tree.extend(message.get("threads", ()))

    if not _talk([str(db_path), "--session", session, "--threads"], heard, cancelled,
                 started):
        return None
    return tree


def _talk(args: list[str], heard: Callable[[dict[str, Any]], None],
          cancelled: Callable[[], bool],
          started: Callable[[subprocess.Popen[str]], None] | None) -> bool:
    """Run the child with `args`, each line it says to `heard`: True once it said "end",
    False when `cancelled()` said so first (the child is ended then); RuntimeError when
    the child fails."""
    child = spawn("inspector.analysis.findings.child", *args)
    if started is not None:
        started(child)
    assert child.stdout is not None and child.stdin is not None
    child.stdin.close()
    try:
        for line in child.stdout:
            if cancelled():
                return False
            message = json.loads(line)
            if "error" in message:
                raise RuntimeError(f"findings: {message['error']}")
            if message.get("end"):
                return True
            heard(message)
        if cancelled():  # ended for the app closing, say
            return False
        raise RuntimeError("findings: the process ended before its answer")
    finally:
        if child.poll() is None:
            child.terminate()
        child.wait()
        child.stdout.close()


if __name__ == "__main__":
    serve(sys.argv[1:], sys.stdout)
