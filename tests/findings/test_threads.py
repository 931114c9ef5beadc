"""Sessions as Claude Code lives them: subagent requests threaded under the request that
started them (by the agent-id header, or by the Agent tool call whose prompt opens the
subagent's conversation), side calls labelled, and `list --json` saying so."""

from __future__ import annotations

import copy
import json

import pytest

from inspector.demo.prompt_cache import PromptCache
from inspector.demo.traffic import demo_session

from .conftest import store_turns

PROMPT = "Find every place that builds a session key and list them with line numbers."


def _reply(model, content, stop="end_turn"):
    return {"id": "msg_x", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop,
            "usage": {"input_tokens": 10, "output_tokens": 20}}


def _session():
    """Main turn 0 calls the Agent tool; the subagent runs two requests (the first
    without the header, the second with it); a title and a quota side call sit between."""
    turns = demo_session(seed=5, turns=3)
    main = [(copy.deepcopy(t.request), dict(t.headers), copy.deepcopy(t.response)) for t in turns]
    main[0][2]["content"].append({"type": "tool_use", "id": "toolu_agent1", "name": "Agent",
                                  "input": {"subagent_type": "Explore", "prompt": PROMPT}})
    request, headers, _ = main[0]
    sub = {**copy.deepcopy(request), "messages": [
        {"role": "user", "content": [{"type": "text", "text": PROMPT,
                                      "cache_control": {"type": "ephemeral"}}]}]}
    sub["tools"] = [t for t in sub["tools"] if t["name"] in ("Read", "Grep", "Glob", "Bash")]
    sub2 = copy.deepcopy(sub)
    sub2["messages"] += [{"role": "assistant", "content": [{"type": "text", "text": "Looking."}]},
                         {"role": "user", "content": [{"type": "text", "text": "go on"}]}]
    haiku = "claude-haiku-4-5-20251001"
    title = ({"model": haiku, "max_tokens": 512, "system": [{"type": "text", "text":
              "Summarize this coding conversation in a short title of 5-10 words."}],
              "messages": [{"role": "user", "content": "The login endpoint returns a 500"}],
              "metadata": request["metadata"]}, headers, _reply(haiku, [{"type": "text", "text": "Fix login 500"}]))
    quota = ({"model": haiku, "max_tokens": 1, "messages": [{"role": "user", "content": "quota"}],
              "metadata": request["metadata"]}, headers, _reply(haiku, [{"type": "text", "text": "q"}], "max_tokens"))
    agent_headers = dict(headers, **{"x-claude-code-agent-id": "toolu_agent1"})
    return [main[0], title, (sub, headers, _reply(request["model"], [{"type": "text", "text": "Looking."}])),
            (sub2, agent_headers, _reply(request["model"], [{"type": "text", "text": "Found 3."}])),
            quota, main[1], main[2]]


def test_list_json_threads_agents_and_side_calls(store, run_cli):
    items = _session()
    ids = store_turns(store, items, cache=PromptCache())
    rows = {r["id"]: r for r in json.loads(run_cli("list", "--limit", "0", "--json").output)}
    got = [(rows[i]["agent_id"], rows[i]["parent_id"], rows[i]["side_call"]) for i in ids]
    assert got == [
        (None, None, None),
        (None, None, "title"),
        ("toolu_agent1", ids[0], None),
        ("toolu_agent1", ids[0], None),
        (None, None, "quota"),
        (None, None, None),
        (None, None, None),
    ]
    # one session header for all of them, yet the subagent's fresh prompt is no cache
    # break of the main conversation
    found = json.loads(run_cli("findings", "--kind", "cache_break", "--json").output)
    assert found == {"findings": []}


@pytest.mark.anyio
async def test_sessions_view_shows_the_subagent_and_side_calls(store, home):
    from inspector.config import Config
    from inspector.tui.app import make_app
    from inspector.tui.screens.sessions import SessionsScreen
    from inspector.tui.widgets.sessions.threads import SessionThreads

    store_turns(store, _session(), cache=PromptCache())
    app = make_app(Config.load(home), None, strict=True)
    async with app.run_test(size=(140, 40)) as pilot:
        for _ in range(250):
            if app.main.counts.total:
                break
            await pilot.pause(0.02)
        await pilot.press("s")
        shown = ""
        for _ in range(400):
            if isinstance(app.screen, SessionsScreen):
                shown = str(app.screen.query_one(SessionThreads).render())
                if "subagent" in shown:
                    break
            await pilot.pause(0.02)
    lines = shown.splitlines()
    assert lines[0].startswith("main conversation  3 requests")
    assert "subagent toolu_agent1" in lines[1] and "2 requests" in lines[1]
    assert any("side call: title  1 requests" in line for line in lines)
    assert any("side call: quota  1 requests" in line and "haiku" in line for line in lines)
