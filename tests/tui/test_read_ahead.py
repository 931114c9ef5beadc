"""The request under the table's cursor is read ahead of Enter (read_ahead.py), and what
was read ahead is shown only while nothing was committed since: a request rewritten in
place (exact counts, `reattribute`) is read again."""

from __future__ import annotations

import pytest

from inspector.model import Node
from inspector.store import Store
from inspector.tui.backend import Backend
from inspector.tui.app import make_app
from inspector.tui.read_ahead import ReadAhead
from inspector.tui.screens.detail import DetailScreen

from .helpers import wait_for
from .sample import fixed_clock, sample_records

pytestmark = pytest.mark.anyio


def _counting_reads(backend: Backend, monkeypatch) -> list[str]:
    """The ids `backend.exchange` is asked for from now on."""
    reads: list[str] = []
    read = backend.exchange
    monkeypatch.setattr(backend, "exchange", lambda cid: reads.append(cid) or read(cid))
    return reads


def test_a_request_read_ahead_is_given_once_and_only_to_its_own_search(filled, monkeypatch):
    capture_id = sample_records()[2].capture.id
    backend = Backend(filled.db_path)
    try:
        ahead = ReadAhead(backend)
        ahead.make(capture_id, "Read")
        assert ahead.take(capture_id, None) is None  # another search: other hits
        assert ahead.take("01other", "Read") is None  # another request
        loaded = ahead.take(capture_id, "Read")
        assert loaded is not None and loaded.exchange["id"] == capture_id
        assert loaded.pattern is not None and loaded.pattern.pattern  # made with the search
        assert ahead.take(capture_id, "Read") is None  # its taker owns it
        reads = _counting_reads(backend, monkeypatch)
        ahead.make(capture_id, None)
        ahead.make(capture_id, None)  # still current: not read twice
        assert reads == [capture_id]
    finally:
        backend.close()


def test_a_request_rewritten_after_it_was_read_ahead_is_not_given(filled):
    record = sample_records()[2]
    backend = Backend(filled.db_path)
    try:
        ahead = ReadAhead(backend)
        ahead.make(record.capture.id, None)
        with Store(filled.db_path) as store:  # as `reattribute` or exact counts do
            store.set_attribution(record.capture.id, Node("prompt", "prompt", tokens=7), None)
        assert ahead.take(record.capture.id, None) is None
    finally:
        backend.close()


async def test_enter_opens_the_request_read_while_the_cursor_rested_on_it(filled, monkeypatch):
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.main.counts.total > 0)
        table = app.main.query_one("#requests")
        await pilot.press("down")
        key = table.current_id()
        await wait_for(pilot, lambda: app.read_ahead is not None
                       and app.read_ahead._kept is not None and app.read_ahead._kept[0] == key)
        reads = _counting_reads(app.backend, monkeypatch)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                       and bool(app.screen.query("#context-tree")))
        assert app.screen.capture_id == key and app.screen.exchange["id"] == key
        assert reads == []  # not read again
        # back on the table, the request is read ahead again (the view took the first)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.read_ahead._kept is not None
                       and app.read_ahead._kept[0] == key)


async def test_a_request_rewritten_meanwhile_opens_as_stored_now(filled, monkeypatch):
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.main.counts.total > 0)
        table = app.main.query_one("#requests")
        key = table.current_id()
        await wait_for(pilot, lambda: app.read_ahead is not None
                       and app.read_ahead._kept is not None and app.read_ahead._kept[0] == key)
        with Store(filled.db_path) as store:
            store.set_attribution(key, Node("prompt", "prompt", tokens=7), None)
        reads = _counting_reads(app.backend, monkeypatch)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                       and bool(app.screen.query("#context-tree")))
        assert reads == [key]
        assert app.screen.attribution.tokens == 7  # the tree stored now, not the one read ahead
