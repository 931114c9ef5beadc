"""Each kind of content lands under the source it came from."""

from __future__ import annotations

from inspector.attribution import attribute
from inspector.demo.traffic_text import BUILTIN_TOOLS, MCP_SERVERS

from .fixtures import PLAIN, hand_built, turn
from .helpers import by_source, compact, find, leaves, resolve

TOP = ["System prompt", "System tools", "MCP tools", "Custom agents", "Memory files", "Skills", "Messages"]


def test_first_turn_top_categories_in_context_order():
    req, _, _ = turn(1)
    root = attribute(req)
    assert [c.label for c in root.children] == TOP
    assert root.kind == "prompt" and all(c.kind == "category" for c in root.children)


def test_system_blocks_labelled_by_what_they_are():
    req, _, _ = turn(1)
    root = attribute(req)
    system = find(root, "System prompt")
    sources = {leaf.meta["source"] for leaf in leaves(system)}
    assert {"system:billing", "system:identity", "system:instructions", "system:environment",
            "system:git_status"} <= sources
    env = by_source(root, "system:environment")[0]
    base, _, sl = env.path.partition("#")
    a, b = map(int, sl.split(":"))
    assert resolve(req, base)["text"][a:b].startswith("# Environment")
    git = by_source(root, "system:git_status")[0]
    a, b = map(int, git.path.split("#")[1].split(":"))
    assert resolve(req, "/system/2")["text"][a:b].startswith("gitStatus:")


def test_output_style_and_appended_prompt():
    root = attribute(hand_built())
    assert by_source(root, "system:output_style")[0].label.startswith("Output style")
    appended = by_source(root, "system:appended")
    assert [leaf.path for leaf in appended] == ["/system/3"]


def test_builtin_tools_one_by_one_with_real_sizes():
    req, _, _ = turn(1)
    tools = find(attribute(req), "System tools")
    sizes = {leaf.label: leaf.chars for leaf in tools.children if leaf.kind == "tool"}
    expected = {t["name"]: len(compact(t)) for t in req["tools"]
                if not t["name"].startswith("mcp__") and t["name"] != "Skill"}
    assert sizes == expected
    assert len(sizes) == len(BUILTIN_TOOLS) - 1
    assert sizes["Bash"] > 20_000 and len(set(sizes.values())) > 10  # never an even spread
    assert all(leaf.meta["source"] == f"tool:{leaf.label}" for leaf in tools.children if leaf.kind == "tool")


def test_mcp_servers_hold_their_tools_instructions_and_results():
    req, _, _ = turn(4)
    root = attribute(req)
    mcp = find(root, "MCP tools")
    servers = {s.label: s for s in mcp.children}
    assert set(servers) == set(MCP_SERVERS)
    for name, server in servers.items():
        assert server.kind == "mcp_server"
        assert server.meta["tool_count"] == len(MCP_SERVERS[name])
        assert all(leaf.meta["source"] == f"mcp:{name}" for leaf in server.children)
    kinds = {leaf.kind for leaf in servers["github"].children}
    assert kinds == {"mcp_tool", "mcp_instructions"}  # instructions from the system prompt
    assert "mcp_instructions" not in {leaf.kind for leaf in servers["postgres"].children}
    # results of the github call: under Messages > Tool results > github (MCP), same source
    results = find(root, "github (MCP)")
    assert [leaf.label for leaf in results.children] == ["search_issues"]
    assert results.children[0].meta["source"] == "mcp:github"
    assert results.children[0].path.startswith("/messages/")
    assert find(root, "postgres (MCP)").children[0].meta["source"] == "mcp:postgres"


def test_builtin_tool_results_grouped_by_tool_via_tool_use_id():
    req, _, _ = turn(3)
    root = attribute(req)
    results = find(root, "Tool results")
    groups = {g.label for g in results.children}
    assert {"Grep", "Read", "docs (MCP)", "postgres (MCP)"} == groups
    read = find(results, "Read").children[0]
    assert read.meta["source"] == "tool_result:Read"
    assert read.label.endswith("src/shop/auth/session.py")
    assert resolve(req, read.path)["type"] == "tool_result"


def test_memory_files_one_per_path():
    req, _, _ = turn(1)
    root = attribute(req)
    memory = find(root, "Memory files")
    paths = [leaf.label for leaf in memory.children if leaf.meta["source"] != "memory"]
    assert paths == ["/home/dev/.claude/CLAUDE.md", "/home/dev/projects/shopfront/CLAUDE.md"]
    project = memory.children[-1]
    a, b = map(int, project.path.split("#")[1].split(":"))
    text = resolve(req, project.path)["text"][a:b]
    # the file's own "# Architecture notes" heading stays inside its memory leaf
    assert text.startswith("Contents of /home/dev/projects/shopfront/CLAUDE.md") and "# Architecture notes" in text
    assert by_source(root, "reminder:currentdate")


def test_skill_advertised_called_and_loaded():
    req, _, _ = turn(6)
    root = attribute(req)
    skills = find(root, "Skills")
    release = find(skills, "release-notes")
    kinds = sorted(leaf.kind for leaf in release.children)
    assert kinds == ["skill", "skill_body"]
    body = next(leaf for leaf in release.children if leaf.kind == "skill_body")
    assert resolve(req, body.path)["text"].startswith("Base directory for this skill:")
    assert all(leaf.meta["source"] == "skill:release-notes" for leaf in release.children)
    assert by_source(root, "skills")  # the launcher and the list header
    assert find(find(root, "Tool results"), "Skill").children[0].meta["source"] == "tool_result:Skill"
    # before the call, only the advertisement
    early = find(attribute(turn(2)[0]), "release-notes")
    assert [leaf.kind for leaf in early.children] == ["skill"]


