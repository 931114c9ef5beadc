"""Text search (`list --text`, `find_hits`) over a 100k-exchange database.

    python bench/bench_search.py               # 100k captures (about 3-4 minutes)
    python bench/bench_search.py --n 20000     # quicker
    python bench/bench_search.py --dir DIR     # keep the databases in DIR (reused if there)

The database is `bench_store.py`'s (20 Claude Code-like turns written by the store, the
rest copied by SQL, sharing their system prompt, tools and history), then given text of
its own per capture, as real traffic has: a unique word in each request's last message
and a reply of 250 words drawn, by frequency, from the words of this project's README
and code. One reply holds a rare
word. It is built at schema 6 (no index) and kept (`search-N-v6.db`); each run copies it
and times opening the copy as a writer (migration 7: the index's schema and a backlog
mark, no indexing), the searches while no capture is indexed yet (the backlog scanned),
working the backlog off in batches of 500 as the recorder's writer does when idle (each
batch's time, and the worst wait of another writer storing a capture meanwhile), and the
searches again on the indexed file. Searches run on a fresh connection (cold) and again
(warm). Last, the writer's cost of indexing is measured against a writer that does not
index.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_store import body_for, build_big  # noqa: E402
from capture.fixtures import make_exchange, stream_bytes  # noqa: E402

from inspector.capture import build_capture  # noqa: E402
from inspector.cli import cli  # noqa: E402
from inspector.store import (  # noqa: E402
    Filter, Record, Store, count_requests, list_requests, search_index,
)
from inspector.store import search_backlog, writer  # noqa: E402
from inspector.store.search import TextSearch, find_hits, index_progress  # noqa: E402

RARE = "xylophonist"


def _vocabulary() -> tuple[list[str], list[int]]:
    """Words of this project's README and code, with their counts as weights: English
    and code, as Claude Code's traffic is (random letters would make every trigram new,
    which no real text does)."""
    counts: dict[str, int] = {}
    for path in [ROOT / "README.md", *sorted((ROOT / "inspector").rglob("*.py"))]:
        for word in re.findall(r"\w+", path.read_text(encoding="utf-8")):
            counts[word] = counts.get(word, 0) + 1
    counts.pop(RARE, None)
    words = sorted(counts)
    return words, [counts[w] for w in words]


def give_own_text(path: Path) -> None:
    """A unique word in each request's inline last message, a reply of its own for
    each, and the rare word in one reply, a third of the way from the oldest."""
    rng = random.Random(3)
    vocab, weights = _vocabulary()
    store = Store(path)
    conn = store.conn
    conn.execute("PRAGMA synchronous = OFF")
    ids = [r[0] for r in conn.execute("SELECT id FROM requests ORDER BY ts, id")]
    rare_at = len(ids) // 3
    with store.db.atomic():
        conn.execute("""UPDATE requests SET body = replace(body, '"turn ',
                            '"turn q' || lower(hex(randomblob(5))) || ' ')""")
        rows = []
        for k, id_ in enumerate(ids):
            words = rng.choices(vocab, weights, k=250)
            if k == rare_at:
                words[100] = RARE
            reply = {"id": f"msg_{k}", "type": "message", "role": "assistant",
                     "content": [{"type": "text", "text": " ".join(words)}],
                     "stop_reason": "end_turn"}
            rows.append((json.dumps(reply), id_))
        conn.executemany("UPDATE responses SET body = ? WHERE request_id = ?", rows)
    store.close()


def to_schema_6(path: Path) -> None:
    """Take the index out, as a database written before migration 7 would be."""
    conn = Store(path).conn
    conn.executescript(
        """DROP TABLE IF EXISTS search_fts; DROP TABLE IF EXISTS search_docs;
           DROP TABLE IF EXISTS search_links; DROP TABLE IF EXISTS search_backlog;
           DROP INDEX IF EXISTS blob_refs_child;
           DELETE FROM _sqlite_migrations WHERE name = '0007_text_search';
           PRAGMA user_version = 6; VACUUM;""")
    conn.close()


def ms(fn, runs: int = 1) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out


def bench_searches(path: Path, home: Path) -> None:
    cases = [
        (f"rare word ({RARE}, in one reply)", RARE, 20),
        ("common word (function) --limit 50", "function", 50),
        ("very common word (the) --limit 50", "the", 50),
        ("word in the shared system prompt (Claude) --limit 50", "Claude", 50),
        ("regex, literal needed: (?i)xylo\\w+ist", r"(?i)xylo\w+ist", 20),
        ("regex, no literal: x.l.ph.n (rare: scans)", r"x.l.ph.n", 20),
        ("regex, no literal: \\bth.\\b --limit 50 (common)", r"\bth.\b", 50),
    ]
    for label, pattern, limit in cases:
        cold_store = Store(path, readonly=True)
        cold, rows = ms(lambda: list_requests(cold_store, Filter(text=pattern, limit=limit)))
        warm, _ = ms(lambda: list_requests(cold_store, Filter(text=pattern, limit=limit)), 3)
        query = TextSearch(cold_store, pattern).query
        how = "no literal: scan" if query is None else "{:,} candidate documents".format(
            cold_store.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH ?",
                               (query,)).fetchone()[0])
        cold_store.close()
        print(f"  {label}: {len(rows)} rows, cold {cold:,.0f} ms, warm {warm:,.0f} ms ({how})")
    store = Store(path, readonly=True)
    for pattern in (RARE, "function", "the", "Claude", r"x.l.ph.n"):
        took, n = ms(lambda: count_requests(store, Filter(text=pattern)))
        print(f"  count_requests(text={pattern!r}): {n:,} in {took:,.0f} ms")
    store.close()
    runner = CliRunner()
    took, result = ms(lambda: runner.invoke(
        cli, ["--db", str(path), "--home", str(home), "list", "--text", RARE, "--json"]))
    assert result.exit_code == 0, result.output
    said = f" (said: {result.stderr.strip()})" if result.stderr.strip() else ""
    print(f"  `list --text {RARE} --json` command (in process): {took:,.0f} ms, "
          f"{len(json.loads(result.stdout))} row(s){said}")
    store = Store(path, readonly=True)
    newest = list_requests(store, Filter(limit=1))[0]["id"]
    took, hits = ms(lambda: find_hits(store, newest, "function|Claude"), 3)
    print(f"  find_hits(newest, 'function|Claude'): {len(hits)} hits in {took:.1f} ms")
    store.close()


def bench_writer_cost(work: Path, n: int = 1000) -> None:
    """The store writing distinct Claude Code-like turns, with and without indexing."""
    sse = stream_bytes()
    recs = []
    for i in range(n):
        body = body_for(f"w-{i // 20}", i % 20)
        body["messages"][-1]["content"][0]["text"] += f" unique{i}"
        recs.append(Record(build_capture(make_exchange(json.dumps(body).encode(), sse))))
    results: dict[str, list[float]] = {"without index": [], "with index": []}
    for _ in range(3):  # alternating, so a busy moment hits both alike
        for label in results:
            path = work / f"writer-{label.split()[0]}.db"
            for old in path.parent.glob(path.name + "*"):
                old.unlink()
            store = Store(path)
            saved = search_index.index_requests
            if label == "without index":
                search_index.index_requests = lambda conn, ids: None
            try:
                t0 = time.perf_counter()
                for i in range(0, n, 20):
                    store.write(recs[i:i + 20])
                results[label].append(time.perf_counter() - t0)
            finally:
                search_index.index_requests = saved
                store.close()
    a, b = (statistics.median(results[k]) for k in ("without index", "with index"))
    print(f"writer, {n} distinct turns in batches of 20 (medians of 3): {a * 1000 / n:.2f} ms "
          f"each without the index, {b * 1000 / n:.2f} ms with (+{(b - a) / a * 100:.0f}%)")


def drain(path: Path) -> None:
    """Work the backlog off as the idle writer does, while another writer stores a
    capture every 50 ms: the batches' times and that writer's worst wait."""
    store = Store(path)
    other = Store(path, busy_timeout=30)
    sse = stream_bytes()
    waits: list[float] = []
    done = threading.Event()

    def write_meanwhile() -> None:
        i = 0
        while not done.is_set():
            body = body_for("drain-meanwhile", i % 20)
            rec = Record(build_capture(make_exchange(json.dumps(body).encode(), sse)))
            t0 = time.perf_counter()
            other.write([rec])
            waits.append(time.perf_counter() - t0)
            i += 1
            time.sleep(0.05)

    thread = threading.Thread(target=write_meanwhile)
    thread.start()
    batches: list[float] = []
    during: list[str] = []
    t0 = time.perf_counter()
    try:
        while True:
            b0 = time.perf_counter()
            if not store.index_backlog(writer.INDEX_BATCH):
                break
            batches.append(time.perf_counter() - b0)
            left = search_backlog.backlog_count(store.conn)
            if not during and left <= 1000:  # nearly done: the index and a short scan
                probe = Store(path, readonly=True)
                took, rows = ms(lambda: list_requests(probe, Filter(text=RARE, limit=20)))
                probe.close()
                during.append(f"{RARE} with {left:,} left to index: {len(rows)} row(s) in "
                              f"{took:,.0f} ms")
            time.sleep(writer.PAUSE)  # as the writer does between batches
    finally:
        done.set()
        thread.join()
        took = time.perf_counter() - t0
        store.close()
        other.close()
    print(f"backlog worked off in {took:.1f} s: {len(batches)} batches of "
          f"{writer.INDEX_BATCH}, {writer.PAUSE * 1000:.0f} ms apart, median "
          f"{statistics.median(batches) * 1000:,.0f} ms, worst {max(batches) * 1000:,.0f} ms; "
          f"{len(waits)} captures written meanwhile, worst write {max(waits) * 1000:,.0f} ms, "
          f"median {statistics.median(waits) * 1000:,.0f} ms")
    for line in during:
        print(f"  search during the backlog: {line}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dir", default=None, help="work folder (default: a temporary one)")
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    v6 = work / f"search-{args.n}-v6.db"
    if not v6.exists():
        build_big(v6, args.n)
        give_own_text(v6)
        to_schema_6(v6)
    print(f"schema 6 database: {v6.stat().st_size / 1e6:,.0f} MB")
    path = work / f"search-{args.n}.db"
    for old in work.glob(path.name + "*"):
        old.unlink()
    shutil.copyfile(v6, path)
    t0 = time.perf_counter()
    Store(path).close()
    took = time.perf_counter() - t0
    print(f"open as a writer, migration 7 (schema and backlog mark): {took * 1000:,.0f} ms "
          f"for {args.n:,} captures")
    probe = Store(path, readonly=True)
    took, progress = ms(lambda: index_progress(probe), 3)
    probe.close()
    print(f"index_progress: {progress} in {took:.1f} ms")
    print(f"searches over {args.n:,} captures, none indexed yet (backlog scanned):")
    bench_searches(path, work / "home")
    drain(path)
    docs = Store(path, readonly=True).execute("SELECT count(*) FROM search_docs")
    print(f"{docs.fetchone()[0]:,} documents; file now {path.stat().st_size / 1e6:,.0f} MB")
    print(f"searches over {args.n:,} captures, all indexed (list_requests, newest first):")
    bench_searches(path, work / "home")
    bench_writer_cost(work)


if __name__ == "__main__":
    main()
