"""The main screen and the Stats view never make the user wait on a query they no longer
want: the filter is debounced and unfinished terms are left out, a newer filter stops an
older one, Escape restores from memory, `g` finds the newest request, and the Stats view
paints its table before the groupings it does not need for it."""

from __future__ import annotations

import threading

import pytest

from inspector.tui.app import make_app
from inspector.tui.widgets.stats.groups_table import GroupsTable
from inspector.tui.backend import Backend
from inspector.tui.filtering import FilterSyntaxError, parse_filter
from inspector.tui.format import AtLeast
from inspector.tui.screens import filter_box
from inspector.tui.screens import main as main_screen
from inspector.tui.screens.detail import DetailScreen
from inspector.tui.screens.stats import StatsScreen
from inspector.tui.widgets.requests.table import RequestsTable
from .helpers import wait_for
from .sample import fixed_clock

pytestmark = pytest.mark.anyio

SIZE = (160, 45)


def _table(app) -> RequestsTable:
    return app.main.query_one(RequestsTable)


def _spy_windows(app, monkeypatch, gate=None) -> list[dict]:
    """Record the terms of every window read; `gate(terms)` may return an Event the read
    waits for before it runs."""
    calls: list[dict] = []
    real = app.backend.window

    def window(ticket, terms, limit, offset=0):
        calls.append(dict(terms))
        event = gate(terms) if gate else None
        if event is not None:
            event.wait(5)
        return real(ticket, terms, limit, offset)

    monkeypatch.setattr(app.backend, "window", window)
    return calls


def test_unfinished_terms_wait_while_typing():
    for partial in ("m", "mo", "model", "model:", "se", "ab", "status:", "since:1"):
        assert parse_filter(partial, typing=True) == {}, partial
    assert parse_filter("model:op", typing=True) == {"model": "op"}
    assert parse_filter("model:opus gi", typing=True) == {"model": "opus"}
    assert parse_filter("model:opus github", typing=True)["text"] == "github"
    # Enter takes the text as it stands; a lone `model:` is never free text
    assert parse_filter("mo") == {"text": "mo"}
    assert parse_filter("model:") == {}
    # the text term is a regex: backslashes stay, quotes group
    assert parse_filter(r"text:fail\w+ model:opus") == {"text": r"fail\w+", "model": "opus"}
    assert parse_filter('text:"login test"') == {"text": "login test"}


async def test_typing_a_filter_asks_once(filled, monkeypatch):
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        calls = _spy_windows(app, monkeypatch)
        await pilot.press("slash", *"model:opus")
        await wait_for(pilot, lambda: _table(app).row_count == 3)
        await pilot.pause(filter_box.DEBOUNCE + 0.1)
        assert calls == [{"model": "opus"}]  # not one read per key, no read for `mo`
        assert all("opus" in r.model for r in _table(app).rows_by_id.values())


async def test_a_stale_answer_never_paints(filled, monkeypatch):
    """The read for `model:opus` is still running when `status:429` is applied: its rows
    must not show, then or later."""
    release = threading.Event()
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        calls = _spy_windows(app, monkeypatch,
                             lambda terms: release if terms.get("model") else None)
        painted: list[set[int]] = []
        table = _table(app)
        replace = table.replace_rows

        def record(rows):
            rows = list(rows)
            painted.append({r.status for r in rows})
            replace(rows)

        monkeypatch.setattr(table, "replace_rows", record)
        try:
            app.main.show_filter("model:opus")
            await wait_for(pilot, lambda: len(calls) == 1)
            app.main.show_filter("status:429")
            await wait_for(pilot, lambda: _table(app).row_count == 1)
        finally:
            release.set()
        await pilot.pause(0.3)  # the old read is free now: it must stay unseen
        assert painted == [{429}]
        assert [r.status for r in _table(app).rows_by_id.values()] == [429]
        assert app.main.counts.matching == 1 and app.main.filter_text == "status:429"


def test_a_newer_read_interrupts_a_running_one(filled, monkeypatch):
    """A read still running on the window connection stops when a newer one is asked for
    with `interrupt`; the old caller gets None."""
    import inspector.store.queries as queries

    backend = Backend(filled.db_path)
    started = threading.Event()

    def endless(store, f):
        started.set()
        return store.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                             "FROM c) SELECT count(*) FROM c").fetchall()

    monkeypatch.setattr(queries, "request_rows", endless)
    out: list = []
    worker = threading.Thread(target=lambda: out.append(backend.window(1, {"text": "x"}, 10)))
    backend.want_window(1)
    worker.start()
    assert started.wait(5)
    backend.want_window(2, interrupt=True)
    worker.join(5)
    assert not worker.is_alive() and out == [None]
    monkeypatch.undo()
    window = backend.window(2, {"model": "*opus*"}, 10)
    assert window.total == 13 and window.matching == len(window.rows) == 3
    backend.close()


