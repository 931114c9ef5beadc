"""Benchmark: `claude-inspect stats --since 30d` over a 100k-exchange database.

Builds the database quickly: a few demo Claude Code sessions go through the real capture,
attribution and store code once; their rows are then copied by SQL with new ids and times
spread over the last 35 days (same schema, same shared body parts), so the tables hold
what 100k real captures would, their stats rollup rows included.

Then times `stats` for each grouping: the first run (with `--unrolled`, the first
`--by source` sums every request in bulk) and later ones, in process and as a subprocess.

    python bench/bench_stats.py [--n 100000] [--db PATH] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inspector.demo.traffic import demo_session  # noqa: E402
from inspector.ids import new_id  # noqa: E402
from inspector.model import CapturedBody, Exchange, Timings  # noqa: E402
from inspector.runtime.pipeline import prepare_record  # noqa: E402
from inspector.store import Store  # noqa: E402
from inspector.timeparse import iso_utc  # noqa: E402

MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-5", "claude-haiku-4-5", "claude-x-unknown"]


def template_records(sessions: int = 8, turns: int = 12) -> list:
    """Records of a few demo sessions, captured, attributed and priced as the runtime does."""
    out = []
    now = time.time() - 40 * 86400
    for seed in range(sessions):
        model = MODELS[seed % len(MODELS)]
        for i, turn in enumerate(demo_session(seed=seed, turns=turns)):
            req = CapturedBody(1 << 26)
            req.append(json.dumps(dict(turn.request, model=model)).encode())
            resp = CapturedBody(1 << 26)
            resp.append(json.dumps(turn.response).encode())
            started = now + seed * 3600 + i
            ex = Exchange(id=new_id(started), connection_id="c", mode="intercept",
                          scheme="https", host="api.anthropic.com", port=443, method="POST",
                          target="/v1/messages?beta=true", client_addr="127.0.0.1:1",
                          request_headers=[(k.lower(), v) for k, v in turn.headers.items()],
                          request_body=req, status=200, reason="OK",
                          response_headers=[("content-type", "application/json")],
                          response_body=resp, timings=Timings(started_wall=started),
                          complete=True)
            out.append(prepare_record(ex))
    return out


def _copy_sql(conn, table: str, key: str, replaced: dict[str, str]) -> str:
    """INSERT ... SELECT copying one template's rows of `table` under a new request id
    (and the other `replaced` columns), whatever the store's columns are today."""
    cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    values = [replaced.get(c, c) for c in cols]
    return (f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(values)} "
            f"FROM {table} WHERE {key} = :template")


def clone(store: Store, templates: list[str], params: list[dict], rolled: bool = True,
          more: dict[str, str] | None = None) -> None:
    """Copy template requests by SQL: `params` holds, per copy, its new "id", "ts",
    "session" and the "template" id it copies. Copies share the templates' body parts and
    trees, as turns of real sessions share theirs. With `rolled`, their stats rollup rows
    are copied too (as the store writes them with each capture); without, the first
    `stats --by source` sums them in bulk. `more`: other columns of `requests` to set
    (column -> SQL expression over the parameters)."""
    conn = store.conn
    copy_request = _copy_sql(conn, "requests", "id",
                             {"id": ":id", "ts": ":ts", "session_id": ":session", **(more or {})})
    copies = [_copy_sql(conn, table, "request_id", {"request_id": ":id"})
              for table in ("responses", "request_blobs", "request_sources")]
    if rolled:
        copies += [_copy_sql(conn, "analysis_request_sources", "request_id",
                             {"request_id": ":id", "ts": ":ts", "day": "substr(:ts, 1, 10)"}),
                   _copy_sql(conn, "analysis_rolled", "request_id", {"request_id": ":id"})]
    for start in range(0, len(params), 2000):
        chunk = params[start:start + 2000]
        with store.db.atomic():
            conn.executemany(copy_request, chunk)
            for sql in copies:
                conn.executemany(sql, chunk)
    with store.db.atomic():  # the day table, as the rows copied above sum up
        conn.execute("DELETE FROM analysis_source_days")
        conn.execute("""INSERT INTO analysis_source_days
                            (day, source, requests, leaves, chars, tokens, cost)
                        SELECT day, source, count(*), sum(leaves), sum(chars), sum(tokens),
                               sum(cost)
                        FROM analysis_request_sources GROUP BY day, source""")


def build(path: Path, n: int, days: float = 35.0, rolled: bool = True) -> float:
    """Fill a new database with `n` exchanges; returns seconds taken. The templates are
    written by the store itself; the rest are copies made by SQL with new ids, times and
    sessions (see `clone`)."""
    records = template_records()
    t0 = time.perf_counter()
    rng = random.Random(7)
    store = Store(path)
    store.write(records)
    store.conn.execute("PRAGMA synchronous = OFF")
    templates = [r.capture.id for r in records]
    now = time.time()
    times = sorted(now - rng.random() * days * 86400 for _ in range(n - len(templates)))
    params = [{"id": new_id(t), "ts": iso_utc(t), "session": f"sess-{k // 12:06d}",
               "template": templates[k % len(templates)]} for k, t in enumerate(times)]
    clone(store, templates, params, rolled)
    store.close()
    return time.perf_counter() - t0


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--unrolled", action="store_true",
                        help="Copy the captures without their rollup rows, so the first "
                             "stats run sums every request in bulk (from its tree).")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-stats-")
    try:
        run(args, Path(tmp))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> None:
    from inspector.analysis.stats import compute_stats

    path = args.db or tmp / "captures.db"
    if not path.exists():
        print(f"building {args.n:,} exchanges in {path} ...", flush=True)
        took = build(path, args.n, rolled=not args.unrolled)
        print(f"  built in {took:.1f} s ({'without' if args.unrolled else 'with'} their "
              f"rollup rows)", flush=True)
    store = Store(path)
    conn = store.conn
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("requests", "analysis_request_sources")}
    print(f"  {counts['requests']:,} requests, {counts['analysis_request_sources']:,} "
          f"per-source rollup rows, {path.stat().st_size / 1e6:.0f} MB")
    since = time.time() - 30 * 86400
    cold = timed(lambda: compute_stats(conn, since, None, "source"))
    print(f"stats --since 30d --by source, first run:                {cold * 1000:8.0f} ms")
    for by in ("source", "model", "day", "session"):
        runs = [timed(lambda: compute_stats(conn, since, None, by)) for _ in range(3)]
        print(f"stats --since 30d --by {by:<7} warm, in process:        "
              f"{min(runs) * 1000:8.0f} ms (best of 3)")
    # a new capture invalidates one request: the next run redoes only that one
    conn.execute("DELETE FROM analysis_rolled WHERE request_id = "
                 "(SELECT id FROM requests ORDER BY ts DESC LIMIT 1)")
    conn.commit()
    inc = timed(lambda: compute_stats(conn, since, None, "source"))
    print(f"stats --since 30d --by source after one new capture:     {inc * 1000:8.0f} ms")
    store.close()
    env = dict(os.environ, CLAUDE_INSPECT_HOME=str(tmp))
    for by in ("source", "model"):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "inspector", "--db", str(path), "stats",
                        "--since", "30d", "--by", by, "--json"], check=True,
                       stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
        print(f"claude-inspect stats --since 30d --by {by:<6} --json, whole process: "
              f"{(time.perf_counter() - t) * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
