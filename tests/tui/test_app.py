"""The app driven by its pilot over real captures in a real SQLite database."""

from __future__ import annotations

import pytest
from textual.widgets import Tree

from inspector.store import Store
from inspector.tui.app import make_app
from inspector.tui.widgets.sessions.table import SessionsTable
from inspector.tui.screens.detail import DetailScreen
from inspector.tui.screens.sessions import SessionsScreen
from inspector.tui.widgets.requests.table import RequestsTable
from inspector.tui.widgets.status.status_bar import StatusBar
from .helpers import wait_for
from .sample import fixed_clock, SESSION_A, demo_records, make_record, sample_records

pytestmark = pytest.mark.anyio

SIZE = (160, 45)


def _table(app) -> RequestsTable:
    return app.main.query_one(RequestsTable)


def _status_text(app) -> str:
    return app.main.query_one(StatusBar).render().plain


async def test_table_lists_captures_newest_first(filled):
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        table = _table(app)
        ids = [table.id_at(i) for i in range(13)]
        assert ids == sorted(ids, reverse=True)
        # the 429 shows its status; the newest demo turn's largest source is named
        rows = {r.status for r in table.rows_by_id.values()}
        assert rows == {200, 429}
        assert "13 captures" in _status_text(app)


async def test_enter_shows_the_tree_with_the_mcp_server(filled):
    newest = demo_records()[-1]
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        table = _table(app)
        table.move_cursor(row=table.get_row_index(newest.capture.id))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                       and bool(app.screen.query("#context-tree")))
        tree = app.screen.query_one("#context-tree", Tree)
        labels = {}

        def walk(node):
            for child in node.children:
                labels[child.data.label] = child
                walk(child)

        walk(tree.root)
        mcp = next(c for c in newest.attribution.children if c.label == "MCP tools")
        github = next(c for c in mcp.children if c.label == "github")
        assert "github" in labels
        shown = labels["github"].label.plain
        assert f"{github.tokens / 1000:.1f}k" in shown or str(github.tokens) in shown
        # the root says how big the prompt is, exactly as the usage reported it
        assert f"{newest.capture.usage.prompt_tokens / 1000:.1f}k" in tree.root.label.plain
        # selecting a node shows its content beside the tree
        labels["MCP tools"].expand()
        await pilot.pause(0.05)
        tree.move_cursor(labels["github"])
        await pilot.pause(0.1)
        assert "create_issue:" in app.screen.query_one("#context-content").text
        await pilot.press("enter")  # expands the server: its tools show
        leaf = labels["github"].children[0]
        await pilot.press("down")
        assert tree.cursor_node is leaf
        await pilot.pause(0.1)
        assert app.screen.query_one("#context-content").text.startswith(f"mcp__github__{leaf.data.label}\n")
        await pilot.press("escape")
        assert app.screen is app.main


async def test_filter_narrows_rows_and_counts_matches(filled):
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        await pilot.press("slash", *"model:opus", "enter")
        await wait_for(pilot, lambda: _table(app).row_count == 3)
        assert all("opus" in r.model for r in _table(app).rows_by_id.values())
        assert "3 match" in _status_text(app)
        await pilot.press("slash")
        await pilot.press("ctrl+u", *"status:429", "enter")
        await wait_for(pilot, lambda: _table(app).row_count == 1)
        await pilot.press("escape")  # clears the filter
        await wait_for(pilot, lambda: _table(app).row_count == 13)


async def test_sessions_view_groups_turns(filled):
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen))
        await wait_for(pilot, lambda: app.screen.query_one("#sessions", SessionsTable).row_count == 3)
        screen = app.screen
        counts = {sid: s.requests for sid, s in screen.sessions.items()}
        assert counts[SESSION_A] == 4
        assert sorted(counts.values()) == [3, 4, 6]
        table = screen.query_one("#sessions", SessionsTable)
        table.move_cursor(row=table.get_row_index(SESSION_A))
        await pilot.pause(0.1)
        spark = screen.query_one("#growth-spark")
        assert len(spark.data) == 4 and spark.data == sorted(spark.data)  # the prompt grew
        await pilot.press("enter")  # back to the table, filtered to that session
        await wait_for(pilot, lambda: app.screen is app.main and _table(app).row_count == 4)