async def test_escape_restores_the_unfiltered_rows_from_memory(filled, monkeypatch):
    blocked = threading.Event()
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        await pilot.press("slash", *"status:429", "enter")
        await wait_for(pilot, lambda: _table(app).row_count == 1)
        calls = _spy_windows(app, monkeypatch, lambda terms: blocked)  # reads hang
        try:
            await pilot.press("escape")
            # every read is held back, yet the 13 rows are back and the count with them
            assert _table(app).row_count == 13
            assert app.main.terms == {} and app.main.counts.matching is None
            assert not app.main.query_one("#filter").display
        finally:
            blocked.set()
        await wait_for(pilot, lambda: not app.main.loading)
        assert calls == [{}]  # one quiet refresh behind the restored rows
        assert _table(app).row_count == 13


async def test_g_goes_to_the_newest_request_from_a_later_window(filled, monkeypatch):
    monkeypatch.setattr(main_screen, "WINDOW", 5)
    monkeypatch.setattr(main_screen, "STEP", 3)
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 5)
        newest = _table(app).current_id()
        for start in (3, 6):  # the cursor at the window's end pages it down the list
            await pilot.press("G")
            await wait_for(pilot, lambda: app.main.window_start == start
                           and not app.main.loading)
        assert newest not in _table(app).rows_by_id
        await pilot.press("g")
        await wait_for(pilot, lambda: app.main.window_start == 0 and not app.main.loading)
        assert _table(app).current_id() == newest
        assert _table(app).cursor_row == 0


async def test_opening_a_row_under_a_text_search_passes_it_on(filled):
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 13)
        await pilot.press("slash", *"text:flaky", "enter")
        await wait_for(pilot, lambda: 0 < _table(app).row_count < 13)
        assert app.main.terms == {"text": "flaky"}
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.search == "flaky"


async def test_stats_paints_its_table_before_the_other_groupings(filled, monkeypatch):
    later = threading.Event()
    asked: list[str] = []
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    real = app.backend.stats

    def stats(since, until=None, by="source", notice=None):
        asked.append(by)
        if by != "source":
            later.wait(5)  # the plots' and tops' groupings take their time
        return real(since, until, by, notice)

    monkeypatch.setattr(app.backend, "stats", stats)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.counts.total > 0)
        try:
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen))
            screen = app.screen
            table = screen.query_one("#stats-groups", GroupsTable)
            await wait_for(pilot, lambda: table.row_count > 0)
            assert asked[0] == "source"  # the table's grouping, alone, came first
            assert ("7d", "day") not in screen.results
        finally:
            later.set()
        await wait_for(pilot, lambda: all(("7d", b) in screen.results
                                          for b in ("day", "source", "session")))
        assert asked == ["source", "day", "session"]
        assert screen.query_one("#stats-top-sessions").content
        await pilot.press("g")  # by model: only that grouping is computed
        await wait_for(pilot, lambda: ("7d", "model") in screen.results)
        assert asked[3] == "model"  # (a refresh after new captures may follow)


def test_a_regex_being_typed_waits_and_a_wrong_one_is_named():
    assert parse_filter("text:login(", typing=True) == {}
    with pytest.raises(FilterSyntaxError, match="not a regular expression"):
        parse_filter("text:login(")
    assert parse_filter("text:login(ok)?") == {"text": "login(ok)?"}


async def test_a_text_search_counts_only_up_to_its_page(filled, monkeypatch):
    """Counting every match of a common word would verify every body: past a full page
    the status says "N+ match", and paging still goes on."""
    monkeypatch.setattr(main_screen, "WINDOW", 5)
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _table(app).row_count == 5)
        everywhere = parse_filter("text:claude")["text"]  # in every request's model name
        await pilot.press("slash", *f"text:{everywhere}", "enter")
        await wait_for(pilot, lambda: app.main.terms.get("text") == everywhere
                       and not app.main.loading)
        assert isinstance(app.main.counts.matching, AtLeast)
        assert str(app.main.counts.matching) == "5+"
        app.main.query_one("#filter").value = "text:no-such-word-anywhere"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.main.counts.matching == 0)
        assert not isinstance(app.main.counts.matching, AtLeast)
