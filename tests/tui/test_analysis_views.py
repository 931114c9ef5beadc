"""The Stats view, the Diff tab and ratings, driven by the pilot over captures written
through the real store; expected figures come from the captures themselves."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from textual.widgets import Static

from inspector.store import Store, get_exchange
from inspector.tui import format as fmt
from inspector.tui.app import make_app
from inspector.tui.widgets.stats.groups_table import GroupsTable
from inspector.tui.screens.detail import DetailScreen
from inspector.tui.screens.stats import StatsScreen
from inspector.tui.widgets.detail.rating_prompt import RatingPrompt
from inspector.tui.widgets.stats import figures
from .helpers import wait_for
from .sample import fixed_clock, demo_records, sample_records

pytestmark = pytest.mark.anyio

SIZE = (160, 45)


def plain(renderable) -> str:
    """What a widget's renderable reads as, without styles."""
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def _stored(records):
    """(prompt tokens, output tokens, cost, requests) summed from the captures' own usage."""
    known = [r for r in records if r.capture.usage.input_tokens is not None]
    prompt = sum(r.capture.usage.prompt_tokens for r in known)
    output = sum(r.capture.usage.output_tokens or 0 for r in known)
    cost = sum(r.cost_usd for r in records if r.cost_usd is not None)
    return prompt, output, cost, len(records)


async def _open_stats(pilot, app) -> StatsScreen:
    await wait_for(pilot, lambda: app.main.counts.total > 0)
    await pilot.press("t")
    await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen))
    await pilot.press("a")  # all time: the sums below are over every stored capture
    screen = app.screen
    await wait_for(pilot, lambda: ("all", screen.by) in screen.results
                   and screen.query_one("#stats-groups", GroupsTable).row_count > 0)
    return screen


async def test_stats_groups_add_up_to_the_captured_usage(filled):
    records = sample_records() + demo_records()
    prompt, output, cost, requests = _stored(records)
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_stats(pilot, app)
        result = screen.results[("all", "source")]
        groups = result["groups"]
        sources = [g for g in groups if g["key"] != figures.OUTPUT_GROUP]
        # the sources partition the prompt: their tokens add up to the usage's
        assert sum(g["prompt_tokens"] for g in sources) == prompt
        assert result["total"]["prompt_tokens"] == prompt
        assert result["total"]["output_tokens"] == output
        assert result["total"]["requests"] == requests
        assert sum(g["cost"] or 0 for g in groups) == pytest.approx(cost, rel=1e-6)
        assert "mcp:github" in {g["key"] for g in sources}
        # and that is what the screen shows: one row per group, the totals under them
        table = screen.query_one("#stats-groups", GroupsTable)
        assert table.row_count == len(groups)
        total = plain(screen.query_one("#stats-total", Static).content)
        assert f"{requests:,} requests" in total and f"prompt {fmt.tokens(prompt)}" in total
        assert f"cost {fmt.cost(cost)}" in total
        tops = plain(screen.query_one("#stats-top-sources", Static).content)
        assert tops.splitlines()[0].startswith(sources[0]["key"])

        # by model: requests and prompt tokens per model, as captured
        await pilot.press("g")
        await wait_for(pilot, lambda: ("all", "model") in screen.results
                       and table.row_count == 2)
        by_model = {g["key"]: g for g in screen.results[("all", "model")]["groups"]}
        for model in {r.capture.model for r in records}:
            mine = [r for r in records if r.capture.model == model]
            assert by_model[model]["requests"] == len(mine)
            assert by_model[model]["prompt_tokens"] == _stored(mine)[0]
        shown = {table.cells(table.id_at(i))[0].plain for i in range(table.row_count)}
        assert shown == {fmt.short_model(m) for m in by_model}

        # per day: the plot's days hold every token of the period
        spark = screen.query_one("#stats-tokens")
        assert sum(spark.data) == prompt + output


