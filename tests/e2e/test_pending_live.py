"""Through the whole chain (the app, its proxy process, the recorder process, the store):
a slow streamed request shows in the table while it is in flight, and its capture takes
the row's place when it ends. Nothing but the store carries it to the app."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from inspector.config import Config
from inspector.runtime.isolated import IsolatedRuntime

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_request_in_flight_shows_then_completes(home, stub):
    from inspector.tui.app import make_app
    from inspector.tui.widgets.requests.table import RequestsTable

    config = Config.load(home, listen="127.0.0.1:0", upstream_ca=stub.ca_file,
                         resolve=[f"api.anthropic.com:443:127.0.0.1:{stub.port}"])
    runtime = IsolatedRuntime(config)
    app = make_app(config, runtime, strict=True)
    body = {"model": "claude-haiku-4-5", "max_tokens": 8, "stream": True,
            "messages": [{"role": "user", "content": "hi"}]}

    def send() -> int:
        with httpx.Client(proxy=f"http://127.0.0.1:{runtime.proxy_address[1]}",
                          verify=str(config.ca_path), timeout=30) as client:
            return client.post("https://api.anthropic.com/v1/messages", json=body,
                               headers={"x-api-key": "sk-ant-x",
                                        "x-stub-event-delay-ms": "300"}).status_code

    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(400):
            if app.proxy_state.mode == "listening":
                break
            await pilot.pause(0.05)
        table = app.main.query_one(RequestsTable)
        request = asyncio.ensure_future(asyncio.to_thread(send))
        seen_pending = False
        for _ in range(600):
            rows = list(table.rows_by_id.values())
            seen_pending = seen_pending or any(r.pending for r in rows)
            if rows and not rows[0].pending and rows[0].status == 200:
                break
            await pilot.pause(0.02)
        assert await request == 200
        assert seen_pending, "the request never showed while in flight"
        [row] = table.rows_by_id.values()
        assert row.status == 200 and row.stream and not row.pending
        await pilot.press("q")
