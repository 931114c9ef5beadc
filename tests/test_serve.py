"""`claude-inspect serve`: the app in a browser tab. A real web server on loopback, the
page a browser loads, and the app driven over the page's websocket as a browser does."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from inspector.config import Config
from inspector.store import Store

pytest.importorskip("textual_serve")
aiohttp = pytest.importorskip("aiohttp")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_page(url: str, proc: subprocess.Popen, timeout: float = 30) -> httpx.Response:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


async def _screen_text(url: str, needle: bytes, timeout: float = 60) -> bytes:
    """What the app sends over the websocket until `needle` shows (as a browser gets it)."""
    seen = b""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            end = time.monotonic() + timeout
            while needle not in seen and time.monotonic() < end:
                try:
                    msg = await asyncio.wait_for(ws.receive(), timeout=end - time.monotonic())
                except asyncio.TimeoutError:
                    break
                if msg.type == aiohttp.WSMsgType.BINARY:
                    seen += msg.data
                elif msg.type == aiohttp.WSMsgType.TEXT:
                    seen += msg.data.encode()
                else:
                    break
    return seen


def test_serve_shows_the_stored_requests_in_a_browser_tab(home):
    import sys as _sys
    _sys.path.insert(0, os.path.join(os.path.dirname(__file__)))
    from tui.sample import demo_records

    config = Config.load(home)
    with Store(config.db_path) as store:
        store.write(demo_records())
    port = _free_port()
    proxy_port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "inspector", "serve", "--port", str(port),
                             "--listen", f"127.0.0.1:{proxy_port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    try:
        page = _wait_page(f"http://127.0.0.1:{port}/", proc)
        assert page.status_code == 200 and "claude-inspect" in page.text
        assert f"127.0.0.1:{port}/ws" in page.text  # the tab's websocket
        seen = asyncio.run(_screen_text(f"ws://127.0.0.1:{port}/ws?width=140&height=40",
                                        b"sonnet-4-5"))
        assert b"sonnet-4-5" in seen, seen[-2000:]
        # the proxy beside it records into the same store
        with socket.create_connection(("127.0.0.1", proxy_port), timeout=10):
            pass
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert "claude-inspect in a browser: http://127.0.0.1:" in err
    assert "Traceback" not in err
    with pytest.raises(OSError):  # the proxy ended with the server
        socket.create_connection(("127.0.0.1", proxy_port), timeout=2).close()