async def test_diff_tab_names_the_mcp_tool_result_as_added(filled):
    records = sample_records()
    after_mcp_call = records[2]  # turn 3 of session A: turn 2 called the GitHub server
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.counts.total > 0)
        app.open_detail(after_mcp_call.capture.id)
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                       and app.screen.diff_loaded)
        # loaded: the context tree has the keyboard (it takes it, and its tab, on mount)
        await wait_for(pilot, lambda: bool(app.screen.query("#context-tree"))
                       and app.focused is app.screen.query_one("#context-tree"))
        assert not app.screen.query("#diff-body")  # the tab is built when first shown
        await pilot.press("d")
        await wait_for(pilot, lambda: bool(app.screen.query("#diff-body")))
        assert app.screen.query_one("#detail-tabs").active == "diff"
        text = plain(app.screen.query_one("#diff-body", Static).content)
        lines = [line for line in text.splitlines() if "added" in line]
        assert any("MCP server github: results of list_pull_requests" in line
                   for line in lines), text
        assert records[1].capture.id in text  # compared with the previous turn
        exact = (after_mcp_call.capture.usage.prompt_tokens
                 - records[1].capture.usage.prompt_tokens)
        assert "calibrated: " in text and f"{exact:+,}" in text
        # the largest change comes first
        changes = app.screen.diff["changes"]
        assert changes[0]["status"] == "added" and "mcp:github" in changes[0]["label"]

        await pilot.press("escape")
        app.open_detail(records[0].capture.id)
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                       and app.screen.diff_loaded)
        await pilot.press("d")
        await wait_for(pilot, lambda: bool(app.screen.query("#diff-body")))
        text = plain(app.screen.query_one("#diff-body", Static).content)
        assert "First request of the session" in text


async def test_rating_from_the_detail_view_is_stored(filled):
    target = demo_records()[-1].capture.id
    app = make_app(filled, None, clock=fixed_clock, strict=True)

    reader = Store(filled.db_path)  # a connection of the test's own, as `show` would read

    def latest():
        feedback = get_exchange(reader, target)["feedback"]
        return feedback[-1] if feedback else None

    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.counts.total > 0)
        app.open_detail(target)
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                       and app.screen.exchange is not None)
        await pilot.press("g")
        await wait_for(pilot, lambda: latest() is not None)
        assert latest()["rating"] == 1 and latest()["note"] is None
        summary = app.screen.query_one("#detail-summary", Static)
        await wait_for(pilot, lambda: "rated good" in plain(summary.content))

        await pilot.press("n")  # rate with a note: bad is preselected
        await wait_for(pilot, lambda: isinstance(app.screen, RatingPrompt))
        await pilot.press(*"off topic", "enter")
        await wait_for(pilot, lambda: latest()["rating"] == -1)
        assert latest()["note"] == "off topic"
        await wait_for(pilot, lambda: "rated bad: off topic"
                       in plain(summary.content))
        for key, note, value in (("up", "fixed", 1),  # up: good
                                 ("down", "not", -1)):  # down: bad again
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, RatingPrompt))
            await pilot.press(key, *note, "enter")
            await wait_for(pilot, lambda: latest()["note"] == note)
            assert latest()["rating"] == value
            assert latest()["note"] == note

    reader.close()
    # a reopened detail view reads the rating back from the database
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.counts.total > 0)
        app.open_detail(target)
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                       and app.screen.exchange is not None)
        assert "rated bad" in plain(app.screen.query_one("#detail-summary", Static).content)
        # and the Stats view counts it
        await pilot.press("escape")
        screen = await _open_stats(pilot, app)
        assert screen.results[("all", "source")]["total"]["rated_bad"] == 1


def test_daily_series_fills_quiet_days():
    groups = [{"key": "2026-11-18", "prompt_tokens": 100, "output_tokens": 5, "cost": 0.5},
              {"key": "2026-11-20", "prompt_tokens": 10, "output_tokens": None, "cost": None}]
    days, tokens, cost = figures.daily_series(groups, "2026-11-21")
    assert days == ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"]
    assert tokens == [105.0, 0.0, 10.0, 0.0] and cost == [0.5, 0.0, 0.0, 0.0]
    assert figures.daily_series([], "2026-11-21") == ([], [], [])


