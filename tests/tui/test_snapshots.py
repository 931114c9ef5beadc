"""Snapshots of the main views at a fixed size over fixed captures (ids and times fixed,
clock in UTC), so a change to how the app looks shows up as a diff to review.

Update after an intended change: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations


import pytest

from inspector.tui.app import make_app
from inspector.tui.widgets.footer import KeysFooter
from inspector.tui.widgets.sessions.table import SessionsTable
from inspector.tui.widgets.stats.groups_table import GroupsTable
from inspector.tui.screens.detail import DetailScreen
from inspector.tui.screens.sessions import SessionsScreen
from inspector.tui.screens.stats import StatsScreen
from inspector.tui.widgets.requests.table import RequestsTable

from .helpers import wait_for
from .sample import fixed_clock, demo_records, sample_records

SIZE = (140, 36)


pytestmark = pytest.mark.usefixtures("utc")  # times drawn in UTC, whatever the machine's


def _rows(app) -> int:
    """Rows shown, once the table has the keyboard and the status bar its counts."""
    table = app.main.query_one(RequestsTable)
    if app.focused is not table or not app.main.counts.total:
        return -1
    return table.row_count


def test_requests_table(filled, snap_compare):
    async def ready(pilot):
        await wait_for(pilot, lambda: _rows(pilot.app) == 13)
        await pilot.pause(0.3)

    assert snap_compare(make_app(filled, None, clock=fixed_clock), terminal_size=SIZE, run_before=ready)


def test_first_run_explains_itself(config, snap_compare):
    async def ready(pilot):
        await wait_for(pilot, lambda: pilot.app.main.query_one("#empty").display)

    assert snap_compare(make_app(config, None, clock=fixed_clock), terminal_size=SIZE, run_before=ready)


def test_detail_context_tree(filled, snap_compare):
    newest = demo_records()[-1].capture.id

    async def ready(pilot):
        await wait_for(pilot, lambda: _rows(pilot.app) == 13)
        pilot.app.open_detail(newest)
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen)
                       and bool(pilot.app.screen.query("#context-tree")))
        await pilot.press("down", "enter", "down")  # open System tools, select Bash
        await pilot.pause(0.3)

    assert snap_compare(make_app(filled, None, clock=fixed_clock), terminal_size=SIZE, run_before=ready)


def test_detail_conversation(filled, snap_compare):
    newest = demo_records()[-1].capture.id

    async def ready(pilot):
        await wait_for(pilot, lambda: _rows(pilot.app) == 13)
        pilot.app.open_detail(newest)
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen)
                       and bool(pilot.app.screen.query("#context-tree")))
        await pilot.press("2")
        await pilot.pause(0.3)

    assert snap_compare(make_app(filled, None, clock=fixed_clock), terminal_size=SIZE, run_before=ready)


def test_sessions(filled, snap_compare):
    async def ready(pilot):
        await wait_for(pilot, lambda: _rows(pilot.app) == 13)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, SessionsScreen))
        await wait_for(pilot, lambda: pilot.app.screen.query_one("#sessions", SessionsTable).row_count == 3)
        await wait_for(pilot, lambda: "main conversation" in str(
            pilot.app.screen.query_one("#session-threads").render()))
        await pilot.pause(0.3)

    assert snap_compare(make_app(filled, None, clock=fixed_clock), terminal_size=SIZE, run_before=ready)


def test_stats(filled, snap_compare):
    async def ready(pilot):
        await wait_for(pilot, lambda: _rows(pilot.app) == 13)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, StatsScreen))
        screen = pilot.app.screen
        await wait_for(pilot, lambda: ("7d", "session") in screen.results
                       and screen.query_one("#stats-groups", GroupsTable).row_count > 0)
        # the footer lists the focused table's keys first: wait for the focus to settle
        await wait_for(pilot, lambda: pilot.app.focused is screen.query_one("#stats-groups"))
        # the footer names Enter first once the focused table has rows
        footer = screen.query_one(KeysFooter)
        await wait_for(pilot, lambda: [k.key for k in footer.keys][:1] == ["enter"])
        await pilot.pause(0.3)

    assert snap_compare(make_app(filled, None, clock=fixed_clock), terminal_size=SIZE, run_before=ready)


def test_detail_diff(filled, snap_compare):
    after_mcp_call = sample_records()[2].capture.id

    async def ready(pilot):
        await wait_for(pilot, lambda: _rows(pilot.app) == 13)
        pilot.app.open_detail(after_mcp_call)
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen)
                       and pilot.app.screen.diff_loaded
                       and bool(pilot.app.screen.query("#context-tree")))
        await pilot.press("d")
        await wait_for(pilot, lambda: bool(pilot.app.screen.query("#diff-body")))
        await pilot.pause(0.3)

    assert snap_compare(make_app(filled, None, clock=fixed_clock), terminal_size=SIZE, run_before=ready)
