"""What a new user meets in the app: filters by source, broken or read-only databases,
dates in the table, the charts' axes, the Diff tab's words, the demo's status line, help."""

from __future__ import annotations

import pytest

from inspector.tui.app import make_app
from inspector.tui.widgets.sessions.table import SessionsTable
from inspector.tui.widgets.requests.table import RequestsTable
from .helpers import wait_for
from .sample import fixed_clock

pytestmark = pytest.mark.anyio

SIZE = (160, 45)


def _table(app) -> RequestsTable:
    return app.main.query_one(RequestsTable)


async def test_source_filter_takes_a_category_or_a_server_name(filled):
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        for text, rows in (("source:postgres", 6), ("source:mcp:postgres", 6),
                           ("source:sentry", 7), ("source:mcp", 13), ("source:mcp:nope", 0)):
            await pilot.press("slash", "ctrl+u", *text, "enter")
            await wait_for(pilot, lambda: _table(app).row_count == rows)


def _chart_levels(widget) -> list[int]:
    """The height of each column of a bar chart on screen, in eighths of a row."""
    eighths = " ▁▂▃▄▅▆▇█"
    rows = [widget.render_line(y).text for y in range(widget.size.height)]
    levels = [0] * widget.size.width
    for depth, line in enumerate(reversed(rows)):
        for x, ch in enumerate(line[:widget.size.width]):
            if ch in eighths and ch != " ":
                levels[x] = depth * 8 + eighths.index(ch)
    return levels


async def test_growth_chart_starts_at_zero(filled):
    """A prompt that grew from 90% to 100% of its size draws bars of 90% and 100%
    height, not an empty bar and a full one."""

    from inspector.tui.screens.sessions import SessionsScreen
    from .sample import SESSION_A

    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen))
        table = app.screen.query_one("#sessions", SessionsTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        table.move_cursor(row=table.get_row_index(SESSION_A))
        chart = app.screen.query_one("#growth-spark")
        await wait_for(pilot, lambda: len(chart.data) == 4)
        await pilot.pause(0.1)
        data = list(chart.data)
        levels = [lv for lv in _chart_levels(chart)]
        full = chart.size.height * 8
        assert max(levels) == full
        smallest = min(levels)
        assert abs(smallest - data[0] / data[-1] * full) <= 1, (levels, data)


async def test_rows_from_another_day_show_their_date(filled):
    """The time column shows the date of a row that is not from today (by the app's
    clock), so rows of different days never look out of order."""
    from datetime import datetime

    def local(ts: str) -> datetime:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone()

    for days_later in (1, 0):
        newest = None

        def clock() -> float:
            return local(newest).timestamp() + 1 if days_later == 0 else fixed_clock()

        app = make_app(filled, None, clock=fixed_clock, strict=True)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: _table(app).row_count == 13)
            rows = _table(app).rows_by_id
            newest = max(r.ts for r in rows.values())
            app.clock = clock
            _table(app).replace_rows(sorted(rows.values(), key=lambda r: r.id, reverse=True))
            await pilot.pause(0.05)
            today = datetime.fromtimestamp(clock()).astimezone().date()
            for capture_id, row in _table(app).rows_by_id.items():
                shown = str(_table(app).cell(capture_id, "time"))
                dt = local(row.ts)
                want = dt.strftime("%H:%M:%S" if dt.date() == today else "%m-%d %H:%M")
                assert shown == want, (days_later, shown, want)
            if days_later:
                assert all("-" in str(_table(app).cell(k, "time")) for k in rows)


