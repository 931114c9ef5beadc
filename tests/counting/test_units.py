"""Pure parts of exact counting: the stub's validation and token model, the pacer, the
plan's validity, credentials that never serialise, and the apply rules."""

from __future__ import annotations

import pickle

import pytest

from inspector.counting.apply import Counts, apply_counts
from inspector.counting.client import Credentials, Pacer
from inspector.counting.plan import make_plan
from inspector.demo import token_model as tm
from inspector.demo.traffic import demo_session
from inspector.demo.validate import problem
from inspector.model import Node, Usage

USER = {"role": "user", "content": "hi"}


@pytest.mark.parametrize("body, count, why", [
    ({"model": "m", "messages": [USER], "max_tokens": 5}, True, "max_tokens"),
    ({"model": "m", "messages": [USER], "stream": True}, True, "stream"),
    ({"model": "m", "messages": [USER], "metadata": {}}, True, "metadata"),
    ({"model": "m", "messages": [{"role": "assistant", "content": "x"}]}, False, "first"),
    ({"model": "m", "messages": [USER, {"role": "assistant", "content": [
        {"type": "tool_use", "id": "t1", "name": "a", "input": {}}]}, USER]}, False, "tool_result"),
    ({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "zz", "content": "x"}]}]}, False, "unexpected"),
    ({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]},
     False, "non-empty"),
])
def test_the_stub_refuses_what_the_api_refuses(body, count, why):
    assert why in (problem(body, count_tokens=count) or "")


def test_every_demo_request_is_valid_and_the_model_is_additive():
    for turn in demo_session(seed=0, turns=7):
        assert problem(turn.request) is None
        body = turn.request
        parts = (sum(tm.tool_tokens(t) for t in body["tools"])
                 + sum(tm.block_tokens(b) for b in body["system"])
                 + sum(tm.message_tokens(m) - tm.MESSAGE_FRAME for m in body["messages"]))
        assert tm.count_request(body) == parts + tm.overhead(body)


def test_every_count_a_plan_sends_is_valid():
    for turn in demo_session(seed=1, turns=6):
        root_paths = [(f"/tools/{i}", 1.0) for i in range(len(turn.request["tools"]))]
        root_paths += [(f"/messages/{i}/content/{j}", 1.0)
                       for i, m in enumerate(turn.request["messages"]) if isinstance(m["content"], list)
                       for j in range(len(m["content"]))]
        plan = make_plan(turn.request, root_paths)
        bodies = [plan.full] + [b for m in plan.measures for b in (m.plus, m.minus) if b]
        bodies += [b for a in plan.anchors for b in (a.plus, a.minus) if b]
        for body in bodies:
            assert problem(body, count_tokens=True) is None, body
            assert "cache_control" not in repr(body)


def test_pacer_keeps_to_the_limit_and_backs_off():
    now = [0.0]
    pacer = Pacer(3, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    for _ in range(4):
        pacer.wait()
    assert now[0] == 60.0  # the fourth call waited for the first to leave the minute
    assert pacer.failed(retry_after=12) == 12 and pacer.backing_off()
    pacer.wait()
    assert now[0] == 72.0
    pacer.succeeded()
    assert pacer.failed() == 5 and pacer.failed() == 10  # doubling without retry-after


def test_credentials_never_show_or_serialise():
    creds = Credentials.from_headers([("x-api-key", "sk-ant-secret"), ("content-type", "x")])
    assert "sk-ant" not in repr(creds) and "sk-ant" not in str(creds)
    with pytest.raises(TypeError):
        pickle.dumps(creds)
    assert Credentials.from_headers([("content-type", "x")]) is None


def test_negative_remainders_are_clipped_and_said():
    a = Node("tool", "A", tokens=50, path="/tools/0")
    b = Node("tool", "B", tokens=50, path="/tools/1")
    root = Node("prompt", "m", tokens=100, estimated=False,
                children=[Node("category", "T", tokens=100, children=[a, b])])
    apply_counts(root, Counts(exact={"/tools/0": 120}, full=130), Usage(input_tokens=100))
    assert b.tokens == 0 and "exceed" in root.meta["exact"]["note"]
    assert a.tokens == 120 and not a.estimated
    assert root.children[0].estimated  # B is still an estimate


def test_exact_is_a_setting_and_a_flag(home):
    from inspector.config import Config, ConfigError

    assert Config.load(home).count_settings() is None
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("exact = true\ncount_per_minute = 100\n")
    settings = Config.load(home).count_settings()
    assert settings is not None and settings.upstream.per_minute == 100
    (home / "config.toml").write_text('exact = "yes"\n')
    with pytest.raises(ConfigError):
        Config.load(home)
    (home / "config.toml").unlink()
    assert Config.load(home, exact=True, resolve=["api.anthropic.com:443:127.0.0.1:9"]) \
        .count_settings().upstream.resolve == {("api.anthropic.com", 443): ("127.0.0.1", 9)}


class _Refusing:
    """A client whose API refuses some questions as invalid, and counts the rest."""

    def __init__(self, refuse):
        self.refuse, self.asked = refuse, 0

    def count(self, body, credentials, stop=None):
        from inspector.counting.client import CountError

        self.asked += 1
        if self.refuse(body):
            raise CountError("count_tokens answered 400: invalid")
        return tm.count_request(body)


def test_a_refused_part_loses_only_that_part():
    from inspector.attribution import attribute
    from inspector.counting.cache import CountCache
    from inspector.counting.measure import measure

    request = demo_session(seed=0, turns=1)[0].request
    root = attribute(request, Usage(input_tokens=tm.count_request(request)))
    client = _Refusing(lambda body: any(t.get("name") == "Bash" for t in body.get("tools") or [])
                       and len(body["tools"]) == 2)
    counts = measure(request, root, client, CountCache(), Credentials.from_api_key("k"))
    assert "/tools/1" not in counts.exact and "/tools/0" in counts.exact
    assert counts.full == tm.count_request(request) and "400" in counts.notes[0]


def test_the_app_marks_exact_figures():
    from inspector.tui.widgets.detail.context_tree import node_label

    exact = Node("mcp_tool", "query", tokens=120, estimated=False, meta={"counted": "api"})
    guessed = Node("mcp_tool", "query", tokens=120)
    assert "exact" in node_label(exact, 1000).plain
    assert "exact" not in node_label(guessed, 1000).plain
