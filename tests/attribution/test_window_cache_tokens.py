"""Context window, cached prefix and the token estimator."""

from __future__ import annotations

import json

from inspector.attribution import attribute, estimate_tokens
from inspector.attribution.tokens import SAMPLE_ABOVE, _measure
from inspector.model import Usage

from .fixtures import SESSION, turn
from .helpers import leaves


def test_context_window_default_and_1m_beta():
    req, usage, headers = turn(2)
    root = attribute(req, usage, headers)
    assert root.meta["context_window"] == 200_000
    assert root.meta["used"] == usage.prompt_tokens
    assert root.meta["used_fraction"] == usage.prompt_tokens / 200_000
    long = {**headers, "anthropic-beta": headers["anthropic-beta"] + ",context-1m-2025-08-07"}
    assert attribute(req, usage, long).meta["context_window"] == 1_000_000
    lower = {"ANTHROPIC-BETA": "context-1m-2025-08-07"}
    assert attribute(req, usage, lower).meta["context_window"] == 1_000_000
    assert attribute(req).meta["context_window"] == 200_000


def test_first_turn_writes_the_cache_so_nothing_is_cached():
    req, usage, headers = turn(1)
    assert usage.cache_read_input_tokens == 0
    assert not any(leaf.cached for leaf in leaves(attribute(req, usage, headers)))


def test_later_turn_marks_the_read_prefix_only():
    req, usage, headers = turn(3)
    root = attribute(req, usage, headers)
    by_path = {leaf.path: leaf for leaf in leaves(root)}
    assert by_path["/tools/1"].cached and by_path["/system/1"].cached
    assert by_path["/messages/0/content/2"].cached  # the user's first words were read
    # this turn's new tool results were written, not read
    assert not by_path["/messages/5/content/0"].cached
    cached_tokens = sum(leaf.tokens for leaf in leaves(root) if leaf.cached)
    assert abs(cached_tokens - usage.cache_read_input_tokens) < 0.02 * usage.prompt_tokens
    tools = next(c for c in root.children if c.label == "System tools")
    assert tools.cached  # a parent is cached when all its children are


def test_no_cache_read_or_no_breakpoint_means_nothing_cached():
    req, usage, _ = turn(3)
    no_read = Usage(input_tokens=usage.prompt_tokens)
    assert not any(leaf.cached for leaf in leaves(attribute(req, no_read)))
    stripped = json.loads(json.dumps(req))
    for block in stripped["system"]:
        block.pop("cache_control", None)
    for msg in stripped["messages"]:
        if isinstance(msg["content"], list):
            for block in msg["content"]:
                block.pop("cache_control", None)
    assert not any(leaf.cached for leaf in leaves(attribute(stripped, usage)))


PROSE = ("Keep answers short and direct. Read the relevant code before changing it, and run the "
         "project's tests after a change when you know how to. Never commit unless asked. ") * 4


def test_estimator_tells_prose_json_and_cjk_apart():
    schema = json.dumps(SESSION[0].request["tools"][5]["input_schema"], separators=(",", ":"))
    prose_cpt = len(PROSE) / estimate_tokens(PROSE)
    json_cpt = len(schema) / estimate_tokens(schema)
    code = "def f(x):\n    return {k: v[0] for k, v in x.items() if v and k != '_'}\n" * 10
    code_cpt = len(code) / estimate_tokens(code)
    cjk = "会话存储迁移到新的客户端之后登录接口返回错误" * 10
    assert 3.8 < prose_cpt < 5.0
    assert 2.6 < json_cpt < 3.8 and json_cpt < prose_cpt
    assert 2.0 < code_cpt < 3.6
    assert len(cjk) / estimate_tokens(cjk) < 1.2
    assert estimate_tokens("") == 0 and estimate_tokens("a") == 1


def test_sampling_of_long_text_stays_close_to_a_full_count():
    text = (PROSE + json.dumps(SESSION[0].request["tools"][:3])) * 60
    assert len(text) > SAMPLE_ABOVE
    full = _measure(text.encode())
    assert abs(estimate_tokens(text) - full) / full < 0.1


def test_the_5x_models_have_a_1m_window_without_a_beta_header():
    from inspector.attribution import context_window

    assert context_window({}, "claude-opus-5-5") == 1_000_000
    assert context_window({}, "claude-sonnet-5-20260630") == 1_000_000
    assert context_window({}, "claude-fable-5-1") == 1_000_000
    assert context_window({}, "claude-sonnet-4-5-20250929") == 200_000
    assert context_window({"anthropic-beta": "context-1m-2025-08-07"},
                          "claude-sonnet-4-5") == 1_000_000
