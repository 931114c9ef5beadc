"""How the database grows over one long Claude Code-like session through the real proxy.

    python bench/bench_session_growth.py                  # 80 turns, this checkout
    python bench/bench_session_growth.py --code OTHER     # the same with another checkout's code

It starts the stub Messages API and `claude-inspect proxy` (each in its own process), then
plays one session: the first request carries Claude Code's ~85 KB of system prompt and
tool definitions, and each turn adds ~4 KB (an assistant reply with a tool call, and the
tool's output), so the request grows every turn, as Claude Code's do. Replies stream
(SSE). After every ten turns it reads how much of the database is in use (pages in use,
from another connection) and prints what those ten turns added; after the proxy exits
(Ctrl-C, which drains the recorder) it prints the size of `captures.db` with its `-wal`
and `-shm` against the request bytes relayed. Goals: at most 0.15x the request bytes, and
the last ten turns adding at most 2x what turns 11-20 added.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.demo.traffic import demo_session  # noqa: E402

WORDS = ("def return self import from class value result error test file path line data "
         "config session token cache user request response handler module for in if else "
         "not None True False raise except try with as open read write list dict str int "
         "login redirect middleware settings redis key expire verify sign payload").split()


def tool_output(rng: random.Random, chars: int) -> str:
    """Code-like text: compresses about as well as real tool output (3-4x)."""
    out, n = [], 0
    while n < chars:
        line = "    " * rng.randint(0, 3) + " ".join(rng.choice(WORDS)
                                                for _ in range(rng.randint(3, 10)))
        line += f"  # {rng.randint(0, 10**6)}"
        out.append(line)
        n += len(line) + 1
    return "\n".join(out)[:chars]


def start(code: Path, home: Path) -> tuple[subprocess.Popen, subprocess.Popen, int, int, str]:
    env = dict(os.environ, CLAUDE_INSPECT_HOME=str(home), PYTHONPATH=str(code))
    stub = subprocess.Popen([sys.executable, "-m", "inspector.demo.stub_api", "--port", "0",
                             "--cert-dir", str(home / "stub")], stdout=subprocess.PIPE,
                            text=True, cwd=code, env=env)
    stub_port = int(stub.stdout.readline())
    proxy = subprocess.Popen([sys.executable, "-m", "inspector", "proxy", "--listen",
                              "127.0.0.1:0", "--intercept", "127.0.0.1", "--upstream-ca",
                              str(home / "stub" / "ca.pem")],
                             stdout=subprocess.PIPE, text=True, cwd=code, env=env)
    first = proxy.stdout.readline()
    port = int(first.split("listening on ", 1)[1].split(",")[0].rsplit(":", 1)[1])
    threading.Thread(target=lambda: [None for _ in proxy.stdout], daemon=True).start()
    return stub, proxy, stub_port, port, str(home / "ca.pem")


def in_use(db: Path, want: int, timeout: float = 60.0) -> int:
    """Bytes of the database in use once `want` requests are stored (pages in use)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                n = conn.execute("SELECT count(*) FROM requests").fetchone()[0]
                if n >= want:
                    pages, free, size = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in
                                         ("page_count", "freelist_count", "page_size"))
                    return (pages - free) * size
            finally:
                conn.close()
        except sqlite3.OperationalError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{want} requests not stored within {timeout:.0f}s")
        time.sleep(0.05)


# Run in a new process with the code under test: how long reading the newest capture
# takes, as `show` and `tree` do (the body rebuilt from its shared parts, the tree read).
READ = r"""
import sys, time
from inspector.store import Store, get_exchange
best = {}
for _ in range(15):
    t0 = time.perf_counter()
    store = Store(sys.argv[1])
    newest = store.execute("SELECT id FROM requests ORDER BY ts DESC LIMIT 1").fetchone()[0]
    t1 = time.perf_counter()
    ex = get_exchange(store, newest)
    t2 = time.perf_counter()
    assert ex["attribution"] and ex["request"]["body"]["messages"]
    store.close()
    for name, took in (("open", t1 - t0), ("show/tree", t2 - t1)):
        best[name] = min(best.get(name, 1e9), took * 1000)
print(best["open"], best["show/tree"])
"""


