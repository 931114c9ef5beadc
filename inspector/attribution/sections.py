"""Sections of the texts Claude Code injects: system-role messages and system reminders.

Claude Code moves its context sources around from release to release: the environment,
hook output, the output style, MCP server instructions, the deferred-tools notice, the
agent and skill lists sit in `<system-reminder>` spans of user turns in one release and in
`role: "system"` messages in the next, several of them joined in one text. So they are
recognised by the line that starts each of them, wherever it appears, and each becomes
its own segment.

A section runs to the start of the next recognised one, except for sections whose own
end is known (a list ends after its items, a notice after its paragraph): what follows
those, up to the next recognised section, is a section this module does not know. It
becomes its own `unknown` segment named by its first line, never part of a neighbour,
so a new Claude Code release shows up as drift instead of inflating a known source.

A memory file (`Contents of PATH (...)`) holds the user's own text, headings and all: only
lines no CLAUDE.md would hold end it (the next memory file, a reminder-style heading such
as `# currentDate`, a hook's output line, the deferred-tools or skill list header...).
"""

from __future__ import annotations

import re
from typing import Callable

from inspector.attribution.segment import (AGENTS, MCP, MEMORY, MESSAGES, OTHER, REMINDERS,
                                           SKILLS, SYSTEM, TOOLS, Segment)

HOOKS = "Hooks"
DEFERRED = "Deferred tools"
BUILTIN_AGENTS_GROUP = "Built-in agents"
#: Agents Claude Code ships; any other name in its agent list is the user's own.
BUILTIN_AGENTS = frozenset({"claude", "Explore", "general-purpose", "Plan", "statusline-setup",
                            "output-style-setup", "claude-code-guide", "fork"})
#: Texts the harness adds to a user turn that the user never typed.
HARNESS_TEXTS = frozenset({"Tool loaded.", "[Request interrupted by user]",
                           "[Request interrupted by user for tool use]", "No response requested."})

# How a section ends: at the next recognised section, after its paragraph, after its list.
NEXT, PARA, LIST = "next", "para", "list"

# (name, pattern at a line start, rule). Named groups carry the section's name.
_STARTERS: list[tuple[str, str, str]] = [
    ("memory", r"Contents of (?P<path>\S.*?)(?: \([^\n]*\))?:[ \t]*$", NEXT),
    ("memory_header", r"Codebase and user instructions are shown below", NEXT),
    ("h1id", r"# (?P<h1>[a-z][A-Za-z0-9_-]*)[ \t]*$", NEXT),
    ("hook", r"(?P<hook>(?P<event>[A-Z][A-Za-z]+)(?::[^\s:]*)?) hook [a-z ]{2,40}:", NEXT),
    ("env", r"# Environment\b", NEXT),
    ("env_phrase", r"You have been invoked in the following environment"
                   r"|Here is useful information about the environment", NEXT),
    ("git", r"gitStatus:|# gitStatus\b", NEXT),
    ("context", r"As you answer the user's questions, you can use the following context"
                r"|[ \t]*IMPORTANT: this context may or may not be relevant", PARA),
    ("style", r"# Output Style: (?P<style>.+)$", NEXT),
    ("style_note", r"(?P<style_active>[^\n]{1,60}) output style is active\.", PARA),
    ("deferred", r"The following deferred tools are now available", PARA),
    ("connecting", r"(?:These|Some) MCP servers (?:are )?still connecting:(?P<servers>[^\n]*)", PARA),
    ("agents", r"Available agent types|Agent types available", LIST),
    ("agents_note", r"When you launch multiple agents", PARA),
    ("mcp_header", r"# MCP Server Instructions", NEXT),
    ("mcp_server", r"## (?P<server>\S[^\n]*?)[ \t]*$", NEXT),
    ("skills", r"The following skills are available", LIST),
    ("mode", r"While (?P<mode>[^\n]{1,60}?) mode is active", NEXT),
    ("date", r"Today's date is \d{4}-\d\d-\d\d\.?[ \t]*$", PARA),
    ("attribution", r"Attribution for git commits", NEXT),
]
_STARTER_RE = re.compile("^(?:" + "|".join(f"(?P<k_{name}>{pat})" for name, pat, _ in _STARTERS) + ")",
                         re.M)
_RULES = {name: rule for name, _, rule in _STARTERS}
# Inside a memory file only lines no CLAUDE.md would hold end it ("# Environment" might).
_MEMORY_ENDS = {"memory", "memory_header", "h1id", "hook", "env_phrase", "git", "deferred",
                "connecting", "agents", "skills", "mcp_header", "style_note", "date", "attribution"}
_ITEM = re.compile(r"^- ([^:\n]{1,80}):", re.M)


def _kind_of(m: re.Match[str]) -> str:
    return next(name for name, _, _ in _STARTERS if m.group(f"k_{name}") is not None)


