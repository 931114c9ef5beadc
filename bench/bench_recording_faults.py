"""Recording faults under load: what is stored, what memory costs, how long shutdown takes.

Runs the real `claude-inspect proxy` against the stand-in API with client threads
sending continuously, and injects one fault per scenario:

    kill9     kill -9 of the recorder halfway through      target: >= 90% stored
    sigstop   recorder stopped (SIGSTOP) while 1500 requests of 200 KB pass;
              the proxy's peak memory is compared with the same load recorded normally
                                                           target: proxy < 250 MB
    garbage   captures.db is not a database                recorder memory, shutdown time
    diskfull  writes past a file-size limit fail           recorder memory, shutdown time

    python bench/bench_recording_faults.py                 # every scenario (~2 minutes)
    python bench/bench_recording_faults.py kill9 --seconds 10

Each scenario is bounded in time; figures are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from inspector.demo.stub_api import StubAPI
from inspector.store import Filter, Store, count_requests

API = "https://api.anthropic.com/v1/messages"


class Proxy:
    def __init__(self, home: Path, stub: StubAPI, preexec=None) -> None:
        env = dict(os.environ, CLAUDE_INSPECT_HOME=str(home))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inspector", "proxy", "--listen", "127.0.0.1:0",
             "--resolve", f"api.anthropic.com:443:127.0.0.1:{stub.port}",
             "--upstream-ca", stub.ca_file],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            preexec_fn=preexec)
        first = self.proc.stdout.readline()
        self.port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", first).group(1))
        self.warnings: list[str] = []
        threading.Thread(target=self._drain, args=(self.proc.stdout, None), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stderr, self.warnings),
                         daemon=True).start()
        self.peak = {"proxy": 0, "recorder": 0}
        self._sampling = True
        threading.Thread(target=self._sample, daemon=True).start()

    def _drain(self, stream, into) -> None:
        for line in stream:
            if into is not None:
                into.append(line.rstrip())

    def recorder(self) -> int | None:
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):
            try:
                pids = (task / "children").read_text().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if b"multiprocessing" in cmd and b"resource_tracker" not in cmd:
                    return int(pid)
        return None

    def _sample(self) -> None:
        while self._sampling and self.proc.poll() is None:
            for name, pid in (("proxy", self.proc.pid), ("recorder", self.recorder())):
                if pid is not None:
                    self.peak[name] = max(self.peak[name], rss(pid))
            time.sleep(0.05)

    def stop(self) -> float:
        t = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return float("inf")
        took = time.monotonic() - t
        self._sampling = False
        time.sleep(0.2)  # the readers catch the last lines
        return took


def rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def load(port: int, home: Path, *, threads: int, seconds: float | None = None,
         total: int | None = None, pad: int = 2000) -> int:
    """Send requests from `threads` clients until `seconds` pass or `total` are sent;
    returns how many were answered 200."""
    filler = base64.b64encode(os.urandom(pad)).decode()[:pad]
    body = {"model": "claude-haiku-4-5", "max_tokens": 8, "pad": filler,
            "messages": [{"role": "user", "content": "hi"}]}
    end = time.monotonic() + (seconds or 3600)
    lock = threading.Lock()
    counts = {"sent": 0, "ok": 0}

    def client() -> None:
        with httpx.Client(proxy=f"http://127.0.0.1:{port}", verify=str(home / "ca.pem"),
                          timeout=30) as http:
            while time.monotonic() < end:
                with lock:
                    if total is not None and counts["sent"] >= total:
                        return
                    counts["sent"] += 1
                try:
                    ok = http.post(API, json=body).status_code == 200
                except httpx.HTTPError:
                    ok = False
                with lock:
                    counts["ok"] += ok

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return counts["ok"]


def stored(home: Path) -> int:
    try:
        with Store(home / "captures.db") as store:
            return count_requests(store, Filter())
    except Exception:  # noqa: BLE001 - a garbage database stores nothing
        return 0


def mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB"


def kill9(stub: StubAPI, args) -> None:
    home = Path(tempfile.mkdtemp(prefix="ci-bench-kill9-"))
    p = Proxy(home, stub)
    killer = threading.Timer(args.seconds / 2, lambda: os.kill(p.recorder(), signal.SIGKILL))
    killer.start()
    relayed = load(p.port, home, threads=8, seconds=args.seconds)
    took = p.stop()
    n = stored(home)
    print(f"kill9: relayed {relayed}, stored {n} ({100 * n / max(relayed, 1):.1f}%), "
          f"shutdown {took:.1f} s")
    for line in p.warnings:
        print("   ", line)


def sigstop(stub: StubAPI, args) -> None:
    peaks = {}
    for stopped in (False, True):
        home = Path(tempfile.mkdtemp(prefix="ci-bench-sigstop-"))
        p = Proxy(home, stub)
        load(p.port, home, threads=2, total=20)  # warm up: connections, leaf certificate
        base = rss(p.proc.pid)
        recorder = p.recorder()
        if stopped:
            os.kill(recorder, signal.SIGSTOP)
        t = time.monotonic()
        relayed = load(p.port, home, threads=8, total=args.requests, pad=200_000,
                       seconds=args.seconds * 4)
        elapsed = time.monotonic() - t
        peak = p.peak["proxy"]
        if stopped:
            os.kill(recorder, signal.SIGCONT)
        took = p.stop()
        peaks[stopped] = peak
        print(f"sigstop ({'recorder stopped' if stopped else 'recorder running'}): "
              f"{relayed} x 200 KB relayed in {elapsed:.1f} s, proxy {mb(base)} -> peak "
              f"{mb(peak)}, stored {stored(home)}, shutdown {took:.1f} s")
        for line in p.warnings[-8:]:
            print("   ", line)
    print(f"sigstop: proxy peak, stopped / running = {peaks[True] / peaks[False]:.2f}")


def garbage(stub: StubAPI, args) -> None:
    home = Path(tempfile.mkdtemp(prefix="ci-bench-garbage-"))
    home.mkdir(exist_ok=True)
    (home / "captures.db").write_bytes(os.urandom(1 << 20))
    p = Proxy(home, stub)
    relayed = load(p.port, home, threads=8, seconds=args.seconds, pad=20_000)
    took = p.stop()
    print(f"garbage: relayed {relayed}, recorder peak {mb(p.peak['recorder'])}, proxy peak "
          f"{mb(p.peak['proxy'])}, shutdown {took:.1f} s, stderr lines {len(p.warnings)}")
    for line in p.warnings[:3]:
        print("   ", line)


def diskfull(stub: StubAPI, args) -> None:
    home = Path(tempfile.mkdtemp(prefix="ci-bench-diskfull-"))
    Store(home / "captures.db").close()
    limit = (home / "captures.db").stat().st_size + (2 << 20)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    p = Proxy(home, stub, preexec=apply)
    relayed = load(p.port, home, threads=8, seconds=args.seconds, pad=20_000)
    took = p.stop()
    print(f"diskfull: relayed {relayed}, stored {stored(home)}, recorder peak "
          f"{mb(p.peak['recorder'])}, proxy peak {mb(p.peak['proxy'])}, shutdown {took:.1f} s, "
          f"stderr lines {len(p.warnings)}")
    for line in p.warnings[:4]:
        print("   ", line)


SCENARIOS = {"kill9": kill9, "sigstop": sigstop, "garbage": garbage, "diskfull": diskfull}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="*", choices=[*SCENARIOS, []], default=[])
    parser.add_argument("--seconds", type=float, default=15, help="load per scenario")
    parser.add_argument("--requests", type=int, default=1500, help="sigstop: 200 KB requests")
    args = parser.parse_args()
    with StubAPI(tls=True, cert_dir=Path(tempfile.mkdtemp(prefix="ci-bench-stub-"))) as stub:
        for name in args.scenario or SCENARIOS:
            SCENARIOS[name](stub, args)


if __name__ == "__main__":
    main()
