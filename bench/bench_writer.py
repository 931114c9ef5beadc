"""Writer throughput on the real path: what a running proxy's writer thread does.

    python bench/bench_writer.py                 # 2000 exchanges, fresh database
    python bench/bench_writer.py --profile       # and where the writer thread's time goes

Each exchange is a Claude Code-like request from the demo traffic (~80-130 KB: the same
system prompt and ~75 KB of tools on every turn, a conversation that grows) with its
streamed reply as real SSE bytes, handed over as the proxy hands it: an `Exchange` whose
bodies sit in `CapturedBody` buffers. They go through `Writer(prepare=prepare_record)`
(capture, attribution, cost, store) into a fresh database with the stats rollups'
triggers installed, as `Runtime` does. The rate counts from the first submit to the
writer having stored the last exchange.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from capture.fixtures import make_exchange  # noqa: E402

from inspector.demo.stub_api import sse_events  # noqa: E402
from inspector.demo.traffic import DemoTurn, demo_session  # noqa: E402
from inspector.model import Exchange  # noqa: E402
from inspector.runtime.pipeline import prepare_record  # noqa: E402
from inspector.store import Store, Writer  # noqa: E402


def sse_bytes(message: dict) -> bytes:
    return "".join(f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
                   for name, data in sse_events(message)).encode("utf-8")


def demo_turns(sessions: int, turns: int) -> list[tuple[bytes, list, bytes]]:
    """(request body, request headers, SSE reply) of `sessions` demo sessions, in the
    order a user running them one after another would send them."""
    out = []
    for seed in range(sessions):
        turn: DemoTurn
        for turn in demo_session(seed, turns):
            body = json.dumps(turn.request, ensure_ascii=False).encode("utf-8")
            headers = [("host", "api.anthropic.com"), *turn.headers.items(),
                       ("x-api-key", "sk-ant-bench-not-a-secret")]
            out.append((body, headers, sse_bytes(turn.response)))
    return out


def exchanges(n: int, turns: list[tuple[bytes, list, bytes]]) -> list[Exchange]:
    """n fresh exchanges cycling through the turns (each id and buffer new)."""
    out = []
    for i in range(n):
        body, headers, reply = turns[i % len(turns)]
        out.append(make_exchange(body, reply, req_headers=list(headers)))
    return out


def run(path: Path, n: int, profile: bool = False,
        sessions: int = 10, turns: int = 20) -> float:
    for old in path.parent.glob(path.name + "*"):
        old.unlink()
    Store(path).close()  # the store's migrations install the stats rollups
    plan = demo_turns(sessions, turns)
    items = exchanges(n, plan)
    size = sum(len(b) for b, _, _ in plan) / len(plan)
    profiler = cProfile.Profile() if profile else None

    prepare = prepare_record
    if profiler is not None:
        # the writer thread's work, profiled from inside that thread
        def prepare(ex: Exchange, _first=[True]):  # noqa: B006 - one flag per run
            if _first[0]:
                _first[0] = False
                profiler.enable()
            return prepare_record(ex)

    writer = Writer(path, prepare=prepare)
    writer.start()
    t0 = time.perf_counter()
    for ex in items:
        writer.submit(ex)
    writer.close()
    took = time.perf_counter() - t0
    if profiler is not None:
        # close() ran the last batch on the writer thread; the profiler was enabled there
        profiler.disable()
    assert writer.written == n, (writer.written, writer.failed)
    rate = n / took
    print(f"writer, real path (with rollup triggers): {n} exchanges of {size / 1024:.0f} KB on average "
          f"in {took:.2f}s = {rate:,.0f}/s")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--sessions", type=int, default=10, help="demo sessions to cycle through")
    ap.add_argument("--turns", type=int, default=20, help="turns per demo session")
    ap.add_argument("--profile", action="store_true", help="cProfile the writer thread")
    ap.add_argument("--dir", default=None, help="work folder (default: a temporary one)")
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-writer-"))
    work.mkdir(parents=True, exist_ok=True)
    run(work / "writer.db", args.n, profile=args.profile,
        sessions=args.sessions, turns=args.turns)


if __name__ == "__main__":
    main()
