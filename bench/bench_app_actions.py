"""The app's main-screen and detail-view actions, timed in a real terminal: tmux at 160x45.

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

Then, on the 300-turn session only, the detail view of its newest request (1.1 MB, 600
blocks, its token tree attributed as recording does), back on the main screen after Stats
with the cursor on the top row:

| action | done when the pane shows |
| --- | --- |
| open request (Enter) | the Context tab's tree: its root, "Prompt N tokens" |
| Conversation (]) | the transcript's legend ("just the dialogue") and its first block ("system prompt 1/") |
| PageDown | the transcript's lines different from before the key (the scrollbar's columns left out: the thumb moves as more blocks mount below) |
| open on a hit (Enter) | "hit 1/" in the search line and the hit, "/src/m298.py", in the transcript |

The hit: Escape, then `/` and `text:m298` typed (a key every 120 ms; m<N-2> with
`--turns N`); once the status bar says "1 match" (the session's last tool call,
/src/m298.py, is in the newest request alone), Enter in the filter box gives the table
the keys and a second Enter, the one timed, opens the request on its first hit, ~600
blocks down its transcript. With `--only session` the 100k database is not built.

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
from typing import Callable

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


def wait(pattern: str | tuple[str, ...], absent: str | None = None,
         timeout: float = TIMEOUT) -> float | None:
    """Seconds until the pane matches `pattern` (every one of them, given a tuple) and no
    longer shows `absent`; None when it does not within `timeout`."""
    start = time.perf_counter()
    rxs = [re.compile(p) for p in ((pattern,) if isinstance(pattern, str) else pattern)]
    while time.perf_counter() - start < timeout:
        text = pane()
        if all(rx.search(text) for rx in rxs) and (absent is None or absent not in text):
            return time.perf_counter() - start
        time.sleep(0.004)
    tail = "\n".join(text.rstrip().splitlines()[-4:])
    print(f"not shown within {timeout:.0f}s: {pattern!r}; the pane ends:\n{tail}",
          file=sys.stderr)
    return None


def transcript_part(text: str) -> list[str]:
    """The pane's lines below the transcript's legend, but the footer, each without its
    last columns (the scrollbar: its thumb shrinks as the transcript mounts more blocks
    below the view, which is no scrolling)."""
    lines = text.splitlines()
    below = next((i + 1 for i, line in enumerate(lines) if "just the dialogue" in line), 0)
    return [line[:150] for line in lines[below:-1]]


def settled(pause: float = 0.3, timeout: float = 5.0) -> str:
    """The pane once it has not changed for `pause` seconds (or after `timeout`)."""
    start = time.perf_counter()
    last, since = pane(), time.perf_counter()
    while time.perf_counter() - start < timeout:
        time.sleep(0.02)
        text = pane()
        if text != last:
            last, since = text, time.perf_counter()
        elif time.perf_counter() - since >= pause:
            break
    return last


def wait_changed(before: list[str], timeout: float = TIMEOUT) -> float | None:
    """Seconds until the transcript's part of the pane differs from `before`."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if transcript_part(pane()) != before:
            return time.perf_counter() - start
        time.sleep(0.004)
    print(f"the transcript did not change within {timeout:.0f}s", file=sys.stderr)
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


def one_run(code: Path, db: Path, total: int, home: Path, search: str | None = None
            ) -> tuple[dict[str, tuple[float | None, float]], dict[str, float]]:
    """Start the app on `db`, do each action once: action -> (seconds or None, max lag
    ms), and the first paint's timeline (mark -> ms since tmux was asked to start it).
    `search`: then the detail view's actions too, on the newest request (a session's),
    the last with the search `text:SEARCH`, a word that request alone holds."""
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

    def timed(name: str, pattern: str | tuple[str, ...] = (), absent: str | None = None,
              waiter: Callable[[], float | None] | None = None) -> None:
        since = time.time()
        took = waiter() if waiter else wait(pattern, absent)
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
        if search:
            detail_actions(timed, search)
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


def detail_actions(timed: Callable[..., None], word: str) -> None:
    """The detail view's actions, from the main screen with its cursor on the newest
    request (as `g` left it); `word`: in the newest request's last tool call alone (its
    `/src/WORD.py`)."""
    wait(r"rows 1-200\b", absent="Total, ", timeout=5)  # the Stats view is gone
    time.sleep(0.5)
    keys("Enter")
    # the Context tab's tree: its root's label, made once the request is loaded and the
    # tab built ("Prompt 12.3k tokens of 200k context window (6%)" on a real request)
    timed("open request", r"Prompt [\d.]+[kM]? tokens")
    time.sleep(1.0)  # the diff and findings that load after the first tab
    keys("]")
    # the transcript's legend (its first line of keys) and its first block drawn
    timed("Conversation", (r"just the dialogue", r"system prompt 1/"))
    time.sleep(0.5)
    before = transcript_part(settled())  # the lazy batches mounted below the view
    keys("PageDown")
    timed("PageDown", waiter=lambda: wait_changed(before))
    time.sleep(0.5)
    keys("Escape")
    wait(r"rows 1-200\b", absent="just the dialogue", timeout=5)
    time.sleep(0.5)
    keys("/")
    wait(r"filter: words")
    for i, char in enumerate(f"text:{word}"):
        if i:
            time.sleep(TYPING)
        keys(char, literal=True)
    wait(rf"\b1 match text:{word}\b")
    keys("Enter")  # the filter box's: applies the filter again and gives the table the keys
    time.sleep(1.0)
    wait(rf"\b1 match text:{word}\b", timeout=5)
    keys("Enter")
    # the search line's "hit 1/N" and the hit's text itself (the search line shows only
    # the word, /m298/, not the path around it)
    timed("open on a hit", (r"hit 1/\d", rf"/src/{word}\.py"))
    time.sleep(0.5)
    keys("Escape")
    time.sleep(0.3)


def build_100k(path: Path, n: int) -> None:
    import bench_stats

    took = bench_stats.build(path, n)
    print(f"built {n:,} exchanges in {took:.1f}s", file=sys.stderr)


def build_session(path: Path, turns: int) -> None:
    import bench_export

    env = dict(os.environ, PYTHONPATH=str(ROOT), CLAUDE_INSPECT_HOME=str(path.parent))
    subprocess.run([sys.executable, "-c", bench_export.BUILD, str(path), str(turns),
                    bench_export.SESSION, str(ROOT / "tests")], check=True, env=env, cwd=ROOT)
    # the builder stores a token tree of ten leaves with every request (enough for an
    # export); the Context tab is timed on each request's own tree, as recording makes it
    subprocess.run([sys.executable, "-m", "inspector", "--db", str(path), "reattribute"],
                   check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
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
    if not big.exists() and args.only != "session":
        build_100k(big, args.n)
    if not session.exists() and args.only != "exchanges":
        build_session(session, args.turns)
    print(f"code: {args.code.resolve()}")
    # as an installed package is: compiled to bytecode (with PYTHONDONTWRITEBYTECODE set, as
    # it may be, every start would compile the app's modules again: ~75 ms of first paint)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(args.code / "inspector")],
                   check=True)
    # the session's newest request alone holds its last tool call's file, /src/m{turns-2}.py
    for name, db, search in ((f"{args.n:,} exchanges", big, None),
                             (f"{args.turns}-turn session", session, f"m{args.turns - 2}")):
        if args.only and args.only not in name:
            continue
        both = [one_run(args.code.resolve(), db, count(db), Path(tempfile.mkdtemp()), search)
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
