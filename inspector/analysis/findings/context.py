"""Findings about what a session's context carries: tools never called, injected text,
large or repeated tool results, compactions, truncated listings, and what removing a
source would save. Each works on one session's turns (threaded, oldest first).

Token and dollar figures come from the stored attribution trees: each leaf's tokens are
its share of the request's exact prompt, and its `cost_usd` its share of what the prompt
cost, cached leaves at the cache-read price and the rest at the input or cache-write
price. Summed over a session's requests, a source's cost is what it really cost there.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from inspector.analysis.findings.model import Finding
from inspector.analysis.findings.threads import Turn
from inspector.model import Node

#: a tool result at least this large is reported (Claude Code warns about MCP output
#: past the same size)
LARGE_RESULT_TOKENS = 10_000
#: what_if findings per session: the sources that cost most
WHAT_IF_TOP = 8
SUMMARY_PREFIX = "This session is being continued from a previous conversation"
_COMPACT_ASK = re.compile(r"create a detailed summary of the conversation", re.I)
_SKILLS_HEAD = re.compile(r"^.*\bskills?\b.*\bavailable\b.*$|^.*\bavailable skills\b.*$",
                          re.M | re.I)
_SKILL_ITEM = re.compile(r"^- ([^:\n]{1,80})(?::[ \t]*(.*))?$", re.M)
_SKILLS_DROPPED = re.compile(r"\b(\d+)\s+(?:more|other|additional)\s+skills?\b"
                             r"|\bskills?\s+(?:omitted|not shown|truncated)\b", re.I)
#: sources a user cannot remove: their own words, the conversation, results of work done
_KEPT = ("user", "history:", "command", "tool_result:", "image", "document", "other")


def _leaves(turn: Turn) -> list[Node]:
    """The turn's attribution leaves, walked once (every detector asks for them)."""
    found = turn.__dict__.get("_leaves")
    if found is None:
        found = []
        if turn.tree is not None and turn.tree.children:
            stack = [turn.tree]
            while stack:  # depth first, in order, as Node.leaves (not a generator a level)
                node = stack.pop()
                if node.children:
                    stack.extend(reversed(node.children))
                else:
                    found.append(node)
        turn.__dict__["_leaves"] = found
    return found


def _cost(leaf: Node) -> float | None:
    c = leaf.meta.get("cost_usd")
    return c if isinstance(c, (int, float)) else None


