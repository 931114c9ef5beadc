"""Helpers for the recording-fault tests: the real `claude-inspect proxy` in a subprocess,
its recorder child found through /proc, and clients that send through it."""

from __future__ import annotations

import base64
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

API = "https://api.anthropic.com/v1/messages"


class ProxyProcess:
    """`claude-inspect proxy` with its stdout and stderr read on threads, line by line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None,
                 head: int | None = None, **popen) -> None:
        """`head`: read that many lines of stdout, then close it (as `| head -N` does)."""
        self.head = head
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inspector", "proxy", "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})}, **popen)
        self.out: list[str] = []
        self.err: list[str] = []
        self._lines: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        for name, stream, into in (("out", self.proc.stdout, self.out),
                                   ("err", self.proc.stderr, self.err)):
            threading.Thread(target=self._read, args=(name, stream, into), daemon=True).start()
        first = self.wait_line("listening on 127.0.0.1:", timeout=60)
        self.port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", first).group(1))

    def _read(self, name: str, stream, into: list[str]) -> None:
        for line in stream:
            into.append(line)
            self._lines.put((name, line))
            if name == "out" and self.head is not None and len(into) >= self.head:
                stream.close()
                break
        self._lines.put((name, ""))

    def wait_line(self, needle: str, timeout: float = 30, stream: str | None = None) -> str:
        """The first line (seen from now on, or already seen) containing `needle`."""
        for line in self.out + self.err:
            if needle in line and (stream is None or line in (self.out if stream == "out"
                                                               else self.err)):
                return line
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                name, line = self._lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if needle in line and (stream is None or stream == name):
                return line
        raise AssertionError(f"no line with {needle!r}; stdout={self.out[-5:]} "
                             f"stderr={self.err[-10:]}")

    def recorder_pid(self, timeout: float = 30) -> int:
        """The pid of the recorder child (not multiprocessing's resource tracker)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pid in children(self.proc.pid):
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes() if Path(f"/proc/{pid}").exists() else b""
                if b"multiprocessing" in cmd and b"resource_tracker" not in cmd:
                    return pid
            time.sleep(0.1)
        raise AssertionError("no recorder child")

    def stop(self, sig: int, timeout: float = 15) -> float:
        """Send `sig`, wait for the exit; returns how long the exit took."""
        t = time.monotonic()
        self.proc.send_signal(sig)
        self.proc.wait(timeout)
        elapsed = time.monotonic() - t
        time.sleep(0.2)  # the reader threads catch the last lines
        return elapsed

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def client(port: int, home: Path, timeout: float = 30) -> httpx.Client:
    return httpx.Client(proxy=f"http://127.0.0.1:{port}", verify=str(home / "ca.pem"),
                        timeout=timeout)


def post(http: httpx.Client, pad: int = 0, key: str = "sk-ant-api03-FAULTS-NOT-STORED") -> int:
    """One Messages request; `pad` adds that many random (incompressible) characters."""
    filler = base64.b64encode(os.urandom(pad * 3 // 4 + 3)).decode()[:pad]
    body = {"model": "claude-haiku-4-5", "max_tokens": 8, "pad": filler,
            "messages": [{"role": "user", "content": "hi"}]}
    return http.post(API, json=body, headers={"x-api-key": key}).status_code


def stored(db: Path) -> int:
    from inspector.store import Store
    from inspector.store.queries import Filter, count_requests

    with Store(db) as store:
        return count_requests(store, Filter())


def rss(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(field)
