"""The app's main-screen actions, timed in a real terminal: tmux at 160x45.

    python bench/bench_app_actions.py                   # 100k exchanges and a 300-turn session
    python bench/bench_app_actions.py --code OTHER      # the same with another checkout's code
    python bench/bench_app_actions.py --dbs DIR         # keep (and reuse) the databases in DIR
    python bench/bench_app_actions.py --timeline        # and when the first paint's steps happen

The app (`claude-inspect --no-proxy --db DB`) runs in a detached tmux session; keys go in
with `tmux send-keys` and the pane is read with `capture-pane -p` every few milliseconds
until the expected text shows. Each action is timed from its last key to its result:

| action | done when the pane shows |
| --- | --- |
| first paint | "N captures" in the status bar (the table is filled) |
| /model:opus | "M match model:opus" (the filtered rows; no stale answer paints it), typed a key every 120 ms |
| Escape | the status bar without "match" and back at "rows 1-200" |
| g | "rows 1-200" again after three `G` moved the window down the list |
| Stats (t) | the Stats view's "Total," line |

The checkout is compiled to bytecode first, as an installed package is (where
PYTHONDONTWRITEBYTECODE is set, every start would otherwise compile the app's modules).

Stalls: the app is started through a small launcher that runs a coroutine on the app's
event loop, sleeping 5 ms at a time and writing every overrun over 10 ms to the file
named by CLAUDE_INSPECT_LAG_LOG; the bench reports the longest overrun seen during each
action. Medians of `--runs` (3) fresh starts of the app.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

SESSION = "tmux-bench-app-actions"
TIMEOUT = 20.0
#: seconds between two typed keys (a fast typist)
TYPING = 0.12

#: runs the app with a loop-lag probe installed on its event loop (no change to the app)
LAUNCHER = r"""
import asyncio, importlib.abc, os, sys, time
path = os.environ["CLAUDE_INSPECT_LAG_LOG"]
timeline = os.environ.get("CLAUDE_INSPECT_TIMELINE")
start = float(os.environ.get("CLAUDE_INSPECT_T0", "0"))

def mark(name):
    if timeline:
        with open(timeline, "a") as out:
            out.write(f"{(time.time() - start) * 1000:.1f} {name}\n")

mark("python up")

async def probe():
    with open(path, "a", buffering=1) as out:
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.005)
            lag = time.monotonic() - t - 0.005
            if lag > 0.010:
                out.write(f"{time.time():.4f} {lag * 1000:.1f}\n")

def patch(app_module):
    mark("app imported")
    _mount = app_module.InspectorApp.on_mount
    def on_mount(self):
        mark("app mounted")
        self._lag_probe = asyncio.get_running_loop().create_task(probe())
        return _mount(self)
    app_module.InspectorApp.on_mount = on_mount

class AfterImport(importlib.abc.MetaPathFinder):
    # patches the app module once the CLI imports it, so that the app starts in the
    # command's own order (it may start work before it imports the app)
    def find_spec(self, name, target_path=None, target=None):
        if name != "inspector.tui.app":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            patch(module)
        spec.loader.exec_module = exec_module
        return spec

import importlib.util
sys.meta_path.insert(0, AfterImport())
from inspector.cli import main
sys.argv = ["claude-inspect"] + sys.argv[1:]
main()
"""


def tmux(*args: str) -> str:
    """tmux on a server of the bench's own (its options touch no other session)."""
    return subprocess.run(["tmux", "-L", SESSION, *args], check=True, capture_output=True,
                          text=True).stdout


def pane() -> str:
    return tmux("capture-pane", "-p", "-t", SESSION)


def wait(pattern: str, absent: str | None = None, timeout: float = TIMEOUT) -> float | None:
    """Seconds until the pane matches `pattern` (and no longer shows `absent`); None when
    it does not within `timeout`."""
    start = time.perf_counter()
    rx = re.compile(pattern)
    while time.perf_counter() - start < timeout:
        text = pane()
        if rx.search(text) and (absent is None or absent not in text):
            return time.perf_counter() - start
        time.sleep(0.004)
    tail = "\n".join(text.rstrip().splitlines()[-4:])
    print(f"not shown within {timeout:.0f}s: {pattern!r}; the pane ends:\n{tail}",
          file=sys.stderr)
    return None


def keys(*names: str, literal: bool = False) -> None:
    tmux("send-keys", "-t", SESSION, *(["-l"] if literal else []), *names)


def max_lag(log: Path, since: float, until: float) -> float:
    worst = 0.0
    if log.exists():
        for line in log.read_text().splitlines():
            stamp, lag = line.split()
            if since <= float(stamp) <= until:
                worst = max(worst, float(lag))
    return worst


