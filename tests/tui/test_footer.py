"""The main screen's footer is made again only when the keys it shows change."""

from __future__ import annotations

import pytest

from inspector.tui.app import make_app
from inspector.tui.widgets.footer import KeysFooter
from .helpers import wait_for
from .sample import fixed_clock

pytestmark = pytest.mark.anyio


async def test_the_footer_recomposes_only_for_new_keys(filled):
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.main.loaded_once)
        await pilot.pause(0.2)
        footer = app.main.query_one(KeysFooter)
        assert "Filter" in {key.description for key in footer.children}
        before = footer.recomposed
        for _ in range(3):  # the same keys: nothing to make again
            app.main.refresh_bindings()
            await pilot.pause(0.05)
        assert footer.recomposed == before
        app.main._bindings.bind("x", "app.bell", "Ring")  # a key more: shown
        app.main.refresh_bindings()
        await wait_for(pilot, lambda: "Ring" in {k.description for k in footer.children})
        assert footer.recomposed == before + 1