def test_agents_user_words_history_reminders_images():
    req, _, _ = turn(5)
    root = attribute(req)
    agents = find(root, "Custom agents")
    assert {leaf.label for leaf in agents.children} == {"code-reviewer", "db-migrator"}
    assert all(leaf.meta["source"] == "agents" for leaf in agents.children)
    builtin = find(find(root, "System tools"), "Built-in agents")
    assert "general-purpose" in {leaf.label for leaf in builtin.children}
    user = by_source(root, "user")
    assert [leaf.label for leaf in user] == ["Turn 1"]
    assert resolve(req, user[0].path)["text"].startswith("The login endpoint")
    history = find(root, "Assistant history")
    assert {leaf.kind for leaf in history.children} == {"thinking", "assistant_text", "tool_call"}
    assert by_source(root, "reminder:todo")
    image = by_source(root, "image")[0]
    assert 50 < image.tokens < 120  # 320x180 px -> ~77 tokens, not its base64 length / 4


def test_tool_search_loads_deferred_schema_under_its_server():
    root = attribute(hand_built())
    linear = find(find(root, "MCP tools"), "linear")
    kinds = sorted(leaf.kind for leaf in linear.children)
    assert kinds == ["mcp_instructions", "mcp_tool", "mcp_tool_loaded"]
    deferred = next(leaf for leaf in linear.children if leaf.kind == "mcp_tool")
    loaded = next(leaf for leaf in linear.children if leaf.kind == "mcp_tool_loaded")
    assert deferred.meta["deferred"] is True
    # the reference is short but weighs the whole schema it loads; the deferred definition does not
    assert loaded.chars < 80 and loaded.tokens > 100 > deferred.tokens
    assert find(root, "linear (MCP)").children[0].label == "create_ticket"
    assert find(root, "unknown tool").children[0].meta["source"] == "tool_result:unknown tool"
    hook = [leaf for leaf in leaves(root) if leaf.meta["source"] == "hook:other"]
    assert hook and by_source(root, "user")[0].label == "Turn 1"
    assert by_source(root, "document")


def test_plain_sdk_request_gets_the_same_tree_smaller():
    root = attribute(PLAIN)
    assert [c.label for c in root.children] == ["System prompt", "Messages"]
    assert [leaf.label for leaf in by_source(root, "user")] == ["Turn 1", "Turn 2"]
    assert by_source(root, "system:instructions")[0].path == "/system"
    assert by_source(root, "history:assistant")[0].path == "/messages/1/content"


def test_thinking_before_the_current_tool_loop_weighs_nothing():
    from inspector.demo.traffic import demo_session

    last = demo_session(seed=3, turns=8)[-1].request
    loop_start = max(i for i, m in enumerate(last["messages"]) if m["role"] == "user"
                     and not any(b.get("type") == "tool_result" for b in m["content"]))
    assert loop_start > 0
    thinking = [leaf for leaf in leaves(attribute(last)) if leaf.kind == "thinking"]
    old = [leaf for leaf in thinking if int(leaf.path.split("/")[2]) < loop_start]
    new = [leaf for leaf in thinking if int(leaf.path.split("/")[2]) > loop_start]
    assert old and new
    assert all(leaf.meta.get("stripped") and leaf.tokens == 0 for leaf in old)
    assert all(leaf.tokens > 0 for leaf in new)
    kept = [leaf for leaf in leaves(attribute({**last, "model": "claude-opus-4-5-20251101"}))
            if leaf.kind == "thinking"]
    assert all(leaf.tokens > 0 for leaf in kept)


def test_compaction_summary_and_slash_commands_are_not_the_users_words():
    req = {"model": "claude-sonnet-4-5", "messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "This session is being continued from a previous conversation that ran "
                                     "out of context. Summary: fixed the login bug."},
            {"type": "text", "text": "<command-message>review is running</command-message>\n"
                                     "<command-name>/review</command-name>"},
            {"type": "text", "text": "and check the tests too"}]}]}
    root = attribute(req)
    assert [leaf.meta["source"] for leaf in leaves(root)] == ["history:summary", "command", "user"]
    assert find(root, "Slash commands").children[0].kind == "command"


def test_server_side_tool_search_result_loads_schemas_under_their_server():
    req = hand_built()
    req["messages"][1]["content"] = [{"type": "server_tool_use", "id": "srv1", "name": "tool_search_tool_regex",
                                      "input": {"query": "linear"}}]
    req["messages"][1]["content"].append({"type": "tool_search_tool_result", "tool_use_id": "srv1", "content": {
        "type": "tool_search_tool_search_result",
        "tool_references": [{"type": "tool_reference", "tool_name": "mcp__linear__create_ticket"}, 5]}})
    root = attribute(req)
    loaded = [leaf for leaf in leaves(root) if leaf.kind == "mcp_tool_loaded"]
    assert len(loaded) == 2  # the client-side search of the fixture and this one
    assert [leaf.path for leaf in loaded] == ["/messages/1/content/1/content/tool_references/0",
                                              "/messages/2/content/0/content/0"]
    assert find(root, "tool search").children[0].meta["source"] == "tool_result:tool_search"
    from .helpers import content_size
    assert sum(leaf.chars for leaf in leaves(root)) == content_size(req)


def test_turns_count_what_the_user_typed_not_tool_round_trips():
    from inspector.demo.traffic import demo_session

    last = demo_session(seed=3, turns=9)[-1].request
    user = by_source(attribute(last), "user")
    assert [leaf.label for leaf in user] == ["Turn 1", "Turn 2", "Turn 3"]
