"""Does `--exact` slow forwarding? The same Claude Code-like turns through the proxy with
exact counting off and on, in alternating rounds, against the stub API on loopback.

    python bench/bench_exact.py            # about 1 minute
    python bench/bench_exact.py --rounds 2 # quicker, rougher

With counting on, the recorder's process counts every request's parts with count_tokens
while the client sends (paced at the default 50 a minute; `--per-minute` to change);
forwarding runs in the proxy's own thread and never waits on it. The stub runs in its own
process, as the real API is elsewhere. Prints p50/p90 of the request round trip for each
mode, the ratio on/off, and how many count calls were made.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inspector.config import Config  # noqa: E402
from inspector.demo.traffic import demo_session  # noqa: E402
from inspector.runtime import Runtime  # noqa: E402


def one_round(port: int, ca_file: str, exact: bool, per_minute: int, bodies: list[dict],
              folder: Path) -> list[float]:
    home = Path(tempfile.mkdtemp(dir=folder))
    config = Config.load(home, listen="127.0.0.1:0", exact=exact, count_per_minute=per_minute,
                         resolve=[f"api.anthropic.com:443:127.0.0.1:{port}"], upstream_ca=ca_file)
    runtime = Runtime(config)
    runtime.start()
    host, port = runtime.proxy_address
    times = []
    try:
        with httpx.Client(proxy=f"http://{host}:{port}", verify=str(home / "ca.pem"), timeout=30) as client:
            client.post("https://api.anthropic.com/v1/messages", json=bodies[0],
                        headers={"x-api-key": "sk-ant-bench"})  # warm the connection
            for body in bodies:
                t0 = time.perf_counter()
                reply = client.post("https://api.anthropic.com/v1/messages", json=body,
                                    headers={"x-api-key": "sk-ant-bench", "anthropic-version": "2023-06-01"})
                times.append((time.perf_counter() - t0) * 1000)
                assert reply.status_code == 200, reply.text
    finally:
        runtime.stop()
    if exact:  # each count made is one row of the count cache
        import sqlite3

        with sqlite3.connect(config.db_path) as conn:
            CALLS[0] += conn.execute("SELECT count(*) FROM count_cache").fetchone()[0]
    return times


CALLS = [0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--per-minute", type=int, default=50)
    args = parser.parse_args()
    bodies = [dict(t.request, stream=False) for seed in range(3) for t in demo_session(seed, 6)]
    results: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        stub = subprocess.Popen([sys.executable, "-m", "inspector.demo.stub_api", "--port", "0",
                                 "--cert-dir", str(Path(tmp) / "ca")], stdout=subprocess.PIPE, text=True)
        try:
            port = int(stub.stdout.readline())
            for _ in range(args.rounds):
                for exact in (False, True):
                    results[exact] += one_round(port, str(Path(tmp) / "ca" / "ca.pem"), exact,
                                                args.per_minute, bodies, Path(tmp))
        finally:
            stub.terminate()
            stub.wait(10)
    print(f"{'mode':<12}{'n':>5}{'p50 ms':>10}{'p90 ms':>10}")
    for exact, times in results.items():
        q = statistics.quantiles(times, n=10)
        print(f"{'exact on' if exact else 'exact off':<12}{len(times):>5}{statistics.median(times):>10.2f}{q[8]:>10.2f}")
    off, on = (statistics.median(results[k]) for k in (False, True))
    print(f"ratio on/off (p50): {on / off:.3f}; count_tokens calls made meanwhile: {CALLS[0]}")


if __name__ == "__main__":
    main()
