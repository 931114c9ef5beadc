"""Memory of `claude-inspect proxy` and all its descendants while big bodies pass.

    python bench/bench_memory.py                  # the three cases below, about a minute
    python bench/bench_memory.py --mb 20          # smaller bodies, for a quick look
    python bench/bench_memory.py --code OTHER     # the proxy from another checkout

It starts the stub Messages API in a process of its own (not counted), then
`claude-inspect proxy` recording to a fresh home, and sends through it, one after another:

* a streamed reply of about 50 MB of SSE (one long text, ~4.8 M characters in 12-char deltas),
* a plain JSON reply whose one text block is 50 MB,
* a 32 MB request that is mostly one base64 document (the reply is small).

Each case lasts until its exchange is stored (the database is polled); after the last, the
proxy gets SIGTERM and is waited for. Meanwhile a sampler sums the resident memory
(RSS) of the proxy and every process descending from it, every 20 ms. The table gives the
peak of that sum during each case (relayed and stored) and overall, with its seconds.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it, from /proc's parent links."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out


def tree_rss_mb(pid: int) -> tuple[float, float]:
    """(RSS of `pid` and its descendants summed, RSS of `pid` alone) in MB."""
    total = own = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/statm") as f:
                rss = int(f.read().split()[1]) * PAGE
        except OSError:
            continue
        total += rss
        own = rss if p == pid else own
    return total / (1 << 20), own / (1 << 20)


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.phase = "start"
        self.peaks: dict[str, float] = {}
        self.proxy_peaks: dict[str, float] = {}
        self.running = True

    def run(self) -> None:
        while self.running:
            mb, own = tree_rss_mb(self.pid)
            if mb > 0:
                self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), mb)
                self.proxy_peaks[self.phase] = max(self.proxy_peaks.get(self.phase, 0.0), own)
            time.sleep(0.02)


def wait_stored(db_path: Path, n: int, timeout: float = 600) -> None:
    """Until `n` exchanges are stored (each case is measured up to its storage)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
            try:
                if db.execute("SELECT count(*) FROM responses").fetchone()[0] >= n:
                    return
            finally:
                db.close()
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{n} exchanges not stored after {timeout} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=50, help="size of the replies in MB")
    ap.add_argument("--request-mb", type=float, default=32, help="size of the request in MB")
    ap.add_argument("--skip-sse", action="store_true", help="leave out the streamed reply "
                    "(its relay takes minutes: the stub sends 450k events one by one)")
    ap.add_argument("--code", type=Path, default=ROOT,
                    help="checkout whose `inspector` runs the proxy (default: this one)")
    args = ap.parse_args()
    code = args.code.resolve()
    tmp = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    stub = subprocess.Popen([sys.executable, "-m", "inspector.demo.stub_api", "--port", "0",
                             "--cert-dir", str(tmp / "stub")], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT)
    stub_port = int(stub.stdout.readline())
    env = dict(os.environ, CLAUDE_INSPECT_HOME=str(tmp / "home"), PYTHONPATH=str(code))
    proxy = subprocess.Popen(
        [sys.executable, "-m", "inspector", "proxy", "--listen", "127.0.0.1:0",
         "--resolve", f"api.anthropic.com:443:127.0.0.1:{stub_port}",
         "--upstream-ca", str(tmp / "stub" / "ca.pem")],
        stdout=subprocess.PIPE, text=True, env=env, cwd=code)
    first = proxy.stdout.readline()
    port = int(first.split("listening on ", 1)[1].split(",")[0].rsplit(":", 1)[1])
    threading.Thread(target=lambda: [None for _ in proxy.stdout], daemon=True).start()
    sampler = Sampler(proxy.pid)
    sampler.start()
    time.sleep(0.5)
    url = "https://api.anthropic.com/v1/messages"
    model = "claude-sonnet-4-5-20250929"
    sse_chars = int(args.mb * (1 << 20) / 125 * 12)  # ~125 bytes of SSE per 12-char delta
    timings = {}
    try:
        with httpx.Client(proxy=f"http://127.0.0.1:{port}", verify=str(tmp / "home" / "ca.pem"),
                          timeout=600) as http:
            def case(name: str, **kw) -> int:
                sampler.phase = name
                t = time.perf_counter()
                r = http.post(url, **kw)
                timings[name] = time.perf_counter() - t
                assert r.status_code == 200, r.text[:200]
                wait_stored(tmp / "home" / "captures.db", len(timings))
                timings[name] = time.perf_counter() - t
                return len(r.content)

            small = {"model": model, "max_tokens": 10,
                     "messages": [{"role": "user", "content": "hi"}]}
            n1 = 0 if args.skip_sse else case(
                "SSE reply", json=dict(small, stream=True),
                headers={"x-stub-text-chars": str(sse_chars)})
            n2 = case("JSON reply, one text", json=small,
                      headers={"x-stub-text-chars": str(int(args.mb * (1 << 20)))})
            raw = os.urandom(int(args.request_mb * (1 << 20) * 3 / 4))
            doc = {"type": "document", "source": {"type": "base64", "media_type":
                                                  "application/pdf",
                                                  "data": base64.b64encode(raw).decode()}}
            del raw
            body = json.dumps({"model": model, "max_tokens": 10, "messages": [
                {"role": "user", "content": [doc, {"type": "text", "text": "summarise"}]}]})
            del doc
            case("request with a document", content=body.encode(),
                 headers={"content-type": "application/json"})
            del body
        sampler.phase = "shutdown"
        t = time.perf_counter()
        proxy.send_signal(signal.SIGTERM)
        proxy.wait(300)
        timings["shutdown"] = time.perf_counter() - t
    finally:
        sampler.running = False
        if proxy.poll() is None:
            proxy.kill()
        stub.kill()
    db = sqlite3.connect(tmp / "home" / "captures.db")
    stored = db.execute("SELECT count(*) FROM responses").fetchone()[0]
    expected = 2 if args.skip_sse else 3
    sizes = db.execute("SELECT body_bytes FROM requests ORDER BY ts").fetchall()
    db.close()
    print(f"replies relayed: {n1 / 1e6:.1f} MB SSE, {n2 / 1e6:.1f} MB JSON; "
          f"request bodies {[s[0] for s in sizes]}; stored {stored} of {expected}")
    print(f"{'phase':28} {'peak summed RSS MB':>20} {'proxy alone':>12} {'seconds':>8}")
    for name, mb in sampler.peaks.items():
        print(f"{name:28} {mb:20.0f} {sampler.proxy_peaks[name]:12.0f} "
              f"{timings.get(name, 0):8.1f}")
    print(f"{'overall':28} {max(sampler.peaks.values()):20.0f} "
          f"{max(sampler.proxy_peaks.values()):12.0f}")


if __name__ == "__main__":
    main()