def test_top_lines_rank_sources_by_tokens_and_sessions_by_cost():
    groups = [{"key": "tool:Bash", "prompt_tokens": 50, "cost": 0.1},
              {"key": "mcp:github", "prompt_tokens": 500, "cost": 0.01},
              {"key": figures.OUTPUT_GROUP, "prompt_tokens": None, "cost": 9.0}]
    lines = figures.top_lines(groups, "source").plain.splitlines()
    assert [line.split()[0] for line in lines] == ["mcp:github", "tool:Bash"]
    lines = figures.top_lines(groups, "session").plain.splitlines()
    assert lines[0].startswith("tool:Bash")


def test_daily_series_spans_the_whole_period():
    groups = [{"key": "2026-11-24", "prompt_tokens": 7, "output_tokens": 0, "cost": 0.1}]
    days, tokens, _cost = figures.daily_series(groups, "2026-11-24", "2026-11-18")
    assert len(days) == 7 and tokens == [0.0] * 6 + [7.0]


async def test_stats_view_follows_new_captures(filled, monkeypatch):
    """A capture stored while the Stats view is open shows up in its figures."""
    from .sample import SESSION_A, make_record

    monkeypatch.setattr(StatsScreen, "REFRESH_GAP", 0.05)
    app = make_app(filled, None, clock=fixed_clock, strict=True, poll_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_stats(pilot, app)
        before = screen.results[("all", "source")]["total"]["requests"]
        with Store(filled.db_path) as store:
            store.write([make_record(99, 1_795_000_900.0, SESSION_A, 1)])
        await wait_for(pilot, lambda: (screen.results.get(("all", "source")) or {})
                       .get("total", {}).get("requests") == before + 1)
        total = plain(screen.query_one("#stats-total", Static).content)
        assert f"{before + 1:,} requests" in total


async def test_enter_on_a_group_lists_its_requests(filled):
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_stats(pilot, app)
        github = next(i for i, g in enumerate(screen.shown) if g["key"] == "mcp:github")
        screen.query_one("#stats-groups", GroupsTable).move_cursor(row=github)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app.main
                       and app.main.counts.matching is not None)
        assert app.main.filter_text == "source:mcp:github"
        # the table lists every request carrying the server; stats count those whose
        # usage is known (the 429 carries the server too, but used no tokens)
        carrying = [r for r in sample_records() + demo_records()
                    if _carries(r.attribution, "mcp:github")]
        assert app.main.counts.matching == len(carrying)
        known = [r for r in carrying if r.capture.usage.input_tokens is not None]
        assert screen.shown[github]["requests"] == len(known) == len(carrying) - 1


def _carries(node, source: str) -> bool:
    if (node.meta or {}).get("source") == source:
        return True
    return any(_carries(child, source) for child in node.children or [])


def test_group_filters():
    assert figures.filter_for("mcp:github", "source") == "source:mcp:github"
    assert figures.filter_for("claude-opus-4-1", "model") == "model:claude-opus-4-1"
    assert figures.filter_for("2026-11-18", "day") == (
        "since:2026-11-18T00:00:00Z until:2026-11-19T00:00:00Z")
    assert figures.filter_for(figures.OUTPUT_GROUP, "source") is None


async def test_a_tab_chosen_while_the_request_loads_stays_chosen(filled):
    """The Context tree, built when the request arrives, does not pull the keyboard (and
    with it its tab) away from a tab the user picked meanwhile."""
    records = sample_records()
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.counts.total > 0)
        app.open_detail(records[2].capture.id)
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.exchange is None  # still loading
        await pilot.press("d")
        await wait_for(pilot, lambda: app.screen.exchange is not None
                       and bool(app.screen.query("#context-tree")))
        await pilot.pause(0.2)
        assert app.screen.query_one("#detail-tabs").active == "diff"
