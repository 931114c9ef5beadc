"""Helpers shared by the proxy tests (imported by name; conftest holds the fixtures)."""

from __future__ import annotations

import ssl
import threading
import time

from inspector.model import Exchange


class RecordingSink:
    """Keeps every exchange and notice; `wait_finished(n)` waits for n exchanges."""

    def __init__(self) -> None:
        self.started: list[Exchange] = []
        self.finished: list[Exchange] = []
        self.notices: list[tuple[str, str]] = []
        self._cond = threading.Condition()

    def exchange_started(self, ex: Exchange) -> None:
        self.started.append(ex)

    def exchange_finished(self, ex: Exchange) -> None:
        with self._cond:
            self.finished.append(ex)
            self._cond.notify_all()

    def notice(self, kind: str, message: str) -> None:
        with self._cond:
            self.notices.append((kind, message))
            self._cond.notify_all()

    def wait_finished(self, n: int = 1, timeout: float = 10) -> list[Exchange]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.finished) >= n, timeout), self.finished
            return list(self.finished)

    def wait_notice(self, kind: str, timeout: float = 10) -> str:
        with self._cond:
            assert self._cond.wait_for(lambda: any(k == kind for k, _ in self.notices), timeout)
            return next(m for k, m in self.notices if k == kind)


def strict_client_context(cafile: str) -> ssl.SSLContext:
    """Python's default client context, made stricter still (VERIFY_X509_STRICT)."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    return ctx


def wait_until(cond, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()
