"""The requests table drawn line by line: only rows on screen are laid out, whatever the
window holds; keys and clicks move the cursor and open a row as a table's would."""

from __future__ import annotations

import pytest

from inspector.tui.app import make_app
from inspector.tui.screens.detail import DetailScreen
from inspector.tui.screens.main import WINDOW
from inspector.tui.widgets.requests.table import RequestsTable
from .helpers import wait_for
from .sample import fixed_clock

pytestmark = pytest.mark.anyio

SIZE = (160, 45)


async def test_only_rows_on_screen_are_laid_out(many):
    app = make_app(many, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: table.row_count == WINDOW)
        await pilot.pause(0.1)
        shown = table.scrollable_content_region.height - 1  # the header takes a line
        assert 0 < table.drawn <= shown + 1  # + the cursor's row drawn again, as it moves
        drawn = table.drawn
        table.replace_rows(reversed(list(table.rows_by_id.values())[:WINDOW // 2]))
        await pilot.pause(0.1)
        assert table.row_count == WINDOW // 2
        assert table.drawn - drawn <= shown + 1  # a new window costs a screenful, no more
        lines = [table.render_line(y).text for y in range(1, 4)]
        assert lines == sorted(lines, reverse=True)  # newest first: the times go down


async def test_keys_move_the_cursor_and_enter_opens(many):
    app = make_app(many, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: table.row_count == WINDOW)
        page = table.scrollable_content_region.height - 1
        await pilot.press("down", "down", "up")
        assert table.cursor_row == 1
        await pilot.press("pagedown")
        assert table.cursor_row == 1 + page
        assert table.scroll_y > 0  # the cursor stays in view
        assert table.scroll_y <= table.cursor_row < table.scroll_y + page
        await pilot.press("home")
        assert table.cursor_row == 0 and table.scroll_y == 0
        wanted = table.id_at(2)
        await pilot.press("down", "down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.capture_id == wanted


async def test_a_click_moves_the_cursor_and_a_second_click_opens(many):
    app = make_app(many, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: table.row_count == WINDOW)
        await pilot.click(RequestsTable, offset=(20, 0))  # the header: nothing happens
        assert table.cursor_row == 0
        await pilot.click(RequestsTable, offset=(20, 4))  # line 4: the fourth row
        assert table.cursor_row == 3 and isinstance(app.screen, type(app.main))
        await pilot.click(RequestsTable, offset=(20, 4))
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.capture_id == table.id_at(3)


async def test_a_cursor_moved_while_hidden_scrolls_once_laid_out(many):
    """A table with no height yet (hidden, or its screen changing around it) would take
    any cursor past its first line for off screen and scroll it to the top."""
    app = make_app(many, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: table.row_count == WINDOW)
        table.display = False
        await pilot.pause(0.05)
        table.move_cursor(row=5)
        table.display = True
        await pilot.pause(0.1)
        assert table.cursor_row == 5 and table.scroll_y == 0  # row 5 shows from the top
        table.move_cursor(row=150)  # laid out: as far as shows it
        assert table.scroll_y == 150 - table.body_height() + 1