def one_run(code: Path, db: Path, total: int,
            home: Path) -> tuple[dict[str, tuple[float | None, float]], dict[str, float]]:
    """Start the app on `db`, do each action once: action -> (seconds or None, max lag
    ms), and the first paint's timeline (mark -> ms since tmux was asked to start it)."""
    log = home / "lag.log"
    log.unlink(missing_ok=True)
    timeline = home / "timeline.txt"
    timeline.unlink(missing_ok=True)
    t0 = time.time()
    env = {"PYTHONPATH": str(code), "CLAUDE_INSPECT_HOME": str(home),
           "CLAUDE_INSPECT_LAG_LOG": str(log), "TERM": "xterm-256color",
           "CLAUDE_INSPECT_TIMELINE": str(timeline), "CLAUDE_INSPECT_T0": f"{t0:.6f}"}
    command = " ".join([*(f"{k}={shlex.quote(v)}" for k, v in env.items()),
                        shlex.quote(sys.executable), "-c", shlex.quote(LAUNCHER),
                        "--no-proxy", "--db", shlex.quote(str(db))])
    out: dict[str, tuple[float | None, float]] = {}

    def timed(name: str, pattern: str, absent: str | None = None) -> None:
        since = time.time()
        took = wait(pattern, absent)
        out[name] = (took, max_lag(log, since, time.time() + 0.05))

    for attempt in range(50):  # the last run's server may still be on its way out
        try:
            tmux("new-session", "-d", "-s", SESSION, "-x", "160", "-y", "45", "-c",
                 str(code), command)
            break
        except subprocess.CalledProcessError:
            if attempt == 49:
                raise
            time.sleep(0.1)
    # tmux holds a lone Escape back for `escape-time` (500 ms by default) in case a key
    # sequence follows; a terminal does not
    tmux("set-option", "-s", "escape-time", "0")
    try:
        timed("first paint", rf"{total:,} captures")
        painted = (time.time() - t0) * 1000
        time.sleep(1.0)  # let the findings marks and the first idle work pass
        keys("/")
        wait(r"filter: words")
        for i, char in enumerate("model:opus"):  # typed, not pasted: timed from the last
            if i:
                time.sleep(TYPING)
            keys(char, literal=True)
        timed("/model:opus", r"[\d,]+ match model:opus\b")
        time.sleep(0.5)
        keys("Escape")
        timed("Escape", r"rows 1-200|captures\s*$", absent=" match ")
        time.sleep(0.5)
        for _ in range(3):  # page the window down the list: rows 301-500
            keys("G")
            wait(r"rows [1-9]\d\d-", timeout=5)
            time.sleep(0.4)
        keys("g")
        timed("g (newest)", r"rows 1-200\b")
        time.sleep(0.5)
        keys("t")
        timed("Stats", r"Total, ")
        keys("Escape")
        time.sleep(0.3)
    finally:
        subprocess.run(["tmux", "-L", SESSION, "kill-server"], capture_output=True)
    marks = {}
    if timeline.exists():
        for line in timeline.read_text().splitlines():
            ms, name = line.split(" ", 1)
            marks[name] = float(ms)
    if out.get("first paint", (None,))[0] is not None:
        marks["table shown"] = painted
    return out, marks


def build_100k(path: Path, n: int) -> None:
    import bench_stats

    took = bench_stats.build(path, n)
    print(f"built {n:,} exchanges in {took:.1f}s", file=sys.stderr)


def build_session(path: Path, turns: int) -> None:
    import bench_export

    env = dict(os.environ, PYTHONPATH=str(ROOT), CLAUDE_INSPECT_HOME=str(path.parent))
    subprocess.run([sys.executable, "-c", bench_export.BUILD, str(path), str(turns),
                    bench_export.SESSION, str(ROOT / "tests")], check=True, env=env, cwd=ROOT)
    print(f"built a {turns}-turn session", file=sys.stderr)


def count(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM requests").fetchone()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout whose app is timed")
    ap.add_argument("--dbs", type=Path, default=None, help="folder keeping the databases")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--turns", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=("exchanges", "session"), default=None,
                    help="time one of the two databases only")
    ap.add_argument("--timeline", action="store_true",
                    help="also print the first paint's timeline: python up, app module "
                         "imported, app mounted, table shown (ms since the start)")
    args = ap.parse_args()
    dbs = args.dbs or Path(tempfile.mkdtemp(prefix="bench-app-actions-"))
    dbs.mkdir(parents=True, exist_ok=True)
    big, session = dbs / f"exchanges-{args.n}.db", dbs / f"session-{args.turns}.db"
    if not big.exists():
        build_100k(big, args.n)
    if not session.exists():
        build_session(session, args.turns)
    print(f"code: {args.code.resolve()}")
    # as an installed package is: compiled to bytecode (with PYTHONDONTWRITEBYTECODE set, as
    # it may be, every start would compile the app's modules again: ~75 ms of first paint)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(args.code / "inspector")],
                   check=True)
    for name, db in ((f"{args.n:,} exchanges", big), (f"{args.turns}-turn session", session)):
        if args.only and args.only not in name:
            continue
        both = [one_run(args.code.resolve(), db, count(db), Path(tempfile.mkdtemp()))
                for _ in range(args.runs)]
        runs = [b[0] for b in both]
        print(f"\n{name}: median of {args.runs}   (max loop stall over the runs)")
        if args.timeline:
            for mark in both[0][1]:
                at = [b[1][mark] for b in both if mark in b[1]]
                print(f"  {'@ ' + mark:14} {statistics.median(at):7.0f} ms   "
                      f"(runs: {', '.join(f'{t:.0f}' for t in at)})")
        for action in runs[0]:
            took = [r[action][0] for r in runs]
            lag = max(r[action][1] for r in runs)
            shown = ("not reached" if any(t is None for t in took)
                     else f"{statistics.median(took) * 1000:7.0f} ms")
            print(f"  {action:14} {shown:>12}   stall {lag:6.0f} ms")


if __name__ == "__main__":
    main()
