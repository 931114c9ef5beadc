"""The runtime in its own process, as the app drives it: events arrive, pausing is
exact, stopping drains, a taken port is reported, and the app shows live captures."""

from __future__ import annotations

import asyncio
import socket
import threading

import httpx
import pytest

from inspector.config import Config
from inspector.demo.traffic import demo_session
from inspector.runtime.isolated import IsolatedRuntime
from inspector.store import Store
from inspector.store.queries import Filter, count_requests


def _config(home, stub, listen="127.0.0.1:0") -> Config:
    return Config.load(home, listen=listen, upstream_ca=stub.ca_file,
                       resolve=[f"api.anthropic.com:443:127.0.0.1:{stub.port}"])


def _post(config: Config, address, n: int = 1) -> list[int]:
    body = {"model": "claude-haiku-4-5", "max_tokens": 8,
            "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with httpx.Client(proxy=f"http://{address[0]}:{address[1]}", verify=str(config.ca_path),
                      timeout=10) as client:
        return [client.post("https://api.anthropic.com/v1/messages", json=body,
                            headers={"x-api-key": "sk-ant-iso-SECRET77"}).status_code
                for _ in range(n)]


def test_events_pause_and_drain(home, stub):
    config = _config(home, stub)
    runtime = IsolatedRuntime(config)
    events: list[tuple[str, object]] = []
    lock = threading.Lock()

    def listen(event: str, data: object) -> None:
        with lock:
            events.append((event, data))

    runtime.add_listener(listen)
    runtime.start()
    try:
        assert runtime.proxy_error is None and runtime.proxy_address is not None
        assert _post(config, runtime.proxy_address, 3) == [200] * 3
        runtime.recording = False
        assert _post(config, runtime.proxy_address, 2) == [200] * 2  # traffic still flows
        runtime.recording = True
        assert _post(config, runtime.proxy_address, 4) == [200] * 4
    finally:
        runtime.stop()
    # only control and status cross to the app: no exchange, no row, no id
    assert {e for e, _ in events} <= {"notice"}
    assert runtime.captured == 7  # what was recorded, of the 9 relayed
    with Store(config.db_path) as store:
        assert count_requests(store, Filter()) == 7  # and it reached the app's side by the store
        assert store.execute("SELECT count(*) FROM pending_requests").fetchone()[0] == 0
    assert b"SECRET77" not in config.db_path.read_bytes()


def test_port_taken_is_reported_not_raised(home, stub):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        runtime = IsolatedRuntime(_config(home, stub, listen=f"127.0.0.1:{port}"))
        runtime.start()
        try:
            assert runtime.proxy_address is None
            assert f"port {port}" in runtime.proxy_error and "in use" in runtime.proxy_error
        finally:
            runtime.stop()


@pytest.mark.anyio
async def test_app_shows_captures_from_the_isolated_proxy(home, stub):
    from inspector.tui.app import make_app
    from inspector.tui.widgets.requests.table import RequestsTable

    config = _config(home, stub)
    runtime = IsolatedRuntime(config)
    app = make_app(config, runtime, strict=True)
    body = demo_session(0, 2)[1].request
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(200):
            if app.proxy_state.mode == "listening":
                break
            await pilot.pause(0.05)
        table = app.main.query_one(RequestsTable)

        def send() -> int:
            with httpx.Client(proxy=f"http://127.0.0.1:{runtime.proxy_address[1]}",
                              verify=str(config.ca_path), timeout=10) as client:
                return client.post("https://api.anthropic.com/v1/messages?beta=true", json=body,
                                   headers={"x-api-key": "sk-ant-x"}).status_code

        assert await asyncio.to_thread(send) == 200
        for _ in range(200):
            rows = list(table.rows_by_id.values())
            if rows and rows[0].input_tokens:
                break
            await pilot.pause(0.05)
        assert rows and rows[0].status == 200 and rows[0].input_tokens
        await pilot.press("q")
    with Store(config.db_path) as store:
        assert count_requests(store, Filter()) == 1


def test_starts_inside_a_running_app_whose_stderr_has_no_descriptor(home, stub, monkeypatch):
    """A running Textual app replaces sys.stderr with an object whose fileno() is -1;
    multiprocessing used to fail with 'bad value(s) in fds_to_keep' there."""

    class Captured:
        def write(self, text: str) -> int:
            return len(text)

        def flush(self) -> None:
            pass

        def fileno(self) -> int:
            return -1

    monkeypatch.setattr("sys.stderr", Captured())
    runtime = IsolatedRuntime(_config(home, stub))
    runtime.start()
    try:
        assert runtime.proxy_error is None, runtime.proxy_error
        assert _post(IsolatedRuntime(_config(home, stub)).config, runtime.proxy_address) == [200]
    finally:
        runtime.stop()


def test_a_killed_recorder_is_reported_through_the_runtime_process(home, stub):
    import os
    import signal
    import time

    from .faults import children

    config = _config(home, stub)
    runtime = IsolatedRuntime(config)
    notices: list[tuple[str, str]] = []
    runtime.add_listener(lambda event, data: notices.append(data) if event == "notice" else None)
    runtime.start()
    try:
        assert _post(config, runtime.proxy_address, 2) == [200] * 2
        recorders = [pid for pid in children(runtime._process.pid)
                     if b"spawn_main" in open(f"/proc/{pid}/cmdline", "rb").read()]
        assert len(recorders) == 1
        os.kill(recorders[0], signal.SIGKILL)
        deadline = time.monotonic() + 15
        while not any(k == "recorder_fault" for k, _ in notices) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any(k == "recorder_fault" and "recorder stopped unexpectedly" in t
                   for k, t in notices), notices
        assert _post(config, runtime.proxy_address, 2) == [200] * 2
    finally:
        runtime.stop()
    with Store(config.db_path) as store:
        assert count_requests(store, Filter()) >= 2  # the new recorder stored the last two