def _first_line(text: str, a: int, b: int) -> str:
    for line in text[a:b].splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= 80 else line[:77] + "..."
    return "(blank)"


def _own_end(text: str, a: int, b: int, rule: str) -> int:
    """Where a section starting at `a` (limit `b`) ends by its own shape."""
    if rule == PARA:
        cut = text.find("\n\n", a, b)
        return b if cut < 0 else cut + 2
    if rule == LIST:
        first = text.find("\n- ", a, b)
        if first < 0:
            return b
        pos = first + 1
        while True:
            cut = text.find("\n\n", pos, b)
            if cut < 0:
                return b
            nxt = cut + 2
            while nxt < b and text[nxt] == "\n":
                nxt += 1
            if not text.startswith("- ", nxt):
                return cut + 2
            pos = nxt
    return b


def split(text: str, start: int, end: int, servers: frozenset[str] = frozenset(),
          unknown_source: str = "unknown:section") -> list[Segment]:
    """Segments covering text[start:end] exactly, one per section.

    `servers` are the MCP server names the request's tools name: a `## name` heading in
    the MCP instructions section starts a server's part only when it is one of them (or
    when no server is known), so a heading inside a server's own text stays inside it.
    """
    starts: list[tuple[int, str, re.Match[str]]] = []
    state = None
    for m in _STARTER_RE.finditer(text, start, end):
        kind = _kind_of(m)
        if state == "memory" and kind not in _MEMORY_ENDS:
            continue
        if kind == "mcp_server":
            name = m.group("server")
            if state not in ("mcp_header", "mcp_server") or (servers and name not in servers):
                continue
        if kind == "h1id" and m.group("h1") not in _H1_KINDS:
            continue
        starts.append((m.start(), kind, m))
        state = kind if kind in ("memory", "mcp_header", "mcp_server") else None
    out: list[Segment] = []
    if not starts or starts[0][0] > start:
        first = starts[0][0] if starts else end
        out.append(_unknown(text, start, first, unknown_source))
    for i, (a, kind, m) in enumerate(starts):
        b = starts[i + 1][0] if i + 1 < len(starts) else end
        own = _own_end(text, a, b, _RULES[kind])
        if not text[own:b].strip():
            own = b
        out.extend(_PLACE[kind](text, a, own, m))
        if own < b:
            out.append(_unknown(text, own, b, unknown_source))
    return _merge_blank(out)


def _merge_blank(segments: list[Segment]) -> list[Segment]:
    """A whitespace-only piece joins the segment before it (or the one after, at the start)."""
    out: list[Segment] = []
    for seg in segments:
        if seg.end <= seg.start:
            continue
        if seg.kind == "unknown" and seg.label == "(blank)" and out:
            out[-1] = out[-1]._replace(end=seg.end)
            continue
        if out and out[-1].kind == "unknown" and out[-1].label == "(blank)":
            seg = seg._replace(start=out.pop().start)
        if out and out[-1][2:] == seg[2:] and seg.kind != "unknown":
            # two starters of one section ("# Environment", then its first line)
            out[-1] = out[-1]._replace(end=seg.end)
            continue
        out.append(seg)
    return out


def _unknown(text: str, a: int, b: int, source: str) -> Segment:
    group = "Unknown reminders" if source == "unknown:reminder" else "Unknown sections"
    return Segment(a, b, "unknown", _first_line(text, a, b), source, (OTHER, group))


def _seg(kind: str, label: str, source: str, groups: tuple[str, ...]) -> Placer:
    return lambda text, a, b, m: [Segment(a, b, kind, label, source, groups)]


def _memory(text: str, a: int, b: int, m: re.Match[str]) -> list[Segment]:
    path = m.group("path").strip()
    return [Segment(a, b, "memory", path, f"memory:{path}", (MEMORY,))]


def _h1id(text: str, a: int, b: int, m: re.Match[str]) -> list[Segment]:
    return _PLACE[_H1_KINDS[m.group("h1")]](text, a, b, m)


def _hook(text: str, a: int, b: int, m: re.Match[str]) -> list[Segment]:
    event = m.group("event")
    return [Segment(a, b, "hook", m.group("hook"), f"hook:{event}", (MESSAGES, HOOKS, event))]


def _style(text: str, a: int, b: int, m: re.Match[str]) -> list[Segment]:
    name = (m.group("style") or m.group("style_active") or "").strip()
    label = f"Output style: {name}" if m.group("style") else f"Output style: {name} (reminder)"
    return [Segment(a, b, "system_block", label, "system:output_style", (SYSTEM,))]


