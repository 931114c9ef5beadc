"""The store is the only way captures reach the app: rows written by another process
show up in the table (a pending row first, then the capture in its place), and the app
reads only what is new."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.ids import new_id
from inspector.store import Store
from inspector.tui.app import make_app
from inspector.tui.widgets.requests.table import RequestsTable

from .helpers import wait_for
from .sample import fixed_clock

pytestmark = pytest.mark.anyio

WRITER = Path(__file__).with_name("feed_writer.py")
SIZE = (160, 40)


class OtherProcess:
    """`feed_writer.py` in a subprocess: the store's API, from outside the app."""

    def __init__(self, db: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, str(WRITER), str(db)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def send(self, command: str) -> float:
        """Run `command`; the wall-clock time its commit was done."""
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(10)


@pytest.fixture
def other(config):
    Store(config.db_path).close()
    writer = OtherProcess(config.db_path)
    yield writer
    writer.close()


async def test_a_row_written_by_another_process_appears(config, other):
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: app.main.loaded_once)
        assert table.row_count == 0
        capture_id = new_id()

        other.send(f"pending {capture_id}")
        await wait_for(pilot, lambda: capture_id in table.rows_by_id, timeout=2)
        row = table.rows_by_id[capture_id]
        assert row.pending and row.status is None
        assert "live" in str(table.cell(capture_id, "latency"))

        committed = other.send(f"done {capture_id}")
        await wait_for(pilot, lambda: not table.rows_by_id[capture_id].pending, timeout=2)
        took = time.time() - committed
        row = table.rows_by_id[capture_id]
        assert row.status == 200 and row.input_tokens == 21 and row.model == "claude-haiku-4-5"
        assert table.row_count == 1  # the capture took the pending row's place
        assert app.main.counts.total == 1
        assert took < 1.0  # 30 ms polls: well under this even on a busy machine


async def test_a_dropped_request_leaves_the_table(config, other):
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: app.main.loaded_once)
        kept, dropped = new_id(), new_id()
        other.send(f"pending {kept}")
        other.send(f"pending {dropped}")
        await wait_for(pilot, lambda: table.row_count == 2, timeout=2)
        other.send(f"drop {dropped}")
        other.send(f"done {kept}")
        await wait_for(pilot, lambda: table.row_count == 1
                       and not table.rows_by_id[kept].pending, timeout=2)
        assert dropped not in table.rows_by_id and app.main.pending_ids == set()


async def test_new_rows_are_read_alone_not_the_window(config, other):
    """A capture costs the app the rows that are new: the window is read once, then only
    the feed (no page, no count of the whole table)."""
    for _ in range(3):
        other.send("done")
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        pages = []
        original = app.backend.window
        app.backend.window = lambda *a, **k: pages.append(a) or original(*a, **k)
        for _ in range(5):
            other.send("done")
        await wait_for(pilot, lambda: table.row_count == 8, timeout=3)
        assert pages == [] and app.main.counts.total == 8
        await pilot.press("slash")
        await pilot.press(*"model:haiku", "enter")  # a filter still reads the window
        await wait_for(pilot, lambda: pages)
        other.send("done")
        await wait_for(pilot, lambda: table.row_count == 9, timeout=3)
        assert app.main.counts.matching == 9 and app.main.counts.total == 9


async def test_lines_kept_across_changes_draw_as_new_ones(config, other):
    """The table keeps drawn lines across changes: after a row arrived in flight and was
    then stored, every line shows what a freshly filled table shows."""
    for _ in range(4):
        other.send("done")
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        await pilot.pause(0.1)
        capture_id = new_id()
        other.send(f"pending {capture_id}")
        await wait_for(pilot, lambda: table.row_count == 5)
        other.send(f"done {capture_id}")
        await wait_for(pilot, lambda: not table.rows_by_id[capture_id].pending)
        await pilot.pause(0.1)

        def lines() -> list[str]:
            return [table.render_line(y).text for y in range(table.row_count + 1)]

        kept = lines()
        table.replace_rows(sorted(table.rows_by_id.values(), key=lambda r: r.id, reverse=True))
        await pilot.pause(0.1)
        assert kept == lines()
        assert "Time" in kept[0]  # line 0 is the header
        assert "200" in kept[1] and "live" not in kept[1]


async def test_a_burst_larger_than_the_feed_reads_the_window(config, other, monkeypatch):
    from inspector.tui import backend

    monkeypatch.setattr(backend, "FEED_LIMIT", 2)
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(RequestsTable)
        await wait_for(pilot, lambda: app.main.loaded_once)
        app.main.loading = True  # hold the feed back while the burst is written
        for _ in range(6):
            other.send("done")
        app.main.loading = False
        app.main.refresh_captures()
        await wait_for(pilot, lambda: table.row_count == 6, timeout=3)
        assert app.main.counts.total == 6 and app.main.seq == backend.Backend.seq(app.backend)
