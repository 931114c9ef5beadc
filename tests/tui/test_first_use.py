"""What a new user meets in the app: filters by source, broken or read-only databases,
dates in the table, the charts' axes, the Diff tab's words, the demo's status line, help."""

from __future__ import annotations

import pytest

from inspector.tui.app import make_app
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