async def test_diff_tab_speaks_the_users_words(filled):
    """The Diff tab names what changed as a user would ("Claude's earlier replies: tool
    calls"), never by the internal kind and source ("tool_call history:assistant")."""
    import io

    from rich.console import Console
    from textual.widgets import Static

    from inspector.tui.screens.detail import DetailScreen
    from .sample import demo_records

    later = demo_records()[3].capture.id
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.counts.total > 0)
        app.open_detail(later)
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                       and app.screen.diff_loaded)
        await pilot.press("d")
        await wait_for(pilot, lambda: bool(app.screen.query("#diff-body")))
        await pilot.press("u")  # every source, the unchanged too
        await pilot.pause(0.1)
        out = io.StringIO()
        Console(file=out, width=200).print(app.screen.query_one("#diff-body", Static).content)
        text = out.getvalue()
        assert "Claude's earlier replies: tool calls" in text, text
        for internal in ("history:assistant", "tool_call", "mcp_tool", "system_block",
                         "assistant_text", "skill_body"):
            assert internal not in text, (internal, text)


async def test_the_demo_says_what_it_shows(filled):
    """The demo opens the app on its sample: the status line says so, not that another
    proxy may be recording (nothing is)."""
    from inspector.cli.demo_cmd import make_demo_app
    from inspector.tui.widgets.status.status_bar import StatusBar

    app = make_demo_app(filled)
    app.clock = fixed_clock
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        text = app.main.query_one(StatusBar).render().plain
        assert "demo's sample" in text and "run -- claude" in text, text
        assert "may be recording" not in text


async def test_help_explains_every_column(filled):
    from textual.widgets import Markdown

    from inspector.tui.screens.help import HelpScreen
    from inspector.tui.widgets.requests.cells import COLUMNS, COMPACT_COLUMNS

    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        source = app.screen.query_one(Markdown).source
        legend = source.split("## Requests table columns", 1)[1].split("\n## ", 1)[0]
        for _key, header, _width in COLUMNS + COMPACT_COLUMNS:
            assert f"| {header} |" in legend or f"{header} is" in legend or (
                f"{header} ends" in legend), header
        assert "≋" in legend and "✂" in legend and "cached" in legend
        from inspector.tui.widgets.requests.cells import MARKS

        assert all(symbol in legend for symbol, _style in MARKS.values())


async def test_a_file_that_is_no_database_says_so_in_one_line(config):
    """Not a spinner forever: one line naming the file."""
    from inspector.tui.widgets.requests.empty_state import EmptyState

    config.home.mkdir(parents=True, exist_ok=True)
    config.db_path.write_bytes(b"this is not sqlite, just text " * 200)
    app = make_app(config, None, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        empty = app.main.query_one(EmptyState)
        await wait_for(pilot, lambda: bool(empty.problem))
        await pilot.pause(0.1)
        assert not app.main.loading
        text = empty.render().plain
        assert text.count("\\n") == 0
        assert str(config.db_path) in text and "not a claude-inspect database" in text


async def test_a_read_only_database_is_browsed(filled, tmp_path):
    """A database in a folder the user may not write opens for reading: the table, a
    request's detail and the stats all show."""
    import os
    import shutil
    import subprocess

    from inspector.tui.screens.detail import DetailScreen
    from inspector.tui.screens.stats import StatsScreen

    folder = filled.db_path.parent
    locked = [filled.db_path, folder]
    if os.geteuid() == 0:
        if not shutil.which("chattr") or subprocess.run(
                ["chattr", "+i", *map(str, locked)], capture_output=True).returncode:
            pytest.skip("cannot make a folder read-only for root here")
    else:
        filled.db_path.chmod(0o444)
        folder.chmod(0o555)
    try:
        app = make_app(filled, None, clock=fixed_clock, strict=True)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: _table(app).row_count == 13)
            first = next(iter(_table(app).rows_by_id))
            app.open_detail(first)
            await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                           and app.screen.diff_loaded)
            await pilot.press("escape")
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen))
            await pilot.press("a")
            await wait_for(pilot, lambda: sum(app.screen.query_one("#stats-tokens").data) > 0)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", *map(str, locked)], capture_output=True)
        else:
            folder.chmod(0o755)
            filled.db_path.chmod(0o644)
