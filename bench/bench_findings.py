"""Benchmark: `claude-inspect findings` against reading the same captures back.

Findings read whole request bodies and attribution trees, so their cost is measured
against the floor of doing that at all: `iter_exchanges` over the same captures (the
bodies parsed, nothing analysed). Demo Claude Code sessions go through the real capture,
attribution and store code, with usage from the simulated prompt cache.

    python bench/bench_findings.py [--sessions 20] [--turns 12] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inspector.analysis.findings import find  # noqa: E402
from inspector.demo.prompt_cache import PromptCache  # noqa: E402
from inspector.demo.traffic import demo_session  # noqa: E402
from inspector.ids import new_id  # noqa: E402
from inspector.model import CapturedBody, Exchange, Timings  # noqa: E402
from inspector.runtime.pipeline import prepare_record  # noqa: E402
from inspector.store import Filter, Store, iter_exchanges  # noqa: E402


def _exchange(request, headers, response, started: float) -> Exchange:
    import json

    req, resp = CapturedBody(1 << 26), CapturedBody(1 << 26)
    req.append(json.dumps(request).encode())
    resp.append(json.dumps(response).encode())
    return Exchange(
        id=new_id(started), connection_id="c", mode="intercept", scheme="https",
        host="api.anthropic.com", port=443, method="POST", target="/v1/messages",
        client_addr="127.0.0.1:1", request_headers=[(k.lower(), v) for k, v in headers.items()],
        request_body=req, status=200, reason="OK",
        response_headers=[("content-type", "application/json")], response_body=resp,
        timings=Timings(started_wall=started), complete=True)


def build(store: Store, sessions: int, turns: int) -> int:
    cache = PromptCache(clock=lambda: 0.0)
    start = time.time() - 3600
    n = 0
    for seed in range(sessions):
        records = []
        for turn in demo_session(seed, turns):
            response = cache.apply(turn.request, turn.response)
            records.append(prepare_record(_exchange(turn.request, turn.headers, response,
                                                    start + n)))
            n += 1
        store.write(records)
    return n


def timed(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "captures.db")
        n = build(store, args.sessions, args.turns)
        read = timed(lambda: sum(1 for _ in iter_exchanges(store, Filter(limit=0), batch=100)),
                     args.rounds)
        found = []
        full = timed(lambda: found.append(len(find(store))), args.rounds)
        breaks = timed(lambda: find(store, kinds=["cache_break"]), args.rounds)
        store.close()
    print(f"{n} captures in {args.sessions} sessions, {found[-1]} findings")
    print(f"{'read exchanges (floor)':<28}{read * 1000:>9.0f} ms  {read / n * 1000:>6.1f} ms/capture")
    for name, t in (("findings, every kind", full), ("findings, cache breaks", breaks)):
        print(f"{name:<28}{t * 1000:>9.0f} ms  {t / n * 1000:>6.1f} ms/capture"
              f"  {t / read:>5.2f}x the floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
