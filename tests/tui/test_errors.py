"""Errors become notifications, never a traceback over the terminal."""

from __future__ import annotations

import pytest

from inspector.tui.app import make_app
from inspector.tui.backend import Backend
from inspector.tui.screens.main import MainScreen
from inspector.tui.widgets.requests.table import RequestsTable

from .helpers import wait_for

pytestmark = pytest.mark.anyio


class BrokenDetail(Backend):
    def exchange(self, capture_id):
        raise OSError("disk I/O error")


async def test_failures_are_notified_and_the_app_keeps_working(filled, monkeypatch):
    def broken_follow(self):
        raise RuntimeError("follow broke")

    monkeypatch.setattr(MainScreen, "action_follow", broken_follow)
    app = make_app(filled, None, backend=BrokenDetail(filled.db_path))
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: table.row_count == 13)
        await pilot.press("f")
        await wait_for(pilot, lambda: any("follow broke" in n.message for n in app._notifications))
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("disk I/O error" in n.message
                                          for n in app._notifications))
        await pilot.press("escape")
        await pilot.press("s")  # the app still answers keys
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SessionsScreen")
        assert app.return_code is None


async def test_the_collectors_trouble_is_shown_and_so_is_its_end(filled):
    from inspector.tui.messages import ProxyNotice

    app = make_app(filled, None, backend=Backend(filled.db_path))
    async with app.run_test(size=(160, 45)) as pilot:
        app.post_message(ProxyNotice("otlp_fault", "OTLP: 3 spans waiting, collector unreachable"))
        app.post_message(ProxyNotice("otlp_ok", "OTLP: collector reachable again"))
        await wait_for(pilot, lambda: len(app._notifications) >= 2)
        shown = {n.message: (n.title, n.severity) for n in app._notifications}
        assert shown["OTLP: 3 spans waiting, collector unreachable"] == ("OTLP export", "warning")
        assert shown["OTLP: collector reachable again"] == ("OTLP export", "information")
