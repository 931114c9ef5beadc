"""The Stats view shows at once what the app worked out ahead of time, and computes again
only what a new capture made out of date."""

from __future__ import annotations

import pytest

from inspector.store import Store
from inspector.tui.app import make_app
from inspector.tui.screens import idle_jobs
from inspector.tui.screens.stats import StatsScreen
from inspector.tui.stats_memo import FIRST
from inspector.tui.widgets.stats.groups_table import GroupsTable
from .helpers import wait_for
from .sample import NOW, SESSION_A, fixed_clock, make_record

pytestmark = pytest.mark.anyio

SIZE = (160, 45)


async def test_stats_show_what_was_worked_out_ahead_and_catch_up(filled, monkeypatch):
    monkeypatch.setattr(idle_jobs, "WARM_AFTER", 0.05)
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        memo = app.backend.stats_memo
        await wait_for(pilot, lambda: all(memo.get(*key) for key in FIRST))
        requests = memo.get("7d", "source").result["total"]["requests"]
        computed = []
        stats = app.backend.stats
        app.backend.stats = lambda *a, **k: computed.append(a[2]) or stats(*a, **k)

        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen))
        screen = app.screen
        assert screen.query_one(GroupsTable).row_count > 0  # filled as it was mounted
        await pilot.pause(0.3)
        assert computed == []  # the kept figures were current

        await pilot.press("escape")
        seen = []  # the total each time the view showed its table
        show = StatsScreen._show

        def recorded(self):
            kept = self.results.get((self.period, self.by))
            seen.append(kept["total"]["requests"] if kept else None)
            return show(self)

        monkeypatch.setattr(StatsScreen, "_show", recorded)
        with Store(filled.db_path) as store:
            store.write([make_record(99, NOW - 60, SESSION_A, 3)])
        await wait_for(pilot, lambda: app.main.counts.total == requests + 1)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen))
        await wait_for(pilot, lambda: seen and seen[-1] == requests + 1)
        assert seen[0] == requests  # the kept figures first, as the view opened
        assert computed[0] == "source"  # then computed again, the table's grouping first
