"""Benchmark: the same traffic sent directly to a stub Messages API, through
`claude-inspect proxy`, and through `mitmdump` (when it is on PATH).

Everything runs on loopback in separate processes (stub, proxy, this client), so the
proxy's memory can be read from /proc. The client is a small blocking HTTP/1.1 client on
raw sockets, identical for every path, so differences come from the path, not the client.
Usage: python bench/bench_proxy.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL = json.dumps({"model": "claude-bench", "max_tokens": 64,
                    "messages": [{"role": "user", "content": "hello " * 40}]}).encode()


# ---------------------------------------------------------------- a minimal client
class Client:
    """One kept-alive HTTPS connection, directly or through a CONNECT proxy."""

    def __init__(self, target: tuple[str, int], ctx: ssl.SSLContext,
                 proxy: tuple[str, int] | None) -> None:
        self.target, self.ctx, self.proxy = target, ctx, proxy
        self.sock: ssl.SSLSocket | None = None
        self.f = None

    def connect(self) -> None:
        sock = socket.create_connection(self.proxy or self.target, timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.proxy:
            host, port = self.target
            sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                head += sock.recv(1)
            assert head.startswith(b"HTTP/1.1 200"), head
        self.sock = self.ctx.wrap_socket(sock, server_hostname=self.target[0])
        self.f = self.sock.makefile("rb")

    def close(self) -> None:
        if self.sock:
            self.f.close()
            self.sock.close()
            self.sock = None

    def send(self, body: bytes, headers: dict[str, str] | None = None) -> None:
        if self.sock is None:
            self.connect()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.sock.sendall(
            (f"POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\ncontent-type: application/json\r\n"
             f"content-length: {len(body)}\r\n{extra}\r\n").encode() + body)

    def read_head(self) -> tuple[int, dict[str, str]]:
        status = int(self.f.readline().split()[1])
        headers = {}
        while (line := self.f.readline()) not in (b"\r\n", b""):
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        return status, headers

    def chunks(self, headers: dict[str, str]):
        """Yield body pieces as they arrive (chunk by chunk, or 64 KiB reads)."""
        if "content-length" in headers:
            left = int(headers["content-length"])
            while left:
                data = self.f.read1(min(left, 1 << 16))
                if not data:
                    raise ConnectionError("short body")
                left -= len(data)
                yield data
            return
        while True:
            size = int(self.f.readline().split(b";")[0], 16)
            if size == 0:
                self.f.readline()
                return
            data = self.f.read(size)
            self.f.readline()
            yield data

    def request(self, body: bytes = SMALL, headers: dict[str, str] | None = None) -> int:
        self.send(body, headers)
        status, h = self.read_head()
        n = sum(len(c) for c in self.chunks(h))
        return n


# ---------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def drain(stream) -> None:
    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()


@dataclass
class Path_:
    name: str
    proxy: tuple[str, int] | None
    ctx: ssl.SSLContext
    pid: int | None = None


def start_stub(tmp: Path) -> tuple[subprocess.Popen, int, str]:
    proc = subprocess.Popen([sys.executable, "-m", "inspector.demo.stub_api", "--port", "0",
                             "--cert-dir", str(tmp / "stub")], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    port = int(proc.stdout.readline())
    return proc, port, str(tmp / "stub" / "ca.pem")


def start_ours(tmp: Path, stub_ca: str, record: bool = True,
               source: Path = ROOT, home: str = "home") -> tuple[subprocess.Popen, int, str]:
    """`claude-inspect proxy`, recording to SQLite (capture on) or with --no-record; run
    from the `source` tree (another checkout of the project, to compare two versions)."""
    env = dict(os.environ, CLAUDE_INSPECT_HOME=str(tmp / home))
    if source != ROOT:
        env["PYTHONPATH"] = str(source)
    extra = [] if record else ["--no-record"]
    proc = subprocess.Popen([sys.executable, "-m", "inspector", "proxy", "--listen", "127.0.0.1:0",
                             "--intercept", "127.0.0.1", "--upstream-ca", stub_ca, *extra],
                            stdout=subprocess.PIPE, text=True, env=env, cwd=source)
    first = proc.stdout.readline()
    port = int(first.split("listening on ", 1)[1].split(",")[0].rsplit(":", 1)[1])
    drain(proc.stdout)
    return proc, port, str(tmp / home / "ca.pem")


def start_mitmdump(tmp: Path, stub_ca: str) -> tuple[subprocess.Popen, int, str] | None:
    exe = shutil.which("mitmdump")
    if not exe:
        return None
    port = free_port()
    confdir = tmp / "mitm"
    proc = subprocess.Popen([exe, "-q", "--listen-host", "127.0.0.1", "--listen-port", str(port),
                             "--set", f"confdir={confdir}", "--set", "stream_large_bodies=1",
                             "--set", f"ssl_verify_upstream_trusted_ca={stub_ca}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, port, str(confdir / "mitmproxy-ca-cert.pem")


# ---------------------------------------------------------------- measurements
def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def small_latency(p: Path_, target, n: int) -> list[float]:
    c = Client(target, p.ctx, p.proxy)
    for _ in range(50):
        c.request()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        c.request()
        times.append((time.perf_counter() - t) * 1000)
    c.close()
    return times


def sse(p: Path_, target, runs: int) -> dict[str, list[float]]:
    """Time to first event, and each event's transit time: the stub stamps every event
    with time.monotonic() (one clock for all processes) as it sends it; we compare with
    the moment the event reaches us. Events are 2 ms apart at the source."""
    c = Client(target, p.ctx, p.proxy)
    body = json.dumps({"model": "m", "stream": True}).encode()
    hdr = {"x-stub-event-delay-ms": "2", "x-stub-text-chars": "240", "x-stub-stamp": "1"}
    firsts, transit = [], []
    for _ in range(runs):
        t = time.perf_counter()
        c.send(body, hdr)
        _, h = c.read_head()
        first = True
        for chunk in c.chunks(h):
            now = time.monotonic()
            if first:
                firsts.append((time.perf_counter() - t) * 1000)
                first = False
            if chunk.startswith(b": sent "):
                transit.append((now - float(chunk[7:chunk.index(b"\n")])) * 1000)
    # burst: many events back to back, time per event
    burst = []
    for _ in range(3):
        t = time.perf_counter()
        c.send(body, {"x-stub-text-chars": "24000"})
        _, h = c.read_head()
        n = sum(1 for _ in c.chunks(h))
        burst.append((time.perf_counter() - t) * 1000 / n)
    c.close()
    return {"first": firsts, "transit": transit, "burst": burst}


def throughput(p: Path_, target, size: int) -> float:
    c = Client(target, p.ctx, p.proxy)
    c.request()
    t = time.perf_counter()
    got = c.request(headers={"x-stub-body-bytes": str(size)})
    dt = time.perf_counter() - t
    c.close()
    assert got == size
    return size / dt / 1e6


def concurrent_rps(p: Path_, target, clients: int, seconds: float) -> float:
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def work(i: int) -> None:
        c = Client(target, p.ctx, p.proxy)
        c.request()
        while time.monotonic() < stop:
            c.request()
            counts[i] += 1
        c.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sum(counts) / (time.perf_counter() - t)


def upload(p: Path_, target, size: int, runs: int) -> float:
    c = Client(target, p.ctx, p.proxy)
    body = b'{"x":"' + b"a" * (size - 9) + b'"}'
    c.request()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        c.request(body)
        times.append((time.perf_counter() - t) * 1000)
    c.close()
    return statistics.median(times)


def fresh_connection(p: Path_, target, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        c = Client(target, p.ctx, p.proxy)
        c.request()
        times.append((time.perf_counter() - t) * 1000)
        c.close()
    return statistics.median(times)


def run(paths: list[Path_], target, quick: bool) -> dict[str, dict[str, float]]:
    """Measure every path in alternating rounds, so a busy moment on the machine hits all
    paths alike; pool the samples of all rounds."""
    rounds = 2 if quick else 3
    scale = 0.4 if quick else 1.0
    samples: dict[str, dict[str, list[float]]] = {p.name: {} for p in paths}

    def add(name: str, key: str, values: list[float] | float) -> None:
        samples[name].setdefault(key, []).extend(values if isinstance(values, list) else [values])

    for r in range(rounds):
        order = paths if r % 2 == 0 else list(reversed(paths))
        print(f"  round {r + 1}/{rounds}", file=sys.stderr, flush=True)
        for p in order:
            lat = small_latency(p, target, int(700 * scale))
            add(p.name, "small", lat)
            s = sse(p, target, int(12 * scale) or 4)
            add(p.name, "first", s["first"])
            add(p.name, "transit", s["transit"])
            add(p.name, "burst", s["burst"])
            add(p.name, "mbps", throughput(p, target, 50 * 1024 * 1024))
            add(p.name, "rps", concurrent_rps(p, target, 32, 3 * scale))
            add(p.name, "upload", upload(p, target, 2 * 1024 * 1024, int(8 * scale) or 3))
            add(p.name, "fresh", fresh_connection(p, target, int(40 * scale)))
    results: dict[str, dict[str, float]] = {}
    for p in paths:
        s = samples[p.name]
        r = {
            "small p50 ms": statistics.median(s["small"]),
            "small p99 ms": pct(s["small"], 0.99),
            "first SSE event ms": statistics.median(s["first"]),
            "SSE event transit ms": statistics.median(s["transit"]),
            "burst ms/event": statistics.median(s["burst"]),
            "50 MB MB/s": statistics.median(s["mbps"]),
            "32 clients req/s": statistics.median(s["rps"]),
            "2 MB upload ms": statistics.median(s["upload"]),
            "new connection ms": statistics.median(s["fresh"]),
        }
        if p.pid:
            r["peak RSS MB"] = peak_rss_mb(p.pid)
        results[p.name] = r
    return results


def report(results: dict[str, dict[str, float]]) -> None:
    names = list(results)
    direct = results["direct"]
    rows = list(direct) + ["peak RSS MB"]
    print(f"\n{'metric':<22}" + "".join(f"{n:>16}" for n in names) + "".join(
        f"{'vs direct: ' + n:>28}" for n in names[1:]))
    for key in rows:
        cells = []
        for n in names:
            v = results[n].get(key)
            cells.append(f"{v:>16.3f}" if v is not None else f"{'-':>16}")
        for n in names[1:]:
            v, d = results[n].get(key), direct.get(key)
            if v is None or d is None:
                cells.append(f"{'-':>28}")
            elif key.endswith("ms") or key.endswith("ms/event"):
                cells.append(f"{f'{v - d:+.3f} ms (x{v / d:.2f})':>28}")
            else:
                cells.append(f"{f'x{v / d:.2f}':>28}")
        print(f"{key:<22}" + "".join(cells))
    print("\nsmall: one ~300-byte POST on a kept-alive connection; SSE event transit: stub send ->"
          " client read per event (events 2 ms apart); burst: back-to-back events; new"
          " connection: TCP + TLS (+ CONNECT and the proxy's upstream TLS) + one request.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (about 30 s)")
    parser.add_argument("--capture-off", action="store_true",
                        help="also measure `claude-inspect proxy --no-record` (relay only)")
    parser.add_argument("--baseline", metavar="DIR", type=Path,
                        help="also measure the proxy of another checkout of this project "
                             "(e.g. a `git worktree` of the previous commit), in the same rounds")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="claude-inspect-bench-"))
    procs = []
    try:
        stub, stub_port, stub_ca = start_stub(tmp)
        procs.append(stub)
        target = ("127.0.0.1", stub_port)
        paths = [Path_("direct", None, ssl.create_default_context(cafile=stub_ca))]
        ours, port, ca = start_ours(tmp, stub_ca)
        procs.append(ours)
        paths.append(Path_("claude-inspect", ("127.0.0.1", port), ssl.create_default_context(cafile=ca), ours.pid))
        if args.capture_off:
            bare, port, ca = start_ours(tmp, stub_ca, record=False)
            procs.append(bare)
            paths.append(Path_("capture off", ("127.0.0.1", port),
                               ssl.create_default_context(cafile=ca), bare.pid))
        if args.baseline:
            base, port, ca = start_ours(tmp, stub_ca, record=not args.capture_off,
                                        source=args.baseline.resolve(), home="baseline-home")
            procs.append(base)
            paths.append(Path_("baseline", ("127.0.0.1", port),
                               ssl.create_default_context(cafile=ca), base.pid))
        mitm = start_mitmdump(tmp, stub_ca)
        if mitm:
            procs.append(mitm[0])
            paths.append(Path_("mitmdump", ("127.0.0.1", mitm[1]),
                               ssl.create_default_context(cafile=mitm[2]), mitm[0].pid))
        else:
            print("  (mitmdump not on PATH: skipped)", file=sys.stderr)
        report(run(paths, target, args.quick))
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
