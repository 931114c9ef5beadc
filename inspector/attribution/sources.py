"""Cutting the texts of a request into sources.

Each function takes one text and returns `Segment`s that cover it exactly, end to end
(no gap, no overlap), so every character lands in one leaf. A segment says what the text
is (`kind`, `label`), its grouping key for statistics (`source`) and where it sits in the
tree (`groups`: the labels from the top category down).

The shapes recognised are the ones Claude Code sends: a system prompt whose main block
carries `# Heading` sections (environment, output style, MCP server instructions with one
`## server` subsection each) and a `gitStatus:` section; user turns whose text holds
`<system-reminder>` spans (memory under `# claudeMd`, each CLAUDE.md introduced by a
`Contents of PATH (...)` line, todo state, hook output, ...); a system-role message listing
agent types and then the skills available to the Skill tool; skill bodies that begin with
the skill's base directory. Anything else is kept whole under a neutral label.
"""

from __future__ import annotations

import re
from typing import NamedTuple

SYSTEM = "System prompt"
TOOLS = "System tools"
MCP = "MCP tools"
AGENTS = "Custom agents"
MEMORY = "Memory files"
SKILLS = "Skills"
MESSAGES = "Messages"
OTHER = "other"
#: Top categories in display order (Claude Code's `/context` names, then ours).
CATEGORIES = (SYSTEM, TOOLS, MCP, AGENTS, MEMORY, SKILLS, MESSAGES, OTHER)

REMINDERS = "System reminders"
SKILL_BODY_PREFIX = "Base directory for this skill:"


class Segment(NamedTuple):
    start: int
    end: int
    kind: str
    label: str
    source: str
    groups: tuple[str, ...]


_H1 = re.compile(r"^(?:# +(.+)|(gitStatus):.*)$", re.M)
_H2 = re.compile(r"^## +(.+)$", re.M)
# Reminder sections are named like identifiers ("# claudeMd", "# currentDate"); a CLAUDE.md
# file's own "# Project notes" heading must not end the memory section.
_REMINDER_H1 = re.compile(r"^# ([a-z][A-Za-z0-9_-]*)\s*$", re.M)
_CONTENTS_OF = re.compile(r"^Contents of (.+?)(?: \(.*\))?:?\s*$", re.M)
_LIST_ITEM = re.compile(r"^- ([^:\n]{1,80}):", re.M)
_SKILLS_LINE = re.compile(r"^.*\bskills?\b.*\bavailable\b.*$|^.*\bavailable skills\b.*$", re.M | re.I)
_REMINDER_OPEN = "<system-reminder>"
_REMINDER_CLOSE = "</system-reminder>"


def _sections(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int, str | None]]:
    """(start, end, heading) pieces of text[start:end] split before each heading line;
    the first piece (heading None) is the preamble and may be empty."""
    cuts: list[tuple[int, str | None]] = [(start, None)]
    for m in pattern.finditer(text, start, end):
        heading = next((g for g in m.groups() if g), m.group(0)).strip()
        cuts.append((m.start(), heading))
    pieces = []
    for i, (a, heading) in enumerate(cuts):
        b = cuts[i + 1][0] if i + 1 < len(cuts) else end
        if b > a:
            pieces.append((a, b, heading))
    return pieces


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "other"


# --- system prompt ---------------------------------------------------------------------

def system_block(text: str, index: int, main_seen: bool) -> tuple[list[Segment], bool]:
    """Segments of one system text block, and whether it was the main prompt."""
    head = text[:300]
    if head.startswith("x-anthropic-billing-header") or "cc_version=" in head:
        return [Segment(0, len(text), "system_block", "Billing/version header", "system:billing", (SYSTEM,))], False
    if len(text) < 400 and text.lstrip().startswith("You are") and "\n#" not in text \
            and text.strip().count("\n") <= 2:
        return [Segment(0, len(text), "system_block", "Identity", "system:identity", (SYSTEM,))], False
    if not main_seen:
        return system_sections(text, "Main instructions", "system:instructions"), True
    return system_sections(text, "Appended prompt", "system:appended"), False


def system_sections(text: str, preamble_label: str, preamble_source: str) -> list[Segment]:
    """Split a system text by its top headings and label each section by what it is."""
    out: list[Segment] = []
    for a, b, heading in _sections(text, 0, len(text), _H1):
        if heading is None:
            out.append(Segment(a, b, "system_block", preamble_label, preamble_source, (SYSTEM,)))
            continue
        low = heading.lower()
        if heading == "gitStatus":
            out.append(Segment(a, b, "system_block", "Git status", "system:git_status", (SYSTEM,)))
        elif "environment" in low or low == "env":
            out.append(Segment(a, b, "system_block", "Environment", "system:environment", (SYSTEM,)))
        elif "output style" in low:
            out.append(Segment(a, b, "system_block", f"Output style ({heading})", "system:output_style", (SYSTEM,)))
        elif "mcp" in low and "instruction" in low:
            out.extend(_mcp_instructions(text, a, b))
        else:
            out.append(Segment(a, b, "system_block", heading[:80], "system:instructions", (SYSTEM,)))
    return out


