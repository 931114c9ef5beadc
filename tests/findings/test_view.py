"""The Findings view in the app: a snapshot over a fixed session with two cache breaks,
the marker in the requests table, and the finding in the request's detail."""

from __future__ import annotations

import time

import pytest
from textual.widgets import Static

from inspector.config import Config
from inspector.demo.prompt_cache import PromptCache
from inspector.store import Store
from inspector.tui.app import make_app
from inspector.tui.widgets.findings.table import FindingsTable
from inspector.tui.screens.detail import DetailScreen
from inspector.tui.screens.findings import FindingsScreen
from inspector.tui.widgets.requests.table import RequestsTable

from .conftest import store_turns
from .test_cache_break_proxy import MEMORY_TURN, TOOL_TURN, TURNS, edited_session

SIZE = (140, 36)
T0 = 1_795_000_000.0  # 2026-11-18: fixed, so the snapshot never changes


def fixed_clock() -> float:
    """The app's clock: a day after the captures, whatever the date."""
    return T0 + 86_400.0


async def wait_for(pilot, condition, timeout: float = 10.0) -> None:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.02)


pytestmark = pytest.mark.usefixtures("utc")  # times drawn in UTC, whatever the machine's


@pytest.fixture
def edited(home):
    """The edited session of the proxy test, stored with fixed times a day before the
    app's clock."""
    config = Config.load(home)
    clock = [0.0]
    with Store(config.db_path) as store:
        ids = store_turns(store, [(t.request, t.headers, t.response) for t in edited_session()],
                          start=T0, cache=PromptCache(clock=lambda: clock[0]), clock=clock)
    return config, ids


async def _findings_shown(pilot):
    await wait_for(pilot, lambda: pilot.app.main.query_one(RequestsTable).row_count == TURNS)
    await pilot.press("i")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FindingsScreen))
    await wait_for(pilot, lambda: pilot.app.screen.query_one(FindingsTable).findings
                   and not pilot.app.screen.query_one(FindingsTable).loading
                   and pilot.app.focused is pilot.app.screen.query_one("#findings")
                   and "cache break" in str(pilot.app.screen.query_one("#finding-detail").render()))


def test_findings_view_snapshot(edited, snap_compare):
    config, _ = edited

    async def ready(pilot):
        await _findings_shown(pilot)
        await pilot.pause(0.3)

    assert snap_compare(make_app(config, None, clock=fixed_clock), terminal_size=SIZE,
                        run_before=ready)


@pytest.mark.anyio
async def test_marker_column_and_finding_in_detail(edited):
    config, ids = edited
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: table.row_count == TURNS)
        await wait_for(pilot, lambda: table.marks.get(ids[TOOL_TURN]))
        marked = set(table.marks)
        assert marked == {ids[TOOL_TURN], ids[MEMORY_TURN]}
        assert str(table.cell(ids[TOOL_TURN], "mark")) == "✖"

        await _findings_shown(pilot)
        screen = app.screen
        first = screen.query_one(FindingsTable).finding("0")
        assert (first.kind, first.request_id) == ("cache_break", ids[TOOL_TURN])
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                       and app.screen.query_one("#detail-findings").display)
        shown = str(app.screen.query_one("#detail-findings", Static).render())
        assert "cache break" in shown and "mcp:docs" in shown
