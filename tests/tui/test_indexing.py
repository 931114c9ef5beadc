"""Captures stored before the search index existed: the app browsing without a proxy
has them indexed by a process beside it and shows how far it is."""

from __future__ import annotations

import pytest

from inspector.store import Store
from inspector.store.search import index_progress
from inspector.tui.app import make_app
from inspector.tui.screens import idle_jobs
from inspector.tui.widgets.status.status_bar import StatusBar
from store.helpers import as_schema_6

from .helpers import wait_for
from .sample import fixed_clock, sample_records

pytestmark = pytest.mark.anyio


async def test_browsing_an_old_database_indexes_it_and_says_how_far(config, monkeypatch):
    with Store(config.db_path) as store:
        store.write(sample_records())
    as_schema_6(config.db_path)
    monkeypatch.setattr(idle_jobs, "WARM_AFTER", 0.05)
    monkeypatch.setattr(idle_jobs, "INDEX_POLL", 0.05)
    seen = []
    render = StatusBar.render

    def recorded(self):
        text = render(self)
        seen.append(text.plain)
        return text

    monkeypatch.setattr(StatusBar, "render", recorded)
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: any("indexing for search 0%" in s for s in seen))
        await wait_for(pilot, lambda: app.main.counts.extra.get("index", 1) is None,
                       timeout=30)
        assert "indexing for search" not in app.main.query_one(StatusBar).render().plain
        watch = app.main._index_watch
        assert watch.process is not None and watch.process.wait(5) == 0
    with Store(config.db_path) as store:
        assert index_progress(store) == (len(sample_records()), len(sample_records()))


def test_an_index_process_that_fails_is_not_started_again_nor_shown(tmp_path):
    """A read-only database, a full disk: the index process ends in failure; the app
    neither starts it again nor shows progress that would never move."""
    from inspector.tui.indexing import IndexWatch

    class Backend:
        def index_progress(self):
            return (3, 10)

    watch = IndexWatch(tmp_path / "missing" / "captures.db", drive=True)
    assert watch.poll(Backend()) == (3, 10)  # started: `index` fails on a missing file
    assert watch.process.wait(60) != 0
    assert watch.poll(Backend()) is None and not watch.drive
    first = watch.process
    assert watch.poll(Backend()) is None and watch.process is first  # not started again