def _deferred(text: str, a: int, b: int, m: re.Match[str]) -> list[Segment]:
    """The notice's header, then one leaf per deferred tool name (one per line)."""
    group = (TOOLS, DEFERRED)
    line_end = text.find("\n", a, b)
    if line_end < 0:
        return [Segment(a, b, "deferred_tools", "notice", "tool:deferred", group)]
    out = [Segment(a, line_end + 1, "deferred_tools", "notice", "tool:deferred", group)]
    pos = line_end + 1
    while pos < b:
        nl = text.find("\n", pos, b)
        stop = b if nl < 0 else nl + 1
        name = text[pos:stop].strip()
        if name and " " not in name:
            out.append(Segment(pos, stop, "deferred_tool", name, "tool:deferred", group))
        elif out[-1].label in ("notice", "guidance") or not name:
            out[-1] = out[-1]._replace(end=stop)
        else:  # a sentence after the names: how to load them
            out.append(Segment(pos, stop, "deferred_tools", "guidance", "tool:deferred", group))
        pos = stop
    return out


def _connecting(text: str, a: int, b: int, m: re.Match[str]) -> list[Segment]:
    names = [n.strip(" .") for n in m.group("servers").split(",") if n.strip(" .")]
    if len(names) == 1:
        return [Segment(a, b, "mcp_connecting", "connecting", f"mcp:{names[0]}", (MCP, names[0]))]
    return [Segment(a, b, "mcp_connecting", "Servers still connecting", "mcp:connecting", (MCP,))]


def _list(text: str, a: int, b: int, header: tuple[str, str, str, tuple[str, ...]],
          item: Callable[[str], tuple[str, str, str, tuple[str, ...]]]) -> list[Segment]:
    out = []
    cuts = [(a, None)] + [(mm.start(), mm.group(1)) for mm in _ITEM.finditer(text, a, b)]
    for i, (x, name) in enumerate(cuts):
        y = cuts[i + 1][0] if i + 1 < len(cuts) else b
        if y <= x:
            continue
        kind, label, source, groups = header if name is None else item(name)
        out.append(Segment(x, y, kind, label, source, groups))
    return out


def _agent(name: str) -> tuple[str, str, str, tuple[str, ...]]:
    if name in BUILTIN_AGENTS:
        return ("agent", name, "agents:builtin", (TOOLS, BUILTIN_AGENTS_GROUP))
    return ("agent", name, "agents", (AGENTS,))


def _agents(text: str, a: int, b: int, m: re.Match[str]) -> list[Segment]:
    header = ("agent", "Agent list header", "agents:builtin", (TOOLS, BUILTIN_AGENTS_GROUP))
    return _list(text, a, b, header, _agent)


def _skills(text: str, a: int, b: int, m: re.Match[str]) -> list[Segment]:
    header = ("skill", "Skill list header", "skills", (SKILLS,))
    return _list(text, a, b, header, lambda n: ("skill", "advertised", f"skill:{n}", (SKILLS, n)))


def _mcp_server(text: str, a: int, b: int, m: re.Match[str]) -> list[Segment]:
    name = m.group("server")
    return [Segment(a, b, "mcp_instructions", "instructions", f"mcp:{name}", (MCP, name))]


def _mode(text: str, a: int, b: int, m: re.Match[str]) -> list[Segment]:
    return [Segment(a, b, "system_block", f"Mode: {m.group('mode')}", "system:mode", (SYSTEM,))]


Placer = Callable[[str, int, int, re.Match[str]], list[Segment]]
_REMINDER_GROUP = (MESSAGES, REMINDERS)
_PLACE: dict[str, Placer] = {
    "memory": _memory,
    "memory_header": _seg("memory", "Memory header", "memory", (MEMORY,)),
    "h1id": _h1id,
    "hook": _hook,
    "env": _seg("system_block", "Environment", "system:environment", (SYSTEM,)),
    "env_phrase": _seg("system_block", "Environment", "system:environment", (SYSTEM,)),
    "git": _seg("system_block", "Git status", "system:git_status", (SYSTEM,)),
    "context": _seg("reminder", "Context preamble", "reminder:context", _REMINDER_GROUP),
    "style": _style,
    "style_note": _style,
    "deferred": _deferred,
    "connecting": _connecting,
    "agents": _agents,
    "agents_note": _seg("agent", "Agent usage note", "agents:builtin", (TOOLS, BUILTIN_AGENTS_GROUP)),
    "mcp_header": _seg("system_block", "MCP instructions header", "system:mcp_header", (SYSTEM,)),
    "mcp_server": _mcp_server,
    "skills": _skills,
    "mode": _mode,
    "date": _seg("reminder", "Current date", "reminder:currentdate", _REMINDER_GROUP),
    "attribution": _seg("reminder", "Commit attribution", "reminder:attribution", _REMINDER_GROUP),
}
# Reminder-style headings of older releases ("# claudeMd", "# currentDate").
_H1_KINDS = {"claudeMd": "memory_header", "currentDate": "date", "gitStatus": "git"}
