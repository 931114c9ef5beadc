"""The Findings view reads every request of its period (minutes on a large database)
and says how far it is."""

from __future__ import annotations

import pytest

from inspector.tui.app import make_app
from inspector.tui.screens.main import WINDOW
from .helpers import wait_for
from .sample import fixed_clock

pytestmark = pytest.mark.anyio


async def test_the_findings_view_says_how_far_its_reading_is(many, monkeypatch):
    from inspector.tui.screens import findings
    from inspector.tui.widgets.findings.table import FindingsTable

    monkeypatch.setattr(findings, "PROGRESS_EVERY", 0.0)
    said, titles = [], []
    shown = findings.FindingsScreen.on_findings_progress

    def recorded(self, message):
        said.append((message.read, message.total))
        shown(self, message)
        titles.append(str(self.query_one("#findings-title").content))

    monkeypatch.setattr(findings.FindingsScreen, "on_findings_progress", recorded)
    app = make_app(many, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.main.loaded_once)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, findings.FindingsScreen))
        await wait_for(pilot, lambda: app.screen.query_one(FindingsTable).findings
                       and not app.screen.query_one(FindingsTable).loading, timeout=20)
        assert said == [(n, WINDOW * 2) for n in range(100, WINDOW * 2 + 1, 100)]
        assert titles[0].endswith("reading requests: 100 of 400…")
        title = str(app.screen.query_one("#findings-title").content)
        assert title.startswith("Findings of the last 7 days") and "reading" not in title
