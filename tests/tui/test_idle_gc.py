"""The collector's full passes run when the user is idle, not while a screen opens."""

from __future__ import annotations

import gc
import time
import weakref

import pytest

from inspector.tui.app import make_app
from .helpers import wait_for
from .sample import fixed_clock

pytestmark = pytest.mark.anyio


class Cycle:
    def __init__(self) -> None:
        self.me = self


async def test_full_collections_wait_for_an_idle_moment(filled):
    before = gc.get_threshold()
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.main.loaded_once)
        await wait_for(pilot, lambda: gc.get_threshold()[2] == 1_000_000)
        garbage = Cycle()
        gc.collect(1)  # old enough that only a full pass frees it
        gone = weakref.ref(garbage)
        del garbage
        gc.collect(1)
        await pilot.press("down")  # the user at work: no full pass
        app._collect_when_idle()
        assert gone() is not None
        app._last_event = time.monotonic() - 60  # idle for a minute
        app._collect_when_idle()
        assert gone() is None
    assert gc.get_threshold() == before  # as it was, once the app ended