async def test_rows_from_another_process_appear_within_a_second(config):
    app = make_app(config, None, clock=fixed_clock, strict=True, poll_interval=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        assert _table(app).row_count == 0
        assert app.main.query_one("#empty").display  # first run explains itself
        with Store(config.db_path) as other:
            other.write(sample_records()[:2])
        took = await wait_for(pilot, lambda: _table(app).row_count == 2, timeout=3)
        assert took < 1.0
        assert not app.main.query_one("#empty").display


async def test_big_database_pages_and_stays_bounded(config):
    from inspector.tui.screens.main import WINDOW

    base = make_record(0, 1_795_000_000.0, SESSION_A, 0)
    records = []
    for n in range(WINDOW * 3):
        rec = make_record(n, 1_795_000_000.0 + n, SESSION_A, 0) if n < 2 else None
        if rec is None:
            from dataclasses import replace

            from .sample import _id
            from inspector.timeparse import iso_utc

            ts = 1_795_000_000.0 + n
            rec = type(base)(capture=replace(base.capture, id=_id(n, ts), ts=iso_utc(ts)),
                             attribution=base.attribution, cost_usd=base.cost_usd)
        records.append(rec)
    with Store(config.db_path) as store:
        store.write(records)
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == WINDOW)
        newest = _table(app).current_id()
        await pilot.press("G")  # to the bottom edge: the window moves to older rows
        await wait_for(pilot, lambda: app.main.window_start > 0)
        assert _table(app).row_count <= WINDOW
        assert newest not in _table(app).rows_by_id
        await pilot.press("g")  # back to the top edge: newer rows come back
        await wait_for(pilot, lambda: app.main.window_start == 0)


async def test_narrow_terminal_gets_compact_columns(filled):
    from inspector.tui.widgets.requests.cells import COMPACT_COLUMNS

    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        table = _table(app)
        assert table.column_keys == [c[0] for c in COMPACT_COLUMNS]
        assert table.virtual_size.width <= 100  # no sideways scrolling at 100 columns
        await pilot.resize_terminal(160, 45)
        await wait_for(pilot, lambda: not _table(app).compact)
        assert _table(app).row_count == 13


async def test_wheel_scrolling_to_the_end_pages(config):
    from dataclasses import replace

    from inspector.timeparse import iso_utc
    from inspector.tui.screens.main import WINDOW

    from .sample import _id

    base = make_record(0, 1_795_000_000.0, SESSION_A, 0)
    with Store(config.db_path) as store:
        store.write([type(base)(capture=replace(base.capture, id=_id(n, 1_795_000_000.0 + n),
                                                ts=iso_utc(1_795_000_000.0 + n)),
                                attribution=base.attribution, cost_usd=base.cost_usd)
                     for n in range(WINDOW * 2)])
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == WINDOW)
        table = _table(app)
        last = table.id_at(WINDOW - 1)
        table.scroll_end(animate=False)
        await wait_for(pilot, lambda: app.main.window_start > 0)
        await pilot.pause(0.3)
        assert app.main.window_start == 100  # one step, no ping-pong back to the top
        assert table.current_id() == last  # the row seen last is still under the cursor


async def test_follow_mode_and_certificate_warning(filled):
    from inspector.tui.bridge import make_listener

    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        table = _table(app)
        newest = table.current_id()
        await pilot.press("f")  # oldest first, cursor on the newest at the bottom
        assert table.cursor_row == table.row_count - 1 and table.current_id() == newest
        assert "follow" in _status_text(app)
        # a client refusing our certificate, as the runtime reports it from its thread
        listener = make_listener(app.post_message)
        listener("notice", ("cert_refused", "client 127.0.0.1 refused the certificate"))
        await wait_for(pilot, lambda: "claude-inspect ca" in _status_text(app))
        assert "refused the certificate" in _status_text(app)


async def test_sessions_view_falls_back_to_all_time_when_the_window_is_empty(filled):
    """A month after the captures, the 7-day window is empty: the view shows all time and
    says that the window, not missing session headers, is why."""
    app = make_app(filled, None, strict=True, clock=lambda: fixed_clock() + 30 * 86400)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen))
        table = app.screen.query_one("#sessions", SessionsTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        assert app.screen.all_time and app.screen.fell_back
        assert "none in the last 7 days" in str(table.border_title)
        await pilot.press("a")  # the window the user now asks for: empty, and titled so
        await wait_for(pilot, lambda: table.row_count == 0 and not table.loading)
        assert not app.screen.all_time and "last 7 days" in str(table.border_title)