def _mcp_instructions(text: str, start: int, end: int) -> list[Segment]:
    """The `# MCP Server Instructions` section: each `## server` part goes to its server."""
    out = []
    for a, b, server in _sections(text, start, end, _H2):
        if server is None:
            out.append(Segment(a, b, "system_block", "MCP instructions header", "system:mcp_header", (SYSTEM,)))
        else:
            out.append(Segment(a, b, "mcp_instructions", "server instructions", f"mcp:{server}", (MCP, server)))
    return out


# --- user text -------------------------------------------------------------------------

SUMMARY_PREFIX = "This session is being continued from a previous conversation"


def user_text(text: str, turn: int) -> list[Segment]:
    """A user text block: reminders by kind, the rest as the user's own words."""
    words = (MESSAGES, "User")
    if text.startswith(SUMMARY_PREFIX):
        return [Segment(0, len(text), "summary", "Compacted conversation summary", "history:summary",
                        (MESSAGES, "Assistant history"))]
    if "<command-name>" in text[:400] or text.startswith("<local-command-stdout>"):
        return [Segment(0, len(text), "command", f"Turn {turn}", "command", (MESSAGES, "Slash commands"))]
    spans = []
    pos = 0
    while True:
        a = text.find(_REMINDER_OPEN, pos)
        if a < 0:
            break
        b = text.find(_REMINDER_CLOSE, a)
        b = len(text) if b < 0 else b + len(_REMINDER_CLOSE)
        spans.append((a, b))
        pos = b
    if not spans:
        return [Segment(0, len(text), "user", f"Turn {turn}", "user", words)]
    out: list[Segment] = []
    cursor = 0
    for a, b in spans:
        gap = text[cursor:a]
        if gap.strip():
            out.append(Segment(cursor, a, "user", f"Turn {turn}", "user", words))
            cursor = a
        # whitespace between reminders joins the reminder that follows it
        out.extend(reminder(text, cursor, b))
        cursor = b
    if cursor < len(text):
        if text[cursor:].strip():
            out.append(Segment(cursor, len(text), "user", f"Turn {turn}", "user", words))
        else:
            last = out[-1]
            out[-1] = last._replace(end=len(text))
    return out


_REMINDER_KINDS = (
    ("todo", "todo", "Todo list"),
    ("hook", "hook", "Hook output"),
    ("modified", "file_change", "File changed"),
    ("malware", "file_safety", "File safety note"),
    ("plan mode", "plan_mode", "Plan mode"),
    ("selected", "ide_selection", "IDE selection"),
    ("opened the file", "ide_file", "IDE open file"),
)


def reminder(text: str, start: int, end: int) -> list[Segment]:
    """One `<system-reminder>` span: memory files one per path, the rest by kind."""
    body = text[start:end]
    group = (MESSAGES, REMINDERS)
    if "# claudeMd" not in body:
        low = body.lower()
        for needle, kind, label in _REMINDER_KINDS:
            if needle in low:
                return [Segment(start, end, "reminder", label, f"reminder:{kind}", group)]
        return [Segment(start, end, "reminder", "Reminder", "reminder:other", group)]
    out: list[Segment] = []
    for a, b, heading in _sections(text, start, end, _REMINDER_H1):
        if heading is None:
            out.append(Segment(a, b, "reminder", "Context preamble", "reminder:context", group))
        elif heading == "claudeMd":
            out.extend(_memory_files(text, a, b))
        else:
            out.append(Segment(a, b, "reminder", heading[:80], f"reminder:{_slug(heading)}", group))
    return out


def _memory_files(text: str, start: int, end: int) -> list[Segment]:
    out = []
    for a, b, path in _sections(text, start, end, _CONTENTS_OF):
        if path is None:
            out.append(Segment(a, b, "memory", "claudeMd header", "memory", (MEMORY,)))
        else:
            out.append(Segment(a, b, "memory", path, f"memory:{path}", (MEMORY,)))
    return out


def skill_name_from_body(text: str) -> str | None:
    """The skill's name from a loaded skill body (`Base directory for this skill: DIR`)."""
    if not text.startswith(SKILL_BODY_PREFIX):
        return None
    line = text[len(SKILL_BODY_PREFIX):].split("\n", 1)[0].strip().rstrip("/")
    return line.rsplit("/", 1)[-1] or None


# --- the system-role message: agent types and skills ------------------------------------

def catalog(text: str) -> list[Segment] | None:
    """The message listing agent types and skills; None when it is not such a list."""
    m = _SKILLS_LINE.search(text)
    cut = m.start() if m else len(text)
    out: list[Segment] = []
    agent_items = list(_LIST_ITEM.finditer(text, 0, cut))
    if not agent_items and m is None:
        return None
    if cut > 0:
        out.extend(_items(text, 0, cut, "agent", "agents", (AGENTS,), lambda n: "agents", "Agent list header"))
    if m is not None:
        out.extend(_items(text, cut, len(text), "skill", "skills", (SKILLS,),
                          lambda n: f"skill:{n}", "Skill list header", per_item_group=True))
    return out


def _items(text, start, end, kind, header_source, groups, item_source, header_label, per_item_group=False):
    out = []
    for a, b, name in _sections(text, start, end, _LIST_ITEM):
        if name is None:
            out.append(Segment(a, b, kind, header_label, header_source, groups))
        else:
            g = groups + (name,) if per_item_group else groups
            label = "advertised" if per_item_group else name
            out.append(Segment(a, b, kind, label, item_source(name), g))
    return out
