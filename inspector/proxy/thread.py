"""Run a `ProxyServer` on its own event loop in a daemon thread.

The app and the headless command both use this, so forwarding never shares a loop with
rendering or printing. uvloop is used when it is installed: its transports and TLS are
implemented in C and cut the proxy's per-request overhead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

from inspector.model import ExchangeSink, ProxySettings
from inspector.proxy.engine import ProxyServer

log = logging.getLogger(__name__)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop when available, else asyncio's default (forced by setting
    CLAUDE_INSPECT_LOOP=asyncio, e.g. to compare the two)."""
    if os.environ.get("CLAUDE_INSPECT_LOOP") == "asyncio":
        return asyncio.new_event_loop()
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class ProxyThread:
    """`start()` blocks until the proxy is bound (re-raising a bind error here);
    `stop()` shuts it down; `loop` is for `call_soon_threadsafe`."""

    def __init__(self, settings: ProxySettings, sink: ExchangeSink, **server_kwargs: Any) -> None:
        self.settings = settings
        self.sink = sink
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: ProxyServer | None = None
        self._server_kwargs = server_kwargs
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def address(self) -> tuple[str, int]:
        if self.server is None:
            raise RuntimeError("the proxy is not started")
        return self.server.address

    def start(self, timeout: float = 10) -> tuple[str, int]:
        self._thread = threading.Thread(target=self._run, name="claude-inspect-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the proxy did not start in time")
        if self._error is not None:
            self._thread.join(timeout)
            raise self._error
        return self.address

    def _run(self) -> None:
        loop = self.loop = new_event_loop()
        asyncio.set_event_loop(loop)
        self.server = ProxyServer(self.settings, self.sink, **self._server_kwargs)
        try:
            loop.run_until_complete(self.server.start())
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            self._error = e
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def stop(self, timeout: float = 10) -> None:
        loop, thread = self.loop, self._thread
        if loop is None or thread is None or not thread.is_alive() or loop.is_closed():
            return
        future = asyncio.run_coroutine_threadsafe(self.server.stop(), loop)  # type: ignore[union-attr]
        try:
            future.result(timeout)
        except Exception:  # noqa: BLE001 - stopping must not raise
            log.exception("error while stopping the proxy")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
