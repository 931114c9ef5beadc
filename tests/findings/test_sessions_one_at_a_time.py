"""Findings read a session at a time, the most recently active first: memory holds one
session, a caller hears each session's findings as they are found, and the app's Findings
view shows them while the rest is read."""

from __future__ import annotations

import copy

import pytest

from inspector.analysis.findings import find, iter_sessions
from inspector.config import Config
from inspector.demo.prompt_cache import PromptCache
from inspector.demo.traffic import demo_session
from inspector.store import Store

from .conftest import store_turns
from .test_cache_break_proxy import edited_session

T0 = 1_795_000_000.0


def _as_session(turns, sid: str | None):
    """The demo turns with their session id set to `sid` (None: no session at all)."""
    out = []
    for t in copy.deepcopy(turns):
        headers = {k: v for k, v in t.headers.items() if k != "X-Claude-Code-Session-Id"}
        if sid is not None:
            headers["X-Claude-Code-Session-Id"] = sid
        request = t.request
        request.get("metadata", {}).pop("user_id", None)  # the other place an id is told
        out.append((request, headers, t.response))
    return out


@pytest.fixture
def three(home):
    """Session "s1" (oldest), "s10" (a longer id starting with it; newest) and requests
    of no session in between, each the demo session with a cache break."""
    config = Config.load(home)
    with Store(config.db_path) as store:
        for n, sid in enumerate(("s1", None, "s10")):
            clock = [0.0]
            store_turns(store, _as_session(edited_session(), sid), start=T0 + n * 3600,
                        cache=PromptCache(clock=lambda: clock[0]), clock=clock)
    return config


def test_sessions_come_newest_first_each_whole_and_alone(three):
    with Store(three.db_path) as store:
        sessions = list(iter_sessions(store))
        assert [turns[0].session_id for turns in sessions] == ["s10", None, "s1"]
        for turns in sessions:  # each session's own requests, all of them
            assert len({t.session_id for t in turns}) == 1 and len(turns) == 8
        # a session asked for by its id: "s1" is not mixed with "s10"
        assert [len(t) for t in iter_sessions(store, session="s10")] == [8]
        heard: list[list] = []
        found = find(store, each=heard.append)
        assert [f[0].session_id for f in heard] == ["s10", None, "s1"]
        assert sorted(map(id, found)) == sorted(id(f) for batch in heard for f in batch)
        assert {f.kind for f in found} >= {"cache_break", "unused_tool"}


def test_one_session_findings_are_the_same_alone_or_among_others(three, home):
    config = Config.load(home / "alone")
    with Store(config.db_path) as store:
        clock = [0.0]
        store_turns(store, _as_session(edited_session(), "s1"), start=T0,
                    cache=PromptCache(clock=lambda: clock[0]), clock=clock)
        alone = [(f.kind, f.source, f.tokens, f.cost_usd) for f in find(store)]
    with Store(three.db_path) as store:
        among = [(f.kind, f.source, f.tokens, f.cost_usd) for f in find(store)
                 if f.session_id == "s1"]
    assert alone == among and alone  # (ids differ: each store gave its own)


@pytest.mark.anyio
async def test_the_view_shows_findings_while_it_reads(home, monkeypatch):
    from inspector.tui.app import make_app
    from inspector.tui.screens import findings as view
    from inspector.tui.widgets.findings.table import FindingsTable

    config = Config.load(home)
    with Store(config.db_path) as store:  # 13 sessions of 8 requests: 104 read
        for n in range(13):
            turns = demo_session(seed=10 + n, turns=8)
            store_turns(store, _as_session(turns, f"sess-{n:02d}"), start=T0 + n * 900)
    monkeypatch.setattr(view, "PROGRESS_EVERY", 0.0)
    seen: list[int] = []
    shown = view.FindingsScreen.on_findings_progress

    def watch(self, message):
        shown(self, message)
        if message.found:
            seen.append(len(self.query_one(FindingsTable).findings))

    monkeypatch.setattr(view.FindingsScreen, "on_findings_progress", watch)
    app = make_app(config, None, clock=lambda: T0 + 86_400)
    async with app.run_test(size=(140, 36)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("i")
        for _ in range(250):
            await pilot.pause(0.02)
            table = app.screen.query(FindingsTable)
            if table and not table.first().loading and "reading" not in str(
                    app.screen.query_one("#findings-title").render()):
                break
        everything = len(app.screen.query_one(FindingsTable).findings)
    # the 12 sessions read by the 100th request were on screen before the last one was
    assert seen and 0 < seen[0] < everything
