"""The Response tab says why a request cost what it did: each kind of token at its rate,
and what prompt caching saved against the uncached price."""

from __future__ import annotations

from io import StringIO

import pytest
from rich.console import Console
from textual.widgets import Static

from inspector.attribution.pricing import cost_lines
from inspector.tui.app import make_app
from inspector.tui.screens.detail import DetailScreen

from .helpers import wait_for
from .sample import fixed_clock, sample_records

pytestmark = pytest.mark.anyio


def _plain(renderable) -> str:
    out = StringIO()
    Console(file=out, width=130, color_system=None).print(renderable)
    return out.getvalue()


async def test_the_response_tab_prices_each_kind_of_token_and_says_what_caching_saved(filled):
    rec = sample_records()[3]  # a later turn: most of its prompt read from the cache
    usage = rec.capture.usage
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.main.counts.total > 0)
        app.push_screen(DetailScreen(app.backend, rec.capture.id))
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                       and bool(app.screen.query("#context-tree")))
        screen = app.screen
        await pilot.press("]", "]")  # Context, Conversation, Response
        await wait_for(pilot, lambda: screen.query_one("#detail-tabs").active == "response"
                       and bool(screen.query("#response Static")))
        text = _plain(screen.query_one("#response Static", Static).content)
    lines = {line.name: line for line in cost_lines(rec.capture.model, usage)}
    read = lines["cache read"]
    assert f"{read.tokens:,}" in text and f"× ${read.rate:g}/M" in text
    assert f"× ${lines['output'].rate:g}/M" in text
    assert "caching saved $" in " ".join(text.split()) and "under the uncached price" in text
