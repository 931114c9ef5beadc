"""Benchmark: does streaming spans to a collector slow forwarding? The same Claude
Code-sized requests go directly to the stub API, through `claude-inspect proxy`, and
through `claude-inspect proxy --otlp-endpoint` with a collector on loopback, in
rounds (paths in a shuffled order) so a busy moment hits every path alike.

Usage: python bench/bench_otlp.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_proxy import Client, drain, free_port, start_stub  # noqa: E402

from inspector.demo.traffic import demo_session  # noqa: E402


def collector(port: int, counter) -> None:
    """A collector that takes every POST (reads it whole) and answers 200."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length") or 0))
            with counter.get_lock():
                counter.value += 1
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def start_proxy(tmp: Path, name: str, stub_ca: str, *extra: str):
    env = dict(os.environ, CLAUDE_INSPECT_HOME=str(tmp / name))
    proc = subprocess.Popen([sys.executable, "-m", "inspector", "proxy", "--listen",
                             "127.0.0.1:0", "--intercept", "127.0.0.1", "--upstream-ca",
                             stub_ca, *extra], stdout=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT)
    first = proc.stdout.readline()
    port = int(first.split("listening on ", 1)[1].split(",")[0].rsplit(":", 1)[1])
    drain(proc.stdout)
    return proc, port, str(tmp / name / "ca.pem")


def context(*cafiles: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    for ca in cafiles:
        ctx.load_verify_locations(ca)
    return ctx


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    bodies = [json.dumps(dict(t.request, stream=False)).encode()
              for t in demo_session(seed=5, turns=8)]
    counter = multiprocessing.Value("i", 0)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        stub, stub_port, stub_ca = start_stub(tmp)
        cport = free_port()
        coll = multiprocessing.Process(target=collector, args=(cport, counter), daemon=True)
        coll.start()
        plain, plain_port, plain_ca = start_proxy(tmp, "plain", stub_ca)
        otlp, otlp_port, otlp_ca = start_proxy(tmp, "otlp", stub_ca, "--otlp-endpoint",
                                               f"http://127.0.0.1:{cport}")
        target = ("127.0.0.1", stub_port)
        paths = {
            "direct": Client(target, context(stub_ca), None),
            "proxy": Client(target, context(plain_ca), ("127.0.0.1", plain_port)),
            "proxy + OTLP": Client(target, context(otlp_ca), ("127.0.0.1", otlp_port)),
        }
        times: dict[str, list[float]] = {name: [] for name in paths}
        try:
            for client in paths.values():
                client.connect()
                client.request(bodies[0])  # warm up
            for i in range(args.rounds):
                body = bodies[i % len(bodies)]
                order = list(paths.items())
                random.shuffle(order)  # no path always goes first or last
                for name, client in order:
                    start = time.perf_counter()
                    client.request(body)
                    times[name].append((time.perf_counter() - start) * 1000)
            time.sleep(2)  # let the follower send the last batch
        finally:
            for client in paths.values():
                client.close()
            for proc in (plain, otlp, stub):
                proc.terminate()
                proc.wait(30)
            coll.terminate()
    direct = statistics.median(times["direct"])
    print(f"{args.rounds} rounds of ~{sum(map(len, bodies)) // len(bodies) // 1024} KB "
          f"requests; collector took {counter.value} batches")
    print(f"{'path':<14}{'p50 ms':>9}{'p90 ms':>9}{'p50 - direct':>15}")
    for name, values in times.items():
        p50 = statistics.median(values)
        p90 = sorted(values)[int(len(values) * 0.9) - 1]
        print(f"{name:<14}{p50:>9.2f}{p90:>9.2f}{p50 - direct:>+15.2f}")
    extra = statistics.median(times["proxy + OTLP"]) - statistics.median(times["proxy"])
    print(f"live OTLP adds {extra:+.2f} ms to the proxy's p50 "
          f"(ratio {statistics.median(times['proxy + OTLP']) / statistics.median(times['proxy']):.3f})")


if __name__ == "__main__":
    main()
