"""How long attribution takes on a first-turn-sized request (~80 KB), a long one (~2 MB),
and a worst case for per-leaf overhead (20k tiny messages).

Run: `python bench/bench_attribution.py [--repeat N]`. Prints best and median of N runs for
each size, with and without usage (the exact-total sharing and cost pass). Targets: under
5 ms for 80 KB, under 100 ms for 2 MB.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

from inspector.attribution import attribute
from inspector.demo.traffic import demo_session
from inspector.model import Usage


def first_turn() -> tuple[dict, Usage]:
    turn = demo_session(seed=1, turns=1)[0]
    return turn.request, Usage.from_api(turn.response["usage"])


def long_session(target_bytes: int = 2_000_000) -> tuple[dict, Usage]:
    """The demo's last turn, grown with Read/Bash rounds carrying file-sized results until
    the body reaches `target_bytes`: the shape of a long Claude Code session."""
    last = demo_session(seed=1, turns=6)[-1]
    req = copy.deepcopy(last.request)
    source = "\n".join(f"{i:>6}\tdef handler_{i}(request, *, retries: int = 3) -> Response:  # route {i}"
                       for i in range(180))
    n = 0
    while len(json.dumps(req)) < target_bytes:
        for _ in range(20):
            n += 1
            tool_id = f"toolu_bench_{n}"
            name = "Read" if n % 3 else "mcp__github__get_file_contents"
            req["messages"].append({"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Look at the next file.", "signature": "c2ln" * 40},
                {"type": "tool_use", "id": tool_id, "name": name, "input": {"file_path": f"/src/m{n}.py"}}]})
            req["messages"].append({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": tool_id, "content": source * 2},
                {"type": "text", "text": f"Next, check module {n} for the same bug."}]})
    return req, Usage(input_tokens=20, cache_read_input_tokens=400_000, cache_creation_input_tokens=90_000)


def many_small_blocks(pairs: int = 10_000) -> tuple[dict, Usage]:
    """A worst case for per-leaf overhead: ~1.7 MB in 20k tiny messages."""
    messages = []
    for i in range(pairs):
        messages.append({"role": "user", "content": [{"type": "text", "text": f"please look at file {i}"}]})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": f"Looked at file {i}."}]})
    return {"model": "claude-sonnet-4-5", "messages": messages}, Usage(input_tokens=300_000)


def timed(req: dict, usage: Usage | None, repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        attribute(req, usage)
        runs.append((time.perf_counter() - t0) * 1000)
    return min(runs), statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    cases = (("first turn", first_turn(), 5.0), ("long session", long_session(), 100.0),
             ("20k tiny msgs", many_small_blocks(), None))
    for name, (req, usage), limit in cases:
        size = len(json.dumps(req))
        for label, u in (("no usage", None), ("with usage", usage)):
            best, median = timed(req, u, args.repeat if size < 500_000 else max(5, args.repeat // 5))
            if limit is None:
                verdict = "worst case, no target"
            else:
                verdict = f"target {limit:g} ms: " + ("ok" if median < limit else "SLOW")
            print(f"{name:13} {size / 1000:8.1f} KB  {label:10}  best {best:7.2f} ms  "
                  f"median {median:7.2f} ms  ({verdict})")


if __name__ == "__main__":
    main()