def read_times(code: Path, db: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(code))
    out = subprocess.run([sys.executable, "-c", READ, str(db)], env=env, cwd=code,
                         check=True, capture_output=True, text=True).stdout.split()
    return {"open": float(out[0]), "full exchange with its tree": float(out[1])}


def run(code: Path, turns: int, new_chars: int, keep: Path | None = None) -> None:
    home = Path(tempfile.mkdtemp(prefix="bench-growth-"))
    stub, proxy, stub_port, port, ca = start(code, home)
    rng = random.Random(5)
    first = demo_session(seed=1, turns=1)[0].request
    body = {k: v for k, v in first.items()}
    body["messages"] = body["messages"][:1]
    headers = {"content-type": "application/json", "anthropic-version": "2023-06-01",
               "user-agent": "claude-cli/2.0.50 (external, cli)"}
    db = home / "captures.db"
    relayed, marks, last_size = 0, {}, 0
    try:
        context = ssl.create_default_context(cafile=ca)
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=60)
        conn.set_tunnel("127.0.0.1", stub_port)
        for turn in range(1, turns + 1):
            data = json.dumps(body).encode()
            relayed += len(data)
            last_size = len(data)
            conn.request("POST", "/v1/messages?beta=true", body=data, headers=headers)
            reply = conn.getresponse()
            reply.read()
            assert reply.status == 200, reply.status
            call = f"toolu_{turn:04d}{rng.getrandbits(64):016x}"
            body["messages"] = body["messages"] + [
                {"role": "assistant", "content": [
                    {"type": "text", "text": f"Step {turn}: reading the next file."},
                    {"type": "tool_use", "id": call, "name": "Read",
                     "input": {"file_path": f"/src/shop/module_{turn}.py"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": call,
                     "content": tool_output(rng, new_chars)}]}]
            if turn % 10 == 0:
                marks[turn] = in_use(db, turn)
        conn.close()
    finally:
        proxy.send_signal(signal.SIGINT)
        try:
            proxy.wait(60)
        except subprocess.TimeoutExpired:
            proxy.kill()
        stub.kill()
        stub.wait()
    files = {s: (db.parent / (db.name + s)).stat().st_size
             for s in ("", "-wal", "-shm") if (db.parent / (db.name + s)).exists()}
    reads = read_times(code, db)
    if keep is not None:
        shutil.copy(db, keep)
    shutil.rmtree(home, ignore_errors=True)
    total = sum(files.values())
    print(f"code: {code}")
    print(f"{turns} turns, last request {last_size / 1024:.0f} KB, "
          f"{relayed / 1e6:.1f} MB of requests relayed")
    prev = 0
    added = {}
    for turn, size in sorted(marks.items()):
        added[turn] = size - prev
        print(f"  turns {turn - 9:>3}-{turn:<3} added {added[turn] / 1024:8.0f} KB "
              f"(in use: {size / 1e6:6.2f} MB)")
        prev = size
    print(f"after exit: captures.db {files.get('', 0) / 1e6:.2f} MB, "
          f"-wal {files.get('-wal', 0) / 1e6:.2f} MB, -shm {files.get('-shm', 0) / 1e6:.2f} MB")
    print(f"database / request bytes relayed: {total / relayed:.3f}x (goal <= 0.15)")
    print("reading the last turn (a new process; best of 15): " + ", ".join(
        f"{name} {ms:.1f} ms" for name, ms in reads.items()))
    if 20 in added and turns in added:
        print(f"turns {turns - 9}-{turns} added / turns 11-20 added: "
              f"{added[turns] / added[20]:.2f}x (goal <= 2)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=80)
    ap.add_argument("--new-chars", type=int, default=3000,
                    help="characters of tool output each turn adds (about 4 KB with the rest)")
    ap.add_argument("--code", type=Path, default=ROOT,
                    help="checkout whose `inspector` to run (default: this one)")
    ap.add_argument("--keep", type=Path, help="copy the database here, to profile reading it")
    args = ap.parse_args()
    run(args.code.resolve(), max(args.turns, 20), args.new_chars, args.keep)


if __name__ == "__main__":
    main()
