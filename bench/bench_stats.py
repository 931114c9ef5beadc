"""Benchmark: `claude-inspect stats --since 30d` over a 100k-exchange database.

Builds the database quickly: a few demo Claude Code sessions go through the real capture,
attribution and store code once; their rows are then copied with new ids and times spread
over the last 35 days (bulk inserts, same schema, same shared body parts), so the tables
hold what 100k real captures would: ~100 attribution rows per request.

Then times `stats` for each grouping: cold (the first `--by source` builds the rollups of
every request) and warm (what a user sees on later runs), in process and as a subprocess.

    python bench/bench_stats.py [--n 100000] [--db PATH] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
from inspector.runtime import prepare_record  # noqa: E402
from inspector.store import Store  # noqa: E402
from inspector.store import rows as R  # noqa: E402
from inspector.timeparse import iso_utc  # noqa: E402

MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-5", "claude-haiku-4-5", "claude-x-unknown"]


def templates(sessions: int = 8, turns: int = 12) -> list[tuple]:
    """(request row, response row, attribution rows, blob rows, links) per demo turn."""
    out = []
    now = time.time()
    for seed in range(sessions):
        model = MODELS[seed % len(MODELS)]
        for i, turn in enumerate(demo_session(seed=seed, turns=turns)):
            req = CapturedBody(1 << 26)
            req.append(json.dumps(dict(turn.request, model=model)).encode())
            resp = CapturedBody(1 << 26)
            resp.append(json.dumps(turn.response).encode())
            ex = Exchange(id=new_id(now), connection_id="c", mode="intercept", scheme="https",
                          host="api.anthropic.com", port=443, method="POST",
                          target="/v1/messages?beta=true", client_addr="127.0.0.1:1",
                          request_headers=[(k.lower(), v) for k, v in turn.headers.items()],
                          request_body=req, status=200, reason="OK",
                          response_headers=[("content-type", "application/json")],
                          response_body=resp, timings=Timings(started_wall=now), complete=True)
            rec = prepare_record(ex)
            body, parts = R.split_body(rec.capture.request_json)
            nodes, tree = R.flatten_tree("x", rec.attribution)
            out.append((R.request_row(rec, body, tree), R.response_row(rec.capture), nodes,
                        [(h, t, len(t)) for h, t in parts.items()], list(parts)))
    return out


def build(path: Path, n: int, days: float = 35.0, triggers: bool = True) -> float:
    """Fill a new database with `n` exchanges; returns seconds taken. With `triggers`,
    the analysis tables exist first and the rollups are kept as rows are written."""
    from inspector.analysis.rollup import ensure_schema

    tpl = templates()
    t0 = time.perf_counter()
    rng = random.Random(7)
    store = Store(path)
    conn = store.conn
    if triggers:
        ensure_schema(conn)
    conn.execute("PRAGMA synchronous = OFF")
    now = time.time()
    times = sorted(now - rng.random() * days * 86400 for _ in range(n))
    req_cols, resp_cols = R.REQUEST_COLUMNS, R.RESPONSE_COLUMNS
    n_req = len(tpl[0][0])
    n_resp = len(tpl[0][1])
    with store.db.atomic():
        conn.executemany("INSERT OR IGNORE INTO blobs (hash, data, size) VALUES (?, ?, ?)",
                         [b for t in tpl for b in t[3]])
    batch = 2000
    for start in range(0, n, batch):
        reqs, resps, attrs, links = [], [], [], []
        for k in range(start, min(start + batch, n)):
            req_row, resp_row, attr_rows, _, hashes = tpl[k % len(tpl)]
            rid = new_id(times[k])
            session = f"sess-{k // 12:06d}"
            reqs.append((rid, iso_utc(times[k]), *req_row[2:11], session, *req_row[12:]))
            resps.append((rid, *resp_row[1:]))
            attrs.extend((rid, *a[1:]) for a in attr_rows)
            links.extend((rid, h) for h in hashes)
        with store.db.atomic():
            conn.executemany(f"INSERT INTO requests ({req_cols}) VALUES "
                             f"({', '.join('?' * n_req)})", reqs)
            conn.executemany(f"INSERT INTO responses ({resp_cols}) VALUES "
                             f"({', '.join('?' * n_resp)})", resps)
            conn.executemany(f"INSERT INTO attributions ({R.ATTRIBUTION_COLUMNS}) VALUES "
                             f"({', '.join('?' * 12)})", attrs)
            conn.executemany("INSERT OR IGNORE INTO request_blobs VALUES (?, ?)", links)
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
    parser.add_argument("--no-triggers", action="store_true",
                        help="Write the captures before the analysis tables exist, so the "
                             "first stats run sums every request in bulk.")
    args = parser.parse_args()

    from inspector.analysis.stats import compute_stats

    tmp = tempfile.mkdtemp(prefix="bench-stats-")
    path = args.db or Path(tmp) / "captures.db"
    if not path.exists():
        print(f"building {args.n:,} exchanges in {path} ...", flush=True)
        took = build(path, args.n, triggers=not args.no_triggers)
        print(f"  built in {took:.1f} s ({'without' if args.no_triggers else 'with'} the "
              f"rollup triggers)", flush=True)
    store = Store(path)
    conn = store.conn
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("requests", "attributions")}
    print(f"  {counts['requests']:,} requests, {counts['attributions']:,} attribution rows, "
          f"{path.stat().st_size / 1e6:.0f} MB")
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
    env = dict(os.environ, CLAUDE_INSPECT_HOME=tmp)
    for by in ("source", "model"):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "inspector", "--db", str(path), "stats",
                        "--since", "30d", "--by", by, "--json"], check=True,
                       stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
        print(f"claude-inspect stats --since 30d --by {by:<6} --json, whole process: "
              f"{(time.perf_counter() - t) * 1000:6.0f} ms")
    if not args.keep and args.db is None:
        for p in Path(tmp).iterdir():
            p.unlink()
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
