"""The app with its own proxy: a request made with httpx through it to the stub API shows
up in the table, opens to its attribution tree, pausing stops recording but not traffic,
and quitting drains the writer."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from inspector.config import Config
from inspector.demo.stub_api import StubAPI
from inspector.demo.traffic import demo_session
from inspector.runtime.local import Runtime
from inspector.store import Filter, Store, count_requests
from inspector.tui.app import make_app
from inspector.tui.screens.detail import DetailScreen
from inspector.tui.widgets.requests.table import RequestsTable

from .helpers import wait_for

pytestmark = pytest.mark.anyio


@pytest.fixture
def stub(tmp_path):
    with StubAPI(tls=True, cert_dir=tmp_path / "stub-ca") as api:
        yield api


def _send(config: Config, address, body: dict, n: int = 1) -> list[int]:
    host, port = address
    with httpx.Client(proxy=f"http://{host}:{port}", verify=str(config.ca_path),
                      timeout=10) as client:
        return [client.post("https://api.anthropic.com/v1/messages?beta=true", json=body,
                            headers={"x-api-key": "sk-ant-api03-secret"}).status_code
                for _ in range(n)]


async def test_request_through_the_apps_proxy(home, stub):
    config = Config.load(home, listen="127.0.0.1:0", upstream_ca=stub.ca_file,
                         resolve=[f"api.anthropic.com:443:127.0.0.1:{stub.port}"])
    runtime = Runtime(config)
    app = make_app(config, runtime, strict=True)
    body = demo_session(0, 3)[2].request
    async with app.run_test(size=(160, 45)) as pilot:
        # starting spawns the recorder process: seconds on a busy machine
        await wait_for(pilot, lambda: app.proxy_state.mode == "listening", timeout=15)
        table = app.main.query_one(RequestsTable)

        assert await asyncio.to_thread(_send, config, runtime.proxy_address, body) == [200]
        # how soon is measured apart (bench/); here only that it comes, without a reload
        await wait_for(pilot, lambda: table.row_count == 1
                       and next(iter(table.rows_by_id.values())).input_tokens,
                       timeout=15)
        row = next(iter(table.rows_by_id.values()))
        assert row.status == 200 and not row.pending
        assert app.focused is table  # the first row takes the keyboard from the empty state

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                       and bool(app.screen.query("#context-tree")))
        labels = [n.data.label for n in _nodes(app.screen.query_one("#context-tree").root)]
        assert "github" in labels and "MCP tools" in labels
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)

        await pilot.press("p")  # pause: traffic still flows, nothing is stored
        assert runtime.recording is False
        assert await asyncio.to_thread(_send, config, runtime.proxy_address, body) == [200]
        await pilot.press("p")
        assert runtime.recording is True

        assert await asyncio.to_thread(_send, config, runtime.proxy_address, body, 5) == [200] * 5
        await pilot.press("q")  # waits for the writer before exiting
    with Store(config.db_path) as store:
        assert count_requests(store, Filter()) == 6
        headers = store.query("SELECT headers FROM requests")[0]["headers"]
        assert "sk-ant-api03-secret" not in headers


def _nodes(node):
    for child in node.children:
        yield child
        yield from _nodes(child)


async def test_a_recording_fault_shows_in_the_status_bar(home, stub):
    from inspector.tui.widgets.status.status_bar import StatusBar

    config = Config.load(home, listen="127.0.0.1:0", upstream_ca=stub.ca_file,
                         resolve=[f"api.anthropic.com:443:127.0.0.1:{stub.port}"])
    runtime = Runtime(config)
    app = make_app(config, runtime, strict=True)
    body = demo_session(0, 3)[2].request
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.proxy_state.mode == "listening", timeout=15)
        bar = app.main.query_one(StatusBar)
        runtime.writer._child.process.kill()  # kill -9 of the recorder
        await wait_for(pilot, lambda: "recorder stopped unexpectedly" in str(bar.render()),
                       timeout=15)
        line = str(bar.render()).splitlines()[1]
        assert "restarted" in line and "lost" in line
        # the new recorder stores what comes next
        assert await asyncio.to_thread(_send, config, runtime.proxy_address, body) == [200]
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: table.row_count == 1
                       and next(iter(table.rows_by_id.values())).input_tokens,
                       timeout=15)
        await pilot.press("q")
