"""The first window, read ahead while the app starts (`Backend.prefetch_window`), is what
the table's first `window` call returns, unless the store changed meanwhile."""

from __future__ import annotations

import pytest

from inspector.store import Store
from inspector.tui.backend import FIRST_WINDOW, Backend
from inspector.tui.screens.main import WINDOW

from .sample import T0, make_record


def _prefetched(config, monkeypatch) -> tuple[Backend, list]:
    """A backend that read its first window ahead, and a list of the reads after it."""
    backend = Backend(config.db_path)
    backend.prefetch_window({}, FIRST_WINDOW)
    backend._prefetch_thread.join(5)
    assert backend._prefetched is not None
    reads: list = []
    read = backend._read_window
    monkeypatch.setattr(backend, "_read_window",
                        lambda *a: reads.append(a[1:4]) or read(*a))
    return backend, reads


def test_the_first_window_is_the_size_the_table_asks():
    assert FIRST_WINDOW == WINDOW


def test_the_prefetched_window_is_used_when_nothing_changed(filled, monkeypatch):
    backend, reads = _prefetched(filled, monkeypatch)
    ahead = backend._prefetched.window
    try:
        window = backend.window(1, {}, FIRST_WINDOW, 0)
        assert window is ahead and reads == []
        assert window.total == 13 and len(window.rows) == 13
        # used once: the next read is a read
        assert backend.window(2, {}, FIRST_WINDOW, 0).total == 13
        assert reads == [({}, FIRST_WINDOW, 0)]
    finally:
        backend.close()


def test_a_commit_in_between_makes_it_read_again(filled, monkeypatch):
    backend, reads = _prefetched(filled, monkeypatch)
    try:
        with Store(filled.db_path) as other:
            other.write([make_record(900, T0 + 9000, "late", 0)])
        window = backend.window(1, {}, FIRST_WINDOW, 0)
        assert reads == [({}, FIRST_WINDOW, 0)]
        assert window.total == 14 and window.rows[0].session_id == "late"
    finally:
        backend.close()


def test_another_question_reads_again(filled, monkeypatch):
    backend, reads = _prefetched(filled, monkeypatch)
    try:
        window = backend.window(1, {"model": "opus"}, FIRST_WINDOW, 0)
        assert reads == [({"model": "opus"}, FIRST_WINDOW, 0)]
        assert window.matching is not None and window.matching < window.total
    finally:
        backend.close()


def test_the_screen_takes_it_only_when_ready_and_current(filled, monkeypatch):
    """`prefetched_window` (the main screen's mount) never waits and never gives a window
    the store has moved past."""
    backend, reads = _prefetched(filled, monkeypatch)
    try:
        with backend._window_lock:  # a read under way: no waiting for it
            assert backend.prefetched_window({}, FIRST_WINDOW) is None
        assert backend.prefetched_window({"model": "opus"}, FIRST_WINDOW) is None
        window, quota = backend.prefetched_window({}, FIRST_WINDOW)
        assert window.total == 13 and reads == []
        assert backend.prefetched_window({}, FIRST_WINDOW) is None  # once only
    finally:
        backend.close()
    backend, reads = _prefetched(filled, monkeypatch)
    try:
        with Store(filled.db_path) as other:
            other.write([make_record(900, T0 + 9000, "late", 0)])
        assert backend.prefetched_window({}, FIRST_WINDOW) is None
    finally:
        backend.close()


def test_no_database_no_prefetch(config):
    backend = Backend(config.db_path)
    backend.prefetch_window({}, FIRST_WINDOW)
    assert backend._prefetch_thread is None and backend._prefetched is None


@pytest.mark.anyio
async def test_the_app_shows_the_prefetched_window(filled, monkeypatch):
    """As the CLI starts it: the table fills from the window read ahead, and a capture
    stored afterwards still arrives by the feed."""
    from inspector.tui.app import make_app
    from inspector.tui.widgets.requests.table import RequestsTable

    from .helpers import wait_for
    from .sample import fixed_clock

    backend, reads = _prefetched(filled, monkeypatch)
    app = make_app(filled, None, backend=backend, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: table.row_count == 13)
        assert reads == []
        with Store(filled.db_path) as other:
            other.write([make_record(900, T0 + 9000, "late", 0)])
        await wait_for(pilot, lambda: table.row_count == 14)


@pytest.mark.anyio
async def test_the_app_reads_again_after_a_commit(filled, monkeypatch):
    from inspector.tui.app import make_app
    from inspector.tui.widgets.requests.table import RequestsTable

    from .helpers import wait_for
    from .sample import fixed_clock

    backend, reads = _prefetched(filled, monkeypatch)
    with Store(filled.db_path) as other:
        other.write([make_record(900, T0 + 9000, "late", 0)])
    app = make_app(filled, None, backend=backend, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: table.row_count == 14)
        assert reads == [({}, FIRST_WINDOW, 0)]
