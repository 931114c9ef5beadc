"""Store benchmarks: writer throughput, `list --since 1h` latency and export throughput.

    python bench/bench_store.py                # 100k database, 2000 writer exchanges
    python bench/bench_store.py --n 20000      # a quicker run

The writer figures here use fixed trees; `bench/bench_writer.py` measures the writer on
the real path (capture, attribution, cost, rollups).

Bodies are shaped like Claude Code's: ~80 KB of system prompt and tool definitions (the
same on every turn), a conversation that grows within a session, and a streamed reply
of a few KB reassembled from real SSE bytes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from capture.fixtures import make_exchange, stream_bytes  # noqa: E402

from inspector.capture import build_capture  # noqa: E402
from inspector.cli import cli  # noqa: E402
from inspector.export import WRITERS  # noqa: E402
from inspector.ids import new_id  # noqa: E402
from inspector.model import Node  # noqa: E402
from inspector.store import (  # noqa: E402
    Filter, Record, Store, Writer, count_requests, get_exchange, list_requests, sessions,
)
from inspector.store.exchanges import iter_exchanges  # noqa: E402
from inspector.store.queries import iter_list_rows  # noqa: E402
from inspector.timeparse import iso_utc  # noqa: E402

rng = random.Random(1)
SYSTEM = [{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
          {"type": "text", "text": "".join(rng.choice("abcdefghij klmnop\n") for _ in range(14000)),
           "cache_control": {"type": "ephemeral"}}]
TOOLS = [{"name": f"mcp__srv{i % 4}__tool{i}", "description": "".join(
    rng.choice("abcdefghij klmnop") for _ in range(1400)),
    "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}
    for i in range(45)]


def body_for(session: str, turn: int) -> dict:
    messages = []
    for t in range(turn + 1):
        messages.append({"role": "user", "content": [{"type": "text", "text": f"turn {t} " + "u" * 300}]})
        if t < turn:
            messages.append({"role": "assistant", "content": [{"type": "text", "text": "a" * 600}]})
    return {"model": "claude-sonnet-4-5-20250929", "max_tokens": 32000, "stream": True,
            "system": SYSTEM, "tools": TOOLS, "messages": messages,
            "metadata": {"user_id": json.dumps({"session_id": session})}}


def tree() -> Node:
    """An attribution tree of Claude Code's usual size: ~150 nodes (tools per server,
    system blocks, a conversation's messages)."""
    def leaf(kind: str, label: str, source: str, tokens: int, path: str) -> Node:
        return Node(kind, label, chars=tokens * 4, tokens=tokens, path=path,
                    meta={"source": source})

    tools = [Node("mcp_server", f"mcp:srv{s}", tokens=300 * 11, children=[
        leaf("tool", f"mcp__srv{s}__tool{t}", f"mcp:srv{s}", 300, f"/tools/{s * 11 + t}")
        for t in range(11)]) for s in range(4)]
    system = [leaf("system", f"block {b}", "system", 900, f"/system/{b}") for b in range(6)]
    messages = [leaf("message", f"turn {m}", "user" if m % 2 == 0 else "assistant", 120,
                     f"/messages/{m}") for m in range(100)]
    groups = [Node("tools", "tools", children=tools), Node("system", "system", children=system),
              Node("messages", "messages", children=messages)]
    for g in groups:
        g.tokens = sum(c.tokens for c in g.children)
    return Node("request", "request", tokens=sum(g.tokens for g in groups), children=groups)


def bench_writer(path: Path, n: int) -> float:
    for old in path.parent.glob(path.name + "*"):
        old.unlink()
    sse = stream_bytes()
    exchanges = []
    for i in range(n):
        body = json.dumps(body_for(f"sess-{i // 20}", i % 20)).encode()
        exchanges.append(make_exchange(body, sse))
    size = sum(len(e.request_body) for e in exchanges) / n
    writer = Writer(path, prepare=lambda ex: Record(build_capture(ex), tree(), 0.01))
    writer.start()
    t0 = time.perf_counter()
    for ex in exchanges:
        writer.submit(ex)
    writer.close()
    took = time.perf_counter() - t0
    assert writer.written == n, (writer.written, writer.failed)
    rate = n / took
    print(f"writer (with the stats rollups): {n} exchanges of {size / 1024:.0f} KB (capture + store, "
          f"150-node trees) in {took:.2f}s = {rate:,.0f}/s")
    return rate


