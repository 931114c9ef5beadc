"""Sections of system-role messages and reminders: known ones by their first line, the
rest as their own `unknown` nodes, never inside a neighbour."""

from __future__ import annotations

from inspector.attribution import attribute
from inspector.attribution.sections import split

from .helpers import by_source, content_size, leaves

SYSTEM_MESSAGE = (
    "PostToolUse:Edit hook additional context: formatted 2 files\n\n"
    "# Environment\nYou have been invoked in the following environment: \n - Platform: linux\n\n"
    "The following deferred tools are now available via ToolSearch. Load them first:\n"
    "WebFetch\nmcp__jira__create\nCall ToolSearch first.\n\n"
    "These MCP servers are still connecting: jira\n\n"
    "Quantum flux notice: the harness grew a new section today.\nIt has two lines.\n\n"
    "Available agent types for the Agent tool:\n- Explore: searches.\n- janitor: cleans up.\n\n"
    "Sparkle mode reminder: another new section.\n\n"
    "# MCP Server Instructions\n\nServers said:\n\n## jira\nUse project KEY.\n## Usage\nBe brief.\n\n"
    "The following skills are available for use with the Skill tool:\n\n- pdf: reads PDFs.\n"
)


def request(text: str) -> dict:
    return {"model": "claude-sonnet-4-5",
            "tools": [{"name": "mcp__jira__create", "description": "x", "input_schema": {}}],
            "messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": text}]}


def test_segments_tile_the_text_and_unknown_sections_stand_alone():
    segs = split(SYSTEM_MESSAGE, 0, len(SYSTEM_MESSAGE), frozenset({"jira"}))
    assert segs[0].start == 0 and segs[-1].end == len(SYSTEM_MESSAGE)
    assert all(a.end == b.start for a, b in zip(segs, segs[1:]))
    unknown = [s for s in segs if s.kind == "unknown"]
    assert [s.label for s in unknown] == ["Quantum flux notice: the harness grew a new section today.",
                                          "Sparkle mode reminder: another new section."]
    flux = SYSTEM_MESSAGE[unknown[0].start:unknown[0].end]
    assert flux.startswith("Quantum flux") and "Available agent" not in flux and "jira" not in flux


def test_each_section_in_the_node_a_user_looks_for():
    req = request(SYSTEM_MESSAGE)
    root = attribute(req)
    assert sum(leaf.chars for leaf in leaves(root)) == content_size(req)
    assert by_source(root, "hook:PostToolUse")[0].label == "PostToolUse:Edit"
    assert by_source(root, "system:environment")
    deferred = {leaf.label for leaf in by_source(root, "tool:deferred")}
    assert deferred == {"notice", "WebFetch", "mcp__jira__create", "guidance"}
    jira = next(c for c in next(c for c in root.children if c.label == "MCP tools").children
                if c.label == "jira")
    kinds = {leaf.label: leaf.kind for leaf in jira.children}
    assert kinds["connecting"] == "mcp_connecting" and kinds["instructions"] == "mcp_instructions"
    # "## Usage" is not a server: it stays in jira's instructions
    instructions = next(leaf for leaf in jira.children if leaf.label == "instructions")
    assert instructions.chars == len("## jira\nUse project KEY.\n## Usage\nBe brief.\n\n")
    assert [leaf.label for leaf in by_source(root, "agents")] == ["janitor"]
    assert "Explore" in {leaf.label for leaf in by_source(root, "agents:builtin")}
    assert root.meta["unknown"] == {"unknown:section": 2}


def test_an_unknown_reminder_is_counted_and_named_by_its_first_line():
    req = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "<system-reminder>\nHolographic context v9: 12 items\nmore\n</system-reminder>"},
        {"type": "text", "text": "Tool loaded."},
        {"type": "text", "text": "fix it"}]}], "diagnostics": {"x": 1}}
    root = attribute(req)
    [unknown] = by_source(root, "unknown:reminder")
    assert unknown.kind == "unknown" and unknown.label == "Holographic context v9: 12 items"
    assert [leaf.label for leaf in by_source(root, "user")] == ["Turn 1"]
    assert by_source(root, "harness")[0].label == "Tool loaded."
    assert root.meta["unknown"] == {"unknown:reminder": 1, "unknown:field": 1}


def test_memory_file_headings_stay_in_the_file():
    text = ("<system-reminder>\nContents of /r/CLAUDE.md (project instructions):\n\n# Environment\n"
            "Use staging.\n## notes\nToday's date is a file line too.\n# Output Style: mine\n</system-reminder>")
    root = attribute({"messages": [{"role": "user", "content": text}]})
    [memory] = by_source(root, "memory:/r/CLAUDE.md")
    assert memory.chars == len(text)


def test_a_memory_file_ends_where_claude_code_starts_another_source():
    text = ("Contents of /r/CLAUDE.md (project instructions):\n\nUse staging.\n\n"
            "SessionStart:startup hook success: ok\n\n"
            "You have been invoked in the following environment: \n - Platform: linux\n")
    root = attribute({"messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": text}]})
    [memory] = by_source(root, "memory:/r/CLAUDE.md")
    assert memory.chars == len("Contents of /r/CLAUDE.md (project instructions):\n\nUse staging.\n\n")
    assert by_source(root, "hook:SessionStart") and by_source(root, "system:environment")