def _add(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else a + b


def _conversation(turns: list[Turn]) -> list[Turn]:
    return [t for t in turns if t.side_call is None]


# -- unused tools -------------------------------------------------------------------------

def unused_tools(turns: list[Turn]) -> Iterator[Finding]:
    """Tools (or whole MCP servers) offered on every request of the main conversation and
    never called anywhere in the session."""
    main = [t for t in turns if t.side_call is None and t.agent_id is None]
    if len(main) < 2:
        return
    offered: set[str] | None = None
    deferred: set[str] = set()
    for t in main:
        names = set()
        for tool in t.body.get("tools") or []:
            if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                names.add(tool["name"])
                if tool.get("defer_loading") is True:
                    deferred.add(tool["name"])
        offered = names if offered is None else offered & names
    called = {c.get("name") for t in turns for c in t.calls}
    unused = (offered or set()) - called - deferred
    if not unused:
        return
    sums: dict[str, list] = {}  # tool name -> [tokens, cost, source]
    servers: dict[str, list] = {}  # server -> [tokens, cost] of its instructions
    for t in main:
        for leaf in _leaves(t):
            name = leaf.meta.get("tool")
            source = leaf.meta.get("source") or leaf.kind
            if leaf.kind in ("tool", "mcp_tool") and name in unused:
                entry = sums.setdefault(name, [0, None, source])
                entry[0] += leaf.tokens
                entry[1] = _add(entry[1], _cost(leaf))
            elif leaf.kind == "mcp_instructions":
                entry = servers.setdefault(source, [0, None])
                entry[0] += leaf.tokens
                entry[1] = _add(entry[1], _cost(leaf))
    session = main[0].session_id
    # One finding per group, not per tool: each MCP server, and the built-in tools together
    # (a session that never edits notebooks or plans would otherwise list a dozen rows).
    groups: dict[str, list[str]] = {}
    for name in offered or ():
        server = ("mcp:" + name[5:].partition("__")[0]) if name.startswith("mcp__") else BUILTIN
        groups.setdefault(server, []).append(name)
    for group, names in sorted(groups.items()):
        idle = sorted((t for t in names if t in unused),
                      key=lambda t: (-sums.get(t, [0])[0], t))
        if not idle:
            continue
        tokens = sum(sums.get(t, [0])[0] for t in idle)
        cost = None
        for t in idle:
            cost = _add(cost, sums.get(t, [0, None])[1])
        if len(idle) == len(names) and group != BUILTIN:
            # the whole server is unused: its instructions go with it
            tokens += servers.get(group, [0])[0]
            cost = _add(cost, servers.get(group, [0, None])[1])
            what = f"{len(idle)} tools never called"
        elif group == BUILTIN:
            what = f"{len(idle)} of {len(names)} built-in tools never called"
        else:
            what = f"{len(idle)} of {len(names)} tools never called"
        yield Finding("unused_tool", None, session, group, tokens, _round(cost),
                      f"{what}, offered on all {len(main)} requests: {_ranked(idle, sums)}")


#: the source of the finding about unused built-in tools
BUILTIN = "tools:built-in"


def _ranked(names: list[str], sums: dict[str, list], shown: int = 4) -> str:
    """`Agent 12.7k, TodoWrite 12.0k, +9 more`: the costliest tools first."""
    def short(name: str) -> str:
        return name.split("__")[-1] if name.startswith("mcp__") else name
    parts = [f"{short(n)} {_k(sums.get(n, [0])[0])}" for n in names[:shown]]
    if len(names) > shown:
        parts.append(f"+{len(names) - shown} more")
    return ", ".join(parts)


def _k(tokens: int) -> str:
    return f"{tokens / 1000:.1f}k" if tokens >= 1000 else str(tokens)


# -- injections ---------------------------------------------------------------------------

def injections(turns: list[Turn]) -> Iterator[Finding]:
    """A ledger of system reminders by kind: how many were injected, and the tokens and
    dollars they took over the session's requests (each is re-sent on every later turn)."""
    ledger: dict[str, list] = {}  # source -> [occurrences, tokens, cost, requests]
    for t in _conversation(turns):
        seen_here = set()
        for leaf in _leaves(t):
            source = leaf.meta.get("source") or ""
            if not source.startswith("reminder:"):
                continue
            entry = ledger.setdefault(source, [set(), 0, None, 0])
            entry[0].add((t.agent_id, leaf.path.partition("#")[0]))
            entry[1] += leaf.tokens
            entry[2] = _add(entry[2], _cost(leaf))
            if source not in seen_here:
                seen_here.add(source)
                entry[3] += 1
    session = turns[0].session_id if turns else None
    for source, (found, tokens, cost, requests) in ledger.items():
        yield Finding("injection", None, session, source, tokens, _round(cost),
                      f"{len(found)} injected, carried on {requests} requests")


# -- tool results -------------------------------------------------------------------------

def result_paths(body: dict[str, Any]) -> dict[str, str]:
    """Every tool result the request carries: tool_use id -> where its first copy is."""
    out: dict[str, str] = {}
    for k, msg in enumerate(body.get("messages") or []):
        content = msg.get("content") if isinstance(msg, dict) else None
        if not isinstance(content, list):
            continue
        for m, block in enumerate(content):
            if isinstance(block, dict) and block.get("type") == "tool_result" \
                    and isinstance(block.get("tool_use_id"), str):
                out.setdefault(block["tool_use_id"], f"/messages/{k}/content/{m}")
    return out


def tokens_at(turn: Turn, path: str) -> int:
    """Tokens of the turn's attribution leaves at or under `path`."""
    return sum(leaf.tokens for leaf in _leaves(turn)
               if leaf.path == path or leaf.path.startswith(path + "/"))


def _result_prefix(path: str) -> str:
    """"/messages/3/content/1" of a leaf at or under that tool result's block."""
    parts = path.split("/", 5)
    return "/".join(parts[:5])


def carried_results(turns: list[Turn]) -> dict[str, list[Any]]:
    """Every tool result the turns carry: tool_use id -> [first turn holding it, its
    tokens there, its source, its cost summed over every turn carrying it, turns carrying
    it]. One pass over the turns and their leaves (asked per result, this was a pass over
    every turn for each call: quadratic in a long session)."""
    out: dict[str, list[Any]] = {}
    for t in turns:
        paths = result_paths(t.body)
        if not paths:
            continue
        wanted = set(paths.values())
        under: dict[str, list[Node]] = {}
        for leaf in _leaves(t):
            prefix = _result_prefix(leaf.path)
            if prefix in wanted:
                under.setdefault(prefix, []).append(leaf)
        for use_id, path in paths.items():
            here = under.get(path, [])
            cost = None
            for leaf in here:
                cost = _add(cost, _cost(leaf))
            entry = out.get(use_id)
            if entry is None:
                out[use_id] = [t, sum(leaf.tokens for leaf in here),
                               here[0].meta.get("source") if here else None, cost, 1]
            else:
                entry[3] = _add(entry[3], cost)
                entry[4] += 1
    return out


def _calls_in_order(turns: list[Turn]) -> list[tuple[Turn, dict[str, Any]]]:
    seen, out = set(), []
    for t in turns:
        for call in t.calls:
            cid = call.get("id")
            if isinstance(cid, str) and cid not in seen:
                seen.add(cid)
                out.append((t, call))
    return out


def result_ledger(turns: list[Turn]) -> dict[str, list[Any]]:
    """`carried_results` of the session's conversation (side calls left out): what both
    detectors of tool results read, made once per session by `find_in_turns`."""
    return carried_results(_conversation(turns))


def large_tool_results(turns: list[Turn], limit: int = LARGE_RESULT_TOKENS,
                       ledger: dict[str, list[Any]] | None = None) -> Iterator[Finding]:
    conv = _conversation(turns)
    ledger = carried_results(conv) if ledger is None else ledger
    for _, call in _calls_in_order(conv):
        carried = ledger.get(call["id"])
        if carried is None or carried[1] < limit:
            continue
        first, tokens, source, cost, n = carried
        yield Finding("large_tool_result", first.id, first.session_id,
                      source or f"tool_result:{call.get('name')}", tokens, _round(cost),
                      f"{call.get('name')} result of {tokens:,} tokens, carried on {n} requests")


def repeated_reads(turns: list[Turn],
                   ledger: dict[str, list[Any]] | None = None) -> Iterator[Finding]:
    """The same file read again in a session: the later reads' results."""
    conv = _conversation(turns)
    reads: dict[str, list[dict[str, Any]]] = {}
    for _, call in _calls_in_order(conv):
        path = (call.get("input") or {}).get("file_path") if isinstance(
            call.get("input"), dict) else None
        if call.get("name") == "Read" and isinstance(path, str):
            reads.setdefault(path, []).append(call)
    if ledger is None:
        ledger = carried_results(conv) if reads else {}
    for path, calls in reads.items():
        for n, call in enumerate(calls[1:], start=2):
            carried = ledger.get(call["id"])
            if carried is None:
                continue
            first, tokens, source, cost, _ = carried
            yield Finding("repeated_read", first.id, first.session_id,
                          source or "tool_result:Read", tokens, _round(cost),
                          f"{path} read {n} times in this session")


# -- compaction ---------------------------------------------------------------------------

def _user_texts(body: dict[str, Any], last: bool) -> str:
    messages = [m for m in body.get("messages") or []
                if isinstance(m, dict) and m.get("role") == "user"]
    if not messages:
        return ""
    content = messages[-1 if last else 0].get("content")
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content or []
                     if isinstance(b, dict) and isinstance(b.get("text"), str))


