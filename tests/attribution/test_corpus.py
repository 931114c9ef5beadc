"""Real Claude Code requests (tests/corpus/, captured by scripts/capture_corpus.py): each
source the capture project sets up lands in its own node, in the category a user would
look for, and nothing Claude Code sent is left unknown but the fields we do not weigh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.attribution import attribute
from inspector.model import Usage

from .helpers import by_source, content_size, find, leaves, resolve, walk

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
FILES = sorted(CORPUS.glob("cc-*.json"))
PROJECT = "/tmp/claude-corpus/project"
MCP_INSTRUCTIONS = "The corpus server knows facts about the capture project."


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def text_of(req: dict, leaf) -> str:
    """The exact characters a leaf covers."""
    base, _, sl = leaf.path.partition("#")
    item = resolve(req, base)
    text = item["text"] if isinstance(item, dict) and "text" in item else item
    if not sl:
        return text if isinstance(text, str) else json.dumps(text)
    a, b = map(int, sl.split(":"))
    return text[a:b]


def one(root, *labels):
    node = root
    for label in labels:
        node = next((c for c in node.children if c.label == label), None)
        assert node is not None, f"no {label!r} under {labels}"
    return node


@pytest.fixture(params=FILES, ids=[f.stem for f in FILES])
def captured(request):
    req = load(request.param)
    return request.param.stem, req, attribute(req)


def test_the_corpus_holds_a_new_and_an_old_release_in_both_modes():
    names = {f.stem for f in FILES}
    versions = {n.split("-")[1] for n in names}
    assert len(versions) >= 2
    assert all(f"cc-{v}-{m}" in names for v in versions for m in ("proxy", "base_url"))
    for f in FILES:
        assert "sk-ant-api" not in f.read_text()  # no key, not even the fake one


def test_every_character_in_one_leaf_and_tokens_sum_to_usage(captured):
    _, req, root = captured
    assert sum(leaf.chars for leaf in leaves(root)) == content_size(req) == root.chars
    usage = Usage(input_tokens=12_345, cache_read_input_tokens=4_000, cache_creation_input_tokens=321)
    exact = attribute(req, usage)
    assert sum(leaf.tokens for leaf in leaves(exact)) == 16_666
    spans: dict[str, list[tuple[int, int]]] = {}
    for leaf in leaves(root):
        base, _, sl = leaf.path.partition("#")
        if sl:
            spans.setdefault(base, []).append(tuple(map(int, sl.split(":"))))
    for base, parts in spans.items():
        parts.sort()
        assert all(b1 == a2 for (_, b1), (a2, _) in zip(parts, parts[1:])), base


def test_memory_files_by_path_whatever_header_announces_them(captured):
    _, req, root = captured
    memory = one(root, "Memory files")
    project = one(memory, f"{PROJECT}/CLAUDE.md")
    nested = one(memory, f"{PROJECT}/sub/CLAUDE.md")
    assert "Project codename: Heron." in text_of(req, project)
    assert "quote them exactly" in text_of(req, nested)
    assert project.meta["source"] == f"memory:{PROJECT}/CLAUDE.md"


def test_mcp_server_instructions_tools_and_results_under_the_server(captured):
    _, req, root = captured
    server = one(root, "MCP tools", "corpus")
    assert server.kind == "mcp_server"
    instructions = one(server, "instructions")
    assert instructions.kind == "mcp_instructions"
    assert MCP_INSTRUCTIONS in text_of(req, instructions)
    assert "skills are available" not in text_of(req, instructions)
    assert {leaf.kind for leaf in server.children} >= {"mcp_tool", "mcp_instructions"}
    result = one(root, "Messages", "Tool results", "corpus (MCP)").children[0]
    assert "fact-7" in text_of(req, result)


def test_hook_output_by_event(captured):
    _, req, root = captured
    hooks = one(root, "Messages", "Hooks")
    assert "the build is green" in text_of(req, one(hooks, "SessionStart").children[0])
    assert "HERON-42" in text_of(req, one(hooks, "UserPromptSubmit").children[0])
    for leaf in leaves(hooks):
        assert "Environment" not in text_of(req, leaf)


def test_output_style_under_the_system_prompt(captured):
    _, req, root = captured
    style = one(root, "System prompt", "Output style: Terse")
    assert "Answer in as few words as possible." in text_of(req, style)
    assert style.meta["source"] == "system:output_style"


def test_environment_wherever_it_moved(captured):
    _, req, root = captured
    env = by_source(root, "system:environment")
    assert env and all(leaf in one(root, "System prompt").children for leaf in env)
    assert any(f"Primary working directory: {PROJECT}" in text_of(req, leaf) for leaf in env)


def test_skill_advertised_and_loaded(captured):
    _, req, root = captured
    skill = one(root, "Skills", "corpus-notes")
    assert sorted(leaf.kind for leaf in skill.children) == ["skill", "skill_body"]
    body = next(leaf for leaf in skill.children if leaf.kind == "skill_body")
    assert "one bullet per date" in text_of(req, body)


def test_deferred_tools_notice_under_system_tools(captured):
    name, req, root = captured
    if not any(t.get("defer_loading") for t in req["tools"]):
        pytest.skip("tool search off: nothing deferred")
    deferred = one(root, "System tools", "Deferred tools")
    names = {leaf.label for leaf in deferred.children}
    assert "mcp__corpus__list_topics" in names and "WebFetch" in names
    notice = next(leaf for leaf in deferred.children if leaf.label == "notice")
    assert "ToolSearch" in text_of(req, notice)


def test_custom_agent_apart_from_the_built_in_ones(captured):
    name, req, root = captured
    listed = [leaf for leaf in leaves(root) if leaf.kind == "agent"]
    if not listed:
        pytest.skip("this release lists agents in the Agent tool's description")
    custom = one(root, "Custom agents")
    assert [leaf.label for leaf in custom.children] == ["reviewer"]
    builtin = {leaf.label for leaf in one(root, "System tools", "Built-in agents").children}
    assert {"claude", "Explore", "general-purpose", "Plan", "statusline-setup"} <= builtin


def test_harness_text_is_never_a_user_turn(captured):
    _, req, root = captured
    user = by_source(root, "user")
    assert [leaf.label for leaf in user] == ["Turn 1"]
    assert text_of(req, user[0]).startswith("When does the release train leave?")
    if any(b.get("name") == "ToolSearch" for b in req["tools"]):
        assert [leaf.label for leaf in by_source(root, "harness")] == ["Tool loaded."]


def test_nothing_sent_is_unknown_but_the_unweighed_fields(captured):
    _, req, root = captured
    unknown = [leaf for leaf in leaves(root) if leaf.kind == "unknown"]
    assert {leaf.meta["source"] for leaf in unknown} <= {"unknown:field"}
    assert {leaf.label for leaf in unknown} <= {"diagnostics"}
    assert all(n.kind != "unknown" or not n.children for n in walk(root))
