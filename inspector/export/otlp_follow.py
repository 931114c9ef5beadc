"""Live OTLP: a process that follows the store and sends each new exchange as a span.

The proxy's process never exports: this follower runs as a process of its own, reads
exchanges as the recorder commits them (in commit order, by the `requests` table's rowid)
and sends them in batches. The store is its queue: a collector that is down or slow
costs retries and a status line ("OTLP: 120 spans waiting, collector unreachable"), and
the spans wait in the database until it answers, so nothing captured is lost and nothing
in the forwarding path waits. The queue in memory is one batch.

Run by `start_follower` (for `proxy`, `run` and the app) as
`python -m inspector.export.otlp_follow`; the collector's headers travel in the
environment, not on the command line where other users could read them. Its status lines
go to the terminal, or (with `on_status`, for the app) come back to the parent one JSON
line each, saying whether the collector is failing, for a notice on screen.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, TextIO

log = logging.getLogger(__name__)

HEADERS_ENV = "CLAUDE_INSPECT_OTLP_HEADERS"
BATCH = 128
#: an exchange still without a response after this long is passed over (its client hung)
STALE_SECONDS = 15 * 60


@dataclass
class Cursor:
    """Where the follower is in the store: the last rowid sent."""

    rowid: int = 0


def newest_rowid(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as conn:
        try:
            return conn.execute("SELECT coalesce(max(rowid), 0) FROM requests").fetchone()[0]
        except sqlite3.OperationalError:  # no tables yet
            return 0


def _ready_ids(conn: Any, after: int, now: float) -> tuple[list[tuple[int, str]], int]:
    """(rowid, id) of finished exchanges after `after`, in commit order, stopping before
    an exchange still in flight (unless it is stale); and how many finished ones wait."""
    rows = conn.execute(
        "SELECT r.rowid, r.id, r.ts, s.request_id IS NOT NULL FROM requests r"
        " LEFT JOIN responses s ON s.request_id = r.id WHERE r.rowid > ?"
        " ORDER BY r.rowid LIMIT ?", (after, BATCH)).fetchall()
    ready = []
    for rowid, id_, ts, done in rows:
        if not done:
            try:
                started = datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
            except (AttributeError, ValueError):
                started = 0.0
            if now - started < STALE_SECONDS:
                break
            continue
        ready.append((rowid, id_))
    waiting = conn.execute("SELECT count(*) FROM requests WHERE rowid > ?", (after,)).fetchone()[0]
    return ready, waiting


def _spans(n: int) -> str:
    return f"{n} span" if n == 1 else f"{n} spans"


class Follower:
    """Follows one database and sends to one endpoint; `step` does one round."""

    def __init__(self, db_path: Path, sender: Any, *, bodies: bool = False,
                 cursor: Cursor | None = None,
                 say: Callable[[str, bool], None] = lambda line, fault: print(line)) -> None:
        self.db_path = Path(db_path)
        self.sender = sender
        self.bodies = bodies
        self.cursor = cursor or Cursor()
        self.say = say
        self.sent = 0
        self.failing = False
        self._store: Any = None

    def _open(self) -> Any:
        if self._store is None:
            if not self.db_path.exists():
                return None
            from inspector.store import Store

            self._store = Store(self.db_path)
        return self._store

    def step(self) -> bool:
        """Send what is ready; True if there may be more right away, False to wait."""
        from inspector.export.otlp import is_messages_exchange, span_data
        from inspector.store.exchanges import exchange_dicts

        store = self._open()
        if store is None:
            return False
        ready, waiting = _ready_ids(store.conn, self.cursor.rowid, time.time())
        if not ready:
            return False
        exchanges = exchange_dicts(store, [id_ for _rowid, id_ in ready])
        items = [d for ex in exchanges if is_messages_exchange(ex)
                 for d in [span_data(ex, bodies=self.bodies)] if d is not None]
        if not self.sender.send(self.sender.spans(items)):
            if not self.failing:
                self.say(f"OTLP: {_spans(waiting)} waiting, collector unreachable at "
                         f"{self.sender.url} ({self.sender.last_error}); retrying", True)
            self.failing = True
            raise ConnectionError(self.sender.last_error)
        if self.failing:
            self.say(f"OTLP: collector reachable again at {self.sender.url}; sending "
                     f"{_spans(waiting)} waiting", False)
            self.failing = False
        self.sent += len(items)
        self.cursor.rowid = ready[-1][0]
        return len(ready) == BATCH or waiting > len(ready)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def run(follower: Follower, *, poll: float = 0.5, should_stop: Callable[[], bool],
        drain_seconds: float = 5.0, max_backoff: float = 30.0) -> None:
    """Follow until `should_stop()`, then send what is left for at most `drain_seconds`."""
    backoff = 1.0
    while not should_stop():
        try:
            more = follower.step()
            backoff = 1.0
        except ConnectionError:
            _sleep(backoff, should_stop)
            backoff = min(backoff * 2, max_backoff)
            continue
        except sqlite3.Error as e:
            log.warning("OTLP: cannot read the database: %s", e)
            follower.close()
            more = False
        if not more:
            _sleep(poll, should_stop)
    deadline = time.monotonic() + drain_seconds
    while time.monotonic() < deadline:
        try:
            if not follower.step():
                break
        except (ConnectionError, sqlite3.Error):
            break
    follower.close()


def _sleep(seconds: float, should_stop: Callable[[], bool]) -> None:
    end = time.monotonic() + seconds
    while not should_stop() and time.monotonic() < end:
        time.sleep(min(0.1, end - time.monotonic()))


# -- the follower as a process of its own ---------------------------------------------------


class FollowerProcess:
    """Handle on a running follower process."""

    def __init__(self, proc: subprocess.Popen, relay: threading.Thread | None = None) -> None:
        self.proc = proc
        self.relay = relay  # the thread passing its status on, if any

    def stop(self, timeout: float = 10.0) -> None:
        """Ask it to send what is left (a few seconds at most) and end; its last status
        has been passed on when this returns."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.relay is not None:
            self.relay.join(5)


