"""The footer: the keys of what has the keyboard, made again only when they change, and
a click on one presses it."""

from __future__ import annotations

import pytest

from inspector.tui.app import make_app
from inspector.tui.widgets.footer import KeysFooter
from .helpers import wait_for
from .sample import fixed_clock

pytestmark = pytest.mark.anyio


async def test_the_footer_changes_only_for_new_keys_and_a_click_presses_one(filled):
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.main.loaded_once)
        await pilot.pause(0.2)
        footer = app.main.query_one(KeysFooter)
        assert "Filter" in {key.description for key in footer.keys}
        before = footer.changes
        for _ in range(3):  # the same keys: nothing to make again
            app.main.refresh_bindings()
            await pilot.pause(0.05)
        assert footer.changes == before
        app.main._bindings.bind("x", "app.bell", "Ring")  # a key more: shown
        app.main.refresh_bindings()
        await wait_for(pilot, lambda: "Ring" in {k.description for k in footer.keys})
        assert footer.changes == before + 1
        await pilot.pause(0.05)
        line = footer.render().plain
        assert " x Ring " in line and line.rstrip().endswith("palette")
        # a click on a key presses it: "?" opens the help
        start, _, _ = next(spot for spot in footer._spots if spot[2].key == "question_mark")
        await pilot.click(KeysFooter, offset=(start + 1, 0))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
