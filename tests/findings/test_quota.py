"""Subscription quota headers: relayed to the client exactly as sent (Claude Code's own
quota display reads them), kept per exchange, apportioned to sources in `stats`, and
shown as bars in the app's status bar."""

from __future__ import annotations

import json

import pytest

from inspector.demo.traffic import demo_session
from inspector.tui.app import make_app
from inspector.tui.widgets.status.status_bar import StatusBar

from .conftest import store_turns, through_proxy

QUOTA = {
    "anthropic-ratelimit-unified-status": "allowed",
    "anthropic-ratelimit-unified-5h-status": "allowed",
    "anthropic-ratelimit-unified-5h-utilization": "0.052",
    "anthropic-ratelimit-unified-5h-reset": "1795018800",
    "anthropic-ratelimit-unified-7d-utilization": "0.31",
    "anthropic-ratelimit-unified-7d-reset": "1795536000",
    "anthropic-ratelimit-unified-representative-claim": "five_hour",
    "anthropic-ratelimit-unified-fallback-percentage": "0.5",
}


@pytest.mark.parametrize("stream", [True, False])
def test_quota_headers_reach_the_client_unchanged_and_are_kept(home, tmp_path, run_cli, stream):
    turns = demo_session(seed=8, turns=2)
    for t in turns:
        t.request = dict(t.request, stream=stream)
    ids, replies = through_proxy(home, tmp_path, turns,
                                 extra_headers={"x-stub-reply-headers": json.dumps(QUOTA)})
    for reply in replies:
        got = {k: v for k, v in reply.headers.items() if k.startswith("anthropic-ratelimit-")}
        assert got == QUOTA
    shown = json.loads(run_cli("show", ids[0], "--json").output)
    assert shown["quota"]["5h_utilization"] == "0.052"
    assert shown["quota"] == {k.removeprefix("anthropic-ratelimit-unified-").replace("-", "_"): v
                              for k, v in QUOTA.items()}


def test_exchanges_without_quota_have_none(home, tmp_path, run_cli):
    ids, _ = through_proxy(home, tmp_path, demo_session(seed=8, turns=1))
    assert json.loads(run_cli("show", ids[0], "--json").output)["quota"] is None


def _with_utilization(values):
    turns = demo_session(seed=9, turns=len(values))
    items = [(t.request, t.headers, t.response) for t in turns]
    headers = [[("anthropic-ratelimit-unified-5h-utilization", v),
                ("anthropic-ratelimit-unified-7d-utilization", "0.2")] for v in values]
    return items, headers


def test_stats_apportions_the_five_hour_window_to_sources(store, run_cli):
    items, headers = _with_utilization(["0.10", "0.12", "0.15", "0.01"])
    ids = store_turns(store, items, reply_headers=headers)
    stats = json.loads(run_cli("stats", "--json").output)
    quota = stats["quota_5h"]
    assert quota["estimate"] == "apportioned"
    # the first figure is the baseline; a drop starts a new window
    assert quota["total"] == pytest.approx(0.02 + 0.03 + 0.01)
    assert sum(quota["sources"].values()) == pytest.approx(quota["total"], abs=1e-5)
    # one source by hand: its share of each request's billed tokens times the change
    def share(request_id, source):
        rows = dict(store.execute("SELECT source, tokens FROM request_sources WHERE request_id = ?",
                                  (request_id,)).fetchall())
        out = store.execute("SELECT output_tokens FROM responses WHERE request_id = ?",
                            (request_id,)).fetchone()[0]
        return rows.get(source, 0) / (sum(rows.values()) + out)
    expected = sum(d * share(i, "tool:Bash") for d, i in zip((0.02, 0.03, 0.01), ids[1:]))
    assert quota["sources"]["tool:Bash"] == pytest.approx(expected, abs=1e-6)
    text = run_cli("stats").output
    assert "apportioned estimate" in text


@pytest.mark.anyio
async def test_status_bar_shows_five_hour_and_seven_day_bars(store, home):
    from inspector.config import Config

    items, headers = _with_utilization(["0.10", "0.52"])
    store_turns(store, items, reply_headers=headers)
    app = make_app(Config.load(home), None, strict=True)
    async with app.run_test(size=(160, 30)) as pilot:
        bar = app.main.query_one(StatusBar)
        for _ in range(250):
            if "5h" in str(bar.render()):
                break
            await pilot.pause(0.02)
        line = str(bar.render()).splitlines()[0]
        assert "5h ▰▰▰▱▱ 52%" in line and "7d ▰▱▱▱▱ 20%" in line