def asks_summary(body: dict[str, Any]) -> bool:
    """The request asks for a summary of the conversation (a compaction starts)."""
    return bool(_COMPACT_ASK.search(_user_texts(body, last=True)))


def opens_with_summary(body: dict[str, Any]) -> bool:
    """The request's history opens with the summary of a compacted conversation."""
    return _user_texts(body, False).lstrip().startswith(SUMMARY_PREFIX)


def compactions(turns: list[Turn]) -> Iterator[Finding]:
    """The request that asked for a summary, and the first request after it, whose
    history the summary replaced: what it dropped."""
    chains: dict[Any, list[Turn]] = {}
    for t in _conversation(turns):
        chains.setdefault(t.agent_id, []).append(t)
    for chain in chains.values():
        for before, after in zip([None, *chain], chain):
            if asks_summary(after.body):
                yield Finding("compaction", after.id, after.session_id, "compaction",
                              after.usage.prompt_tokens or 0, after.cost_usd,
                              "the conversation so far was sent to be summarised")
            if before is None or not opens_with_summary(after.body) \
                    or opens_with_summary(before.body):
                continue
            was, now = before.usage.prompt_tokens or 0, after.usage.prompt_tokens or 0
            n = len(before.body.get("messages") or [])
            yield Finding("compaction", after.id, after.session_id, "history:summary",
                          max(was - now, 0), None,
                          f"{n} messages ({was:,} tokens) replaced by a summary; "
                          f"the prompt is now {now:,} tokens")


# -- truncation ---------------------------------------------------------------------------

