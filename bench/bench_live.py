"""The app's cost per new capture, on a database of 10 captures and of 100k.

Another process (this script with `--writer`) writes captures through the store's API,
one at a time, as the recorder of a running proxy would; the app runs headless (Textual's
pilot) on the same database and shows them as they come. For each capture we take:

- latency: from the writer's commit to the row being in the app's table (wall clock);
- CPU: the app process's CPU time (user + system, from /proc/self/stat, all its threads)
  over the run, minus what the same run costs with no writes (the pilot's own polling
  and the app's idle `data_version` checks), divided by the captures.

Both runs first write `WARMUP` captures that are not measured, so both measure captures
landing on a table that fills the screen (45 lines).

    python bench/bench_live.py                  # 10 and 100k stored, 100 captures each
    python bench/bench_live.py --n 50 --big 20000
    python bench/bench_live.py --no-marks     # without the periodic finding marks
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TICKS = os.sysconf("SC_CLK_TCK")
#: seconds between two captures: the app is idle again before the next one comes
GAP = 0.25
#: captures written before measuring: until then the 10-capture table does not yet fill
#: the screen, and a capture that lands on a half-empty screen costs less to draw
WARMUP = 40


def cpu_seconds() -> float:
    """This process's CPU time, all threads, as the kernel counts it (user + system)."""
    with open("/proc/self/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


# -- the other process ------------------------------------------------------------------


def writer(db: str) -> None:
    """Read "done" lines; write one capture for each; answer the commit's wall time."""
    from inspector.ids import new_id
    from inspector.model import Capture, Usage
    from inspector.store import Record, Store
    from inspector.timeparse import iso_utc

    store = Store(db)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "done":
            break
        capture_id = new_id()
        body = {"model": "claude-haiku-4-5", "max_tokens": 8,
                "messages": [{"role": "user", "content": f"capture {capture_id}"}]}
        capture = Capture(id=capture_id, ts=iso_utc(time.time()), connection_id="c",
                          mode="reverse", method="POST", scheme="https",
                          host="api.anthropic.com", port=443, path="/v1/messages",
                          model="claude-haiku-4-5", status=200, request_json=body,
                          request_bytes=120, complete=True, total_ms=9.0,
                          usage=Usage(input_tokens=20, output_tokens=2))
        store.write([Record(capture=capture)])
        print(f"{capture_id} {time.time():.6f}", flush=True)
    store.close()


# -- the app ---------------------------------------------------------------------------


def build_small(path: Path, n: int = 10) -> None:
    from bench_stats import template_records

    from inspector.store import Store

    with Store(path) as store:
        store.write(template_records(sessions=1, turns=n)[:n])


async def run_app(db: Path, home: Path, n: int, write: bool) -> dict[str, list[float]]:
    from inspector.config import Config
    from inspector.tui.app import make_app
    from inspector.tui.widgets.requests.table import RequestsTable

    config = Config.load(home, db=str(db))
    app = make_app(config, None)
    out: dict[str, list[float]] = {"latency_ms": [], "cpu_s": []}
    proc = subprocess.Popen([sys.executable, __file__, "--writer", str(db)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    try:
        start = time.perf_counter()
        async with app.run_test(size=(160, 45)) as pilot:
            table = app.main.query_one(RequestsTable)
            while not table.row_count:
                await pilot.pause(0.05)
            out["first_paint_s"] = [time.perf_counter() - start]
            await pilot.pause(1.0)  # the first marks and the like, out of the way
            cpu0 = wall0 = 0.0
            for i in range(WARMUP + n):
                if i == WARMUP:  # the screen is full of rows in both cases from here
                    cpu0, wall0 = cpu_seconds(), time.perf_counter()
                    out["latency_ms"].clear()
                if write:
                    proc.stdin.write("done\n")
                    proc.stdin.flush()
                    capture_id, committed = proc.stdout.readline().split()
                    while capture_id not in table.rows_by_id:
                        await pilot.pause(0.002)
                    out["latency_ms"].append((time.time() - float(committed)) * 1000)
                    await pilot.pause(GAP)
                else:
                    await pilot.pause(GAP + 0.01)
            out["cpu_s"] = [cpu_seconds() - cpu0]
            out["wall_s"] = [time.perf_counter() - wall0]
    finally:
        proc.stdin.close()
        proc.wait(10)
    return out


def measure(label: str, db: Path, home: Path, n: int) -> None:
    from inspector.store import Store, count_requests, Filter

    with Store(db) as store:
        stored = count_requests(store, Filter())
    feed = feed_query_ms(db)
    idle = asyncio.run(run_app(db, home, n, write=False))
    busy = asyncio.run(run_app(db, home, n, write=True))
    per = (busy["cpu_s"][0] - idle["cpu_s"][0] * busy["wall_s"][0] / idle["wall_s"][0]) / n
    lat = busy["latency_ms"]
    print(f"{label:>6} stored ({stored}): first rows {busy['first_paint_s'][0]:.2f} s; "
          f"app CPU per capture {per * 1000:.1f} ms "
          f"(busy {busy['cpu_s'][0]:.2f} s / idle {idle['cpu_s'][0]:.2f} s CPU "
          f"over {busy['wall_s'][0]:.1f} s); "
          f"write->row p50 {statistics.median(lat):.0f} ms, "
          f"p90 {sorted(lat)[int(0.9 * len(lat))]:.0f} ms, max {max(lat):.0f} ms; "
          f"the feed's read of one new row {feed:.2f} ms", flush=True)


def feed_query_ms(db: Path) -> float:
    """CPU of the store read the app makes per capture (the new row, the count, the
    requests in flight), where the app has it; 0 on code without the change feed."""
    try:
        from inspector.tui.backend import Backend

        backend = Backend(db)
        seq = backend.seq() - 1
    except AttributeError:
        return 0.0
    t = time.process_time()
    for _ in range(200):
        backend.changes({}, seq)
    backend.close()
    return (time.process_time() - t) / 200 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="captures written per database")
    parser.add_argument("--big", type=int, default=100_000, help="captures in the big one")
    parser.add_argument("--no-marks", action="store_true",
                        help="the table's finding marks only once, at start (they read the "
                             "bodies of the newest rows every 10 s: a cost of the content, "
                             "not of each capture)")
    parser.add_argument("--writer", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.no_marks:
        import inspector.tui.screens.idle_jobs as idle_jobs

        idle_jobs.MARKS_GAP = 1e9
    if args.writer:
        writer(args.writer)
        return
    from bench_stats import build

    tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
    try:
        small, big = tmp / "small.db", tmp / "big.db"
        build_small(small)
        t = time.perf_counter()
        build(big, args.big)
        print(f"built {args.big} captures in {time.perf_counter() - t:.0f} s", flush=True)
        measure("10", small, tmp / "home-small", args.n)
        measure(f"{args.big // 1000}k", big, tmp / "home-big", args.n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