#: what hears the follower's status: (fault, line); fault is None for any other output
#: of it (a traceback), which is for the log only
StatusListener = Callable[[bool | None, str], None]


def start_follower(db_path: Path, endpoint: str, headers: dict[str, str], *,
                   bodies: bool = False, output: TextIO | None = None,
                   on_status: StatusListener | None = None) -> FollowerProcess:
    """Start following `db_path` from the newest exchange stored now. Status lines go to
    `output` (default: this process's stderr), or to `on_status` (from a thread)."""
    env = dict(os.environ)
    env[HEADERS_ENV] = json.dumps(headers)
    args = [sys.executable, "-m", "inspector.export.otlp_follow", "--db", str(db_path),
            "--endpoint", endpoint, "--after", str(newest_rowid(Path(db_path))),
            "--parent", str(os.getpid())]
    if bodies:
        args.append("--bodies")
    if on_status is not None:
        args.append("--status-json")
    out = subprocess.PIPE if on_status is not None else output or sys.stderr
    proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT if on_status is not None else out,
                            start_new_session=True)
    relay = None
    if on_status is not None:
        relay = threading.Thread(target=_relay_status, args=(proc.stdout, on_status),
                                 name="claude-inspect-otlp-status", daemon=True)
        relay.start()
    return FollowerProcess(proc, relay)


def _relay_status(stream: Any, on_status: StatusListener) -> None:
    """Each line the follower prints, to `on_status`, until it ends."""
    for raw in iter(stream.readline, b""):
        text = raw.decode("utf-8", "replace").rstrip()
        try:
            status = json.loads(text)
            fault, text = bool(status["fault"]), str(status["text"])
        except (ValueError, TypeError, KeyError):
            fault = None
        if text:
            try:
                on_status(fault, text)
            except Exception:  # noqa: BLE001 - the listener's trouble must not end the relay
                log.exception("OTLP status listener failed")
    stream.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="claude-inspect-otlp")
    parser.add_argument("--db", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--after", type=int, default=0)
    parser.add_argument("--parent", type=int, default=0)
    parser.add_argument("--bodies", action="store_true")
    parser.add_argument("--status-json", action="store_true")
    args = parser.parse_args(argv)
    from inspector.export.otlp import OtlpSender, quiet_sdk_logs

    quiet_sdk_logs()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle

    def say(line: str, fault: bool) -> None:
        if args.status_json:
            line = json.dumps({"fault": fault, "text": line})
        try:
            print(line, file=sys.stderr, flush=True)
        except (OSError, ValueError):
            pass

    headers = json.loads(os.environ.pop(HEADERS_ENV, "{}") or "{}")
    sender = OtlpSender(args.endpoint, headers, timeout=5.0)
    follower = Follower(Path(args.db), sender, bodies=args.bodies,
                        cursor=Cursor(args.after), say=say)

    def should_stop() -> bool:
        return bool(stopping) or (args.parent and os.getppid() != args.parent)

    try:
        run(follower, should_stop=should_stop)
    finally:
        sender.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
