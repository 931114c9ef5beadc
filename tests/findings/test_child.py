"""The app's findings come from a process of their own: the same findings as in-process,
heard as they come, ended when no longer wanted, and a failure said in words."""

from __future__ import annotations

import time

import pytest

from inspector.analysis.findings import find
from inspector.analysis.findings.child import find_in_child
from inspector.store import Store
from inspector.tui.backend import Backend

from .test_sessions_one_at_a_time import three  # noqa: F401 - the fixture


def _key(f):
    return (f.kind, f.request_id, f.session_id, f.source, f.tokens, f.cost_usd, f.detail)


def test_the_child_finds_what_find_finds_and_tells_as_it_goes(three):  # noqa: F811
    with Store(three.db_path) as store:
        here = find(store)
    heard: list[list] = []
    progress: list[tuple[int, int]] = []
    there = find_in_child(three.db_path, each=heard.append,
                          progress=lambda n, total: progress.append((n, total)))
    assert [_key(f) for f in there] == [_key(f) for f in here] and here
    assert [batch[0].session_id for batch in heard] == ["s10", None, "s1"]
    # and for one session, until a time, of some kinds
    with Store(three.db_path) as store:
        here = find(store, session="s1", kinds=("cache_break",))
    assert [_key(f) for f in find_in_child(three.db_path, session="s1",
                                           kinds=("cache_break",))] == [_key(f) for f in here]


def test_a_sessions_threads_are_those_worked_out_in_process(three):  # noqa: F811
    from inspector.analysis.findings import load_sessions
    from inspector.analysis.findings.child import threads_in_child
    from inspector.analysis.findings.threads import session_tree

    with Store(three.db_path) as store:
        here = session_tree(load_sessions(store, session="s1")["s1"])
    there = threads_in_child(three.db_path, "s1")
    assert there == here and there[0]["kind"] == "main" and there[0]["requests"] == 8
    assert threads_in_child(three.db_path, "s1", cancelled=lambda: True) is None


def test_cancelled_it_ends_the_child_and_answers_none(three):  # noqa: F811
    children = []
    answer = find_in_child(three.db_path, cancelled=lambda: True, started=children.append)
    assert answer is None
    assert children and children[0].poll() is not None  # ended, not left running


def test_a_failure_is_said(tmp_path):
    (tmp_path / "not.db").write_text("this is not a database")
    with pytest.raises(RuntimeError, match="findings: "):
        find_in_child(tmp_path / "not.db")


def test_closing_the_backend_ends_its_findings_processes(three):  # noqa: F811
    import threading

    backend = Backend(three.db_path)
    children, answers = [], []
    started = threading.Event()

    def slow(n, total):  # the child waits on the pipe: the app is "busy" hearing it
        started.set()
        time.sleep(0.5)

    from inspector.analysis.findings import child as module

    spawn = module.spawn

    def watched(*args):
        process = spawn(*args)
        children.append(process)
        return process

    module.spawn = watched
    try:
        thread = threading.Thread(target=lambda: answers.append(
            backend.findings(None, each=lambda found: slow(0, 0))))
        thread.start()
        assert started.wait(20)
        backend.close()
        thread.join(20)
    finally:
        module.spawn = spawn
    assert children and children[0].poll() is not None
    assert answers == [None]  # no answer for a closing app


@pytest.mark.anyio
async def test_a_closed_view_ends_the_findings_process_it_started(three):  # noqa: F811
    import subprocess
    import sys

    from inspector.tui.app import make_app
    from inspector.tui.screens.detail import DetailScreen

    with Store(three.db_path) as store:
        newest = store.conn.execute("SELECT id FROM requests ORDER BY ts DESC").fetchone()[0]
    app = make_app(three, None, clock=lambda: 1_795_000_000.0 + 86_400)
    async with app.run_test(size=(140, 36)) as pilot:
        await pilot.pause(0.3)
        app.open_detail(newest)
        for _ in range(250):
            await pilot.pause(0.02)
            if isinstance(app.screen, DetailScreen) and app.screen._child is not None:
                break
        screen = app.screen
        assert screen._child is not None  # its findings are worked out in a process
        # one that would run on long after the screen (a long session's findings)
        slow = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        screen._child = slow
        await pilot.press("escape")
        for _ in range(100):
            await pilot.pause(0.02)
            if slow.poll() is not None:
                break
        assert slow.poll() is not None


@pytest.mark.anyio
async def test_the_sessions_view_ends_the_threads_process_of_a_session_left(three):  # noqa: F811
    import subprocess
    import sys

    from inspector.tui.app import make_app
    from inspector.tui.screens.sessions import SessionsScreen
    from inspector.tui.widgets.sessions.table import SessionsTable

    app = make_app(three, None, clock=lambda: 1_795_000_000.0 + 86_400)
    async with app.run_test(size=(140, 36)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("s")
        for _ in range(250):
            await pilot.pause(0.02)
            if isinstance(app.screen, SessionsScreen) and app.screen.query_one(
                    SessionsTable).row_count == 2:
                break
        screen = app.screen
        # the threads of the session highlighted now take long (a 300-turn session's)
        slow = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        screen._child = slow
        await pilot.press("down")  # another session: its threads are asked for instead
        for _ in range(250):
            await pilot.pause(0.02)
            if slow.poll() is not None:
                break
        assert slow.poll() is not None
