"""The table's marks in the running app: worked out in a process of their own, and a
later pass reads only the requests that came since, never the old ones again."""

from __future__ import annotations

import pytest

from inspector.config import Config
from inspector.demo.prompt_cache import PromptCache
from inspector.store import Store
from inspector.tui.app import make_app
from inspector.tui.screens import idle_jobs
from inspector.tui.widgets.requests.table import RequestsTable

from .conftest import store_turns
from .test_cache_break_proxy import MEMORY_TURN, TOOL_TURN, TURNS, edited_session
from .test_view import SIZE, T0, fixed_clock, wait_for

pytestmark = pytest.mark.anyio


async def test_a_later_pass_reads_only_new_requests(home, monkeypatch):
    monkeypatch.setattr(idle_jobs, "MARKS_GAP", 0.2)
    config = Config.load(home)
    items = [(t.request, t.headers, t.response) for t in edited_session()]
    clock = [0.0]
    cache = PromptCache(clock=lambda: clock[0])
    with Store(config.db_path) as store:
        ids = store_turns(store, items[:MEMORY_TURN], start=T0, cache=cache, clock=clock)
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: table.marks.get(ids[TOOL_TURN]))
        assert set(table.marks) == {ids[TOOL_TURN]}
        assert app.backend.marks_read == MEMORY_TURN  # the whole session, once

        with Store(config.db_path) as store:
            ids += store_turns(store, items[MEMORY_TURN:], start=T0, cache=cache, clock=clock,
                               times=[20.0 * i for i in range(MEMORY_TURN, TURNS)])
        await wait_for(pilot, lambda: table.marks.get(ids[MEMORY_TURN]))
        assert set(table.marks) == {ids[TOOL_TURN], ids[MEMORY_TURN]}
        assert app.backend.marks_read == TURNS - MEMORY_TURN  # the new requests only
        process = app.backend._marks.process
        assert process.poll() is None
    assert process.poll() is not None  # the process ended with the app
