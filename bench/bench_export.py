"""Peak memory of `claude-inspect export` for one long session.

    python bench/bench_export.py                     # 300 turns, HAR and JSONL
    python bench/bench_export.py --code OTHER        # the same with another checkout's code
    python bench/bench_export.py --turns 100         # quicker

Builds a database holding one session of `--turns` requests, each extending the last by
~4 KB of conversation (the last request is about 1.3 MB at 300 turns), written by the
store of the code under test. Then runs `claude-inspect export --session S` as a new
process for each format and prints the file's size, the time and the process's peak RSS.
Goal: under 200 MB for the ~200 MB HAR of a 300-turn session.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SESSION = "5e55a0ce-0000-4000-8000-000000000300"

# Run in a child process with the code under test first on sys.path.
BUILD = r"""
import json, random, sys, time
sys.path.insert(1, sys.argv[4])
from capture.fixtures import make_exchange, stream_bytes
from inspector.capture import build_capture
from inspector.demo.traffic import demo_session
from inspector.model import Node
from inspector.store import Record, Store

db, turns, session = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(3)
words = "def return self import class value result error test file path data".split()
body = dict(demo_session(seed=1, turns=1)[0].request)
body["messages"] = body["messages"][:1]
body["metadata"] = {"user_id": json.dumps({"session_id": session})}
store = Store(db)
sse = stream_bytes()
start = time.time() - turns * 10
tree = Node("prompt", "prompt", tokens=10, children=[
    Node("tool", f"tool {i}", tokens=1, meta={"source": f"tool:T{i}"}) for i in range(10)])
for turn in range(turns):
    ex = make_exchange(json.dumps(body).encode(), sse, started_wall=start + turn * 10)
    try:
        store.write([Record(build_capture(ex), tree, 0.01)])
    finally:
        for spooled in (ex.request_body, ex.response_body):
            spooled.close()  # a body over 1 MB sits in a temporary file
    call = f"toolu_{turn:05d}"
    out = " ".join(rng.choice(words) for _ in range(600))[:3300]
    body["messages"] = body["messages"] + [
        {"role": "assistant", "content": [{"type": "tool_use", "id": call, "name": "Read",
                                           "input": {"file_path": f"/src/m{turn}.py"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call,
                                      "content": out}]}]
store.close()
"""


def run(code: Path, turns: int, formats: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    db = work / "captures.db"
    env = dict(os.environ, PYTHONPATH=str(code), CLAUDE_INSPECT_HOME=str(work))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", BUILD, str(db), str(turns), SESSION,
                    str(ROOT / "tests")], check=True, env=env, cwd=code)
    print(f"code: {code}")
    print(f"built {turns} turns in {time.perf_counter() - t0:.1f}s: "
          f"{db.stat().st_size / 1e6:.1f} MB database")
    for fmt in formats:
        out = work / f"out.{fmt}"
        t0 = time.perf_counter()
        # a fresh child per format, so ru_maxrss of children is this export's alone
        probe = (
            "import resource, subprocess, sys\n"
            "subprocess.run(sys.argv[1:], check=True)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
        res = subprocess.run(
            [sys.executable, "-c", probe, sys.executable, "-m", "inspector", "--db", str(db),
             "export", "--session", SESSION, "--format", fmt, "-o", str(out)],
            check=True, env=env, cwd=code, capture_output=True, text=True)
        took = time.perf_counter() - t0
        peak_kb = int(res.stdout.split()[-1])
        print(f"export --format {fmt:<5}: {out.stat().st_size / 1e6:7.1f} MB in {took:5.1f}s,"
              f" peak RSS {peak_kb / 1024:6.0f} MB")
        out.unlink()
    for p in work.iterdir():
        p.unlink()
    work.rmdir()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=300)
    ap.add_argument("--code", type=Path, default=ROOT)
    ap.add_argument("--formats", default="har,jsonl")
    args = ap.parse_args()
    run(args.code.resolve(), args.turns, args.formats.split(","))


if __name__ == "__main__":
    main()
