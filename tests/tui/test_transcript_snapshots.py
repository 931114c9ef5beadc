"""Snapshots of the transcript (the Conversation tab) at its detail levels, and of a search
hit, at a fixed size over the fixed demo session.

Update after an intended change:
    pytest tests/tui/test_transcript_snapshots.py --snapshot-update
"""

from __future__ import annotations


import pytest

from inspector.tui.app import make_app
from inspector.tui.screens.detail import DetailScreen
from inspector.tui.widgets.detail.transcript import Transcript

from .helpers import wait_for
from .sample import demo_records, fixed_clock

SIZE = (140, 36)


pytestmark = pytest.mark.usefixtures("utc")  # times drawn in UTC, whatever the machine's


def _opener(keys: tuple[str, ...], search: str | None = None):
    """Open the newest demo request's Conversation tab, then press `keys`."""
    newest = demo_records()[-1].capture.id

    async def ready(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.main.counts.total > 0)
        app.push_screen(DetailScreen(app.backend, newest, search=search))
        if search:  # opened on the hit's tab
            await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                           and bool(app.screen.query(Transcript)) and app.screen.search_final
                           and app.screen.query_one(Transcript).hit is not None)
        else:
            await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                           and bool(app.screen.query("#context-tree")))
            await pilot.press("right_square_bracket")
            await wait_for(pilot, lambda: bool(app.screen.query(Transcript))
                           and app.screen.query_one(Transcript).rendered > 0)
        await pilot.press(*keys)
        await pilot.pause(0.3)

    return ready


@pytest.mark.parametrize("name,keys", [
    ("default", ()),
    ("dialogue", ("t",)),
    ("everything", ("e",)),
    ("results_full_one_opened", ("5", "down", "down", "down", "enter")),
])
def test_transcript_levels(filled, snap_compare, name, keys):
    assert snap_compare(make_app(filled, None, clock=fixed_clock), terminal_size=SIZE,
                        run_before=_opener(keys))


def test_transcript_search_hit(filled, snap_compare):
    assert snap_compare(make_app(filled, None, clock=fixed_clock), terminal_size=SIZE,
                        run_before=_opener((), search="pull request"))