def _texts(body: dict[str, Any]) -> Iterator[str]:
    for msg in body.get("messages") or []:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            yield content
        elif isinstance(content, list):
            yield from (b["text"] for b in content if isinstance(b, dict)
                        and isinstance(b.get("text"), str))
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("name") == "Skill":
            yield str(tool.get("description") or "")


def truncations(turns: list[Turn]) -> Iterator[Finding]:
    """Skills listed without their description or left out of the listing, and deferred
    tools that were called but whose schema never came."""
    conv = _conversation(turns)
    if not conv:
        return
    last = conv[-1]
    bare, dropped = skills_cut(last.body)
    if bare or dropped:
        parts = []
        if bare:
            parts.append(f"{len(bare)} skills listed without a description "
                         f"({', '.join(bare[:5])}{', ...' if len(bare) > 5 else ''})")
        if dropped:
            parts.append(f"{dropped} skills left out of the listing")
        yield Finding("truncation", last.id, last.session_id, "skills", 0, None,
                      "; ".join(parts))
    deferred: dict[str, str] = {}
    for t in conv:
        deferred.update(deferred_tools(t.body))
    if not deferred:
        return
    loaded: set[str] = set()
    for t in conv:
        _references(t.body.get("messages"), loaded)
    for t, call in _calls_in_order(conv):
        name = call.get("name")
        if name in deferred and name not in loaded:
            loaded.add(name)  # once per tool
            yield Finding("truncation", t.id, t.session_id, deferred[name], 0, None,
                          f"deferred tool {name} was called but its schema never came")


def skills_cut(body: dict[str, Any]) -> tuple[list[str], int]:
    """Skills the request lists without a description, and how many it says it left out."""
    bare, dropped = [], 0
    for text in _texts(body):
        head = _SKILLS_HEAD.search(text)
        if head is None:
            continue
        section = text[head.end():]
        bare += [m.group(1).strip() for m in _SKILL_ITEM.finditer(section)
                 if not (m.group(2) or "").strip()]
        for m in _SKILLS_DROPPED.finditer(section):
            dropped += int(m.group(1)) if m.group(1) else 1
    return bare, dropped


def deferred_tools(body: dict[str, Any]) -> dict[str, str]:
    """Tools the request offers with `defer_loading`: name -> source."""
    out: dict[str, str] = {}
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("defer_loading") is True:
            name = str(tool.get("name"))
            out[name] = (f"mcp:{name[5:].partition('__')[0]}"
                         if name.startswith("mcp__") else f"tool:{name}")
    return out


def references(messages: Any) -> set[str]:
    """Tool names loaded by `tool_reference` items anywhere in `messages`."""
    into: set[str] = set()
    _references(messages, into)
    return into


def _references(value: Any, into: set[str]) -> None:
    """Tool names loaded by `tool_reference` items anywhere in `value`."""
    if isinstance(value, dict):
        if value.get("type") == "tool_reference" and isinstance(value.get("tool_name"), str):
            into.add(value["tool_name"])
        for v in value.values():
            if isinstance(v, (dict, list)):
                _references(v, into)
    elif isinstance(value, list):
        for v in value:
            _references(v, into)


# -- what if ------------------------------------------------------------------------------

def what_if(turns: list[Turn], top: int = WHAT_IF_TOP) -> Iterator[Finding]:
    """Per removable source: tokens it adds per request (on average over the requests
    carrying it) and what it cost over the session, at the session's real cache reads
    and writes."""
    if not turns or turns[0].session_id is None:
        return  # requests without a session are no session to improve
    sums: dict[str, list] = {}  # source -> [tokens, cost, requests]
    for t in turns:
        here: set[str] = set()
        for leaf in _leaves(t):
            source = leaf.meta.get("source") or leaf.kind
            if source.startswith(_KEPT) or source in _KEPT:
                continue
            entry = sums.setdefault(source, [0, None, 0])
            entry[0] += leaf.tokens
            entry[1] = _add(entry[1], _cost(leaf))
            if source not in here:
                here.add(source)
                entry[2] += 1
    session = turns[0].session_id if turns else None
    ranked = sorted(sums.items(), key=lambda kv: (-(kv[1][1] or 0), -kv[1][0], kv[0]))
    for source, (tokens, cost, n) in ranked[:top]:
        per_turn = round(tokens / n) if n else 0
        yield Finding("what_if", None, session, source, per_turn, _round(cost),
                      f"removing it saves {per_turn:,} tokens per request over {n} requests")


def _round(cost: float | None) -> float | None:
    return None if cost is None else round(cost, 6)