def build_big(path: Path, n: int) -> None:
    """n captures spread over 30 days, a few in the last hour: 20 turns of a session
    written by the store, then copied by SQL (see bench_stats.clone)."""
    from bench_stats import clone

    sse = stream_bytes()
    now = time.time()
    span = 30 * 86400
    t0 = time.perf_counter()
    store = Store(path)
    templates = []
    for turn in range(20):
        started = now - span + turn
        cap = build_capture(make_exchange(json.dumps(body_for("t", turn)).encode(), sse))
        cap = dataclasses.replace(cap, id=new_id(started), ts=iso_utc(started))
        templates.append(Record(cap, tree(), 0.01))
    store.write(templates)
    store.conn.execute("PRAGMA synchronous = OFF")
    ids = [r.capture.id for r in templates]
    params = []
    for i in range(20, n):
        started = now - (n - i) * ((span - 60) / n)
        params.append({"id": new_id(started), "ts": iso_utc(started),
                       "session": f"sess-{i // 20}", "template": ids[i % 20],
                       "model": ("claude-sonnet-4-5-20250929", "claude-opus-4-1")[i % 7 == 0]})
    clone(store, ids, params, more={"model": ":model"})
    took = time.perf_counter() - t0
    size = path.stat().st_size / 1e6
    print(f"built {n:,} captures in {took:.1f}s ({n / took:,.0f}/s), {size:,.0f} MB")
    store.close()


def bench_list(path: Path, home: Path) -> None:
    store = Store(path)
    since = time.time() - 3600
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        rows = list_requests(store, Filter(since=since))
        count_requests(store, Filter(since=since))
        times.append((time.perf_counter() - t0) * 1000)
    print(f"list --since 1h (query + count): median {statistics.median(times):.2f} ms, "
          f"max {max(times):.2f} ms ({len(rows)} rows)")
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        list_requests(store, Filter(limit=20))
        times.append((time.perf_counter() - t0) * 1000)
    print(f"list newest 20, no filter: median {statistics.median(times):.2f} ms")
    now = time.time()
    for f in (Filter(since=now - 3600, source="mcp:srv0"), Filter(source="mcp:"),
              Filter(source="tool:none"), Filter(since=now - 3600, status=200),
              Filter(session="sess-100"), Filter(model="claude-opus-4-1")):
        t0 = time.perf_counter()
        list_requests(store, f)
        t1 = time.perf_counter()
        count_requests(store, f)
        t2 = time.perf_counter()
        shown = {k: v for k, v in vars(f).items() if v and k not in ("limit", "since")}
        print(f"  list {shown}{' since 1h' if f.since else ''}: {(t1 - t0) * 1000:.1f} ms,"
              f" count {(t2 - t1) * 1000:.1f} ms")
    for limit in (20, 200):
        t0 = time.perf_counter()
        found = sessions(store, Filter(limit=limit))
        print(f"sessions(limit={limit}) over every capture: "
              f"{(time.perf_counter() - t0) * 1000:.0f} ms ({len(found)} sessions)")
    newest = list_requests(store, Filter(limit=1))[0]["id"]
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        tree_of = get_exchange(store, newest)["attribution"]
        times.append((time.perf_counter() - t0) * 1000)
    assert tree_of is not None
    print(f"reading the newest capture with its tree: median {statistics.median(times):.2f} ms")
    total = count_requests(store, Filter())
    deep = max(total - 1000, 0)
    t0 = time.perf_counter()
    page = list_requests(store, Filter(limit=50, offset=deep))
    t1 = time.perf_counter()
    anchor = list_requests(store, Filter(limit=1, offset=deep - 1))[0]["id"] if deep else None
    t2 = time.perf_counter()
    keyset = list_requests(store, Filter(limit=50, before_id=anchor))
    t3 = time.perf_counter()
    assert [r["id"] for r in keyset] == [r["id"] for r in page]
    print(f"page of 50 at offset {deep:,}: OFFSET {(t1 - t0) * 1000:.1f} ms, "
          f"keyset (before_id) {(t3 - t2) * 1000:.2f} ms")
    store.close()
    runner = CliRunner()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        result = runner.invoke(cli, ["--db", str(path), "--home", str(home), "list", "--since",
                                     "1h", "--json"])
        times.append((time.perf_counter() - t0) * 1000)
        assert result.exit_code == 0, result.output
    print(f"`list --since 1h --json` command (in process): median {statistics.median(times):.1f} ms")


def bench_export(path: Path, n: int) -> None:
    store = Store(path)
    for fmt in ("jsonl", "har", "csv"):
        t0 = time.perf_counter()
        with open(os.devnull, "w", encoding="utf-8") as out:
            items = (iter_list_rows(store, Filter()) if fmt == "csv"
                     else iter_exchanges(store, Filter(), parse_bodies=False))
            count = WRITERS[fmt](items, out)
        took = time.perf_counter() - t0
        assert count == n
        print(f"export {fmt}: {count:,} in {took:.1f}s = {count / took:,.0f}/s")
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--writer-n", type=int, default=2000)
    ap.add_argument("--dir", default=None, help="work folder (default: a temporary one)")
    ap.add_argument("--no-export", action="store_true",
                    help="skip exporting the whole database (minutes at 100k)")
    ap.add_argument("--no-writer", action="store_true",
                    help="skip the synthetic writer runs (bench_writer.py runs the real path)")
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-store-"))
    work.mkdir(parents=True, exist_ok=True)
    if not args.no_writer:
        bench_writer(work / "writer.db", args.writer_n)
    big = work / "big.db"
    if not big.exists():
        build_big(big, args.n)
    bench_list(big, work)
    if not args.no_export:
        bench_export(big, args.n)


if __name__ == "__main__":
    main()
