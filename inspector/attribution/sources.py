"""Cutting the texts of a request into sources.

Each function takes one text and returns `Segment`s that cover it exactly, end to end
(no gap, no overlap), so every character lands in one leaf. A segment says what the text
is (`kind`, `label`), its grouping key for statistics (`source`) and where it sits in the
tree (`groups`: the labels from the top category down).

The system prompt's blocks are cut at their `# Heading` lines (environment, output style,
MCP server instructions with one `## server` part each, `gitStatus:`). User turns hold
`<system-reminder>` spans, and `role: "system"` messages hold the sources Claude Code moved
out of the system prompt; both are cut by `sections.split`, which knows each source by
the line that starts it (see there). Skill bodies begin with the skill's base directory;
short harness notes ("Tool loaded.") are nobody's words. Anything else is kept whole under
a neutral label, or as an `unknown` section when it sits among known ones.
"""

from __future__ import annotations

import re

from inspector.attribution import sections
from inspector.attribution.segment import (AGENTS, CATEGORIES, MCP, MEMORY, MESSAGES, OTHER,
                                           REMINDERS, SKILLS, SYSTEM, TOOLS, Segment)

__all__ = ["AGENTS", "CATEGORIES", "MCP", "MEMORY", "MESSAGES", "OTHER", "REMINDERS", "SKILLS",
           "SYSTEM", "TOOLS", "Segment", "system_block", "system_sections", "user_text",
           "system_message", "reminder", "skill_name_from_body"]

SKILL_BODY_PREFIX = "Base directory for this skill:"

_H1 = re.compile(r"^(?:# +(.+)|(gitStatus):.*)$", re.M)
_H2 = re.compile(r"^## +(.+)$", re.M)
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


# --- system prompt ---------------------------------------------------------------------

def system_block(text: str, index: int, main_seen: bool,
                 servers: frozenset[str] = frozenset()) -> tuple[list[Segment], bool]:
    """Segments of one system text block, and whether it was the main prompt."""
    head = text[:300]
    if head.startswith("x-anthropic-billing-header") or "cc_version=" in head:
        return [Segment(0, len(text), "system_block", "Billing/version header", "system:billing", (SYSTEM,))], False
    if len(text) < 400 and text.lstrip().startswith("You are") and "\n#" not in text \
            and text.strip().count("\n") <= 2:
        return [Segment(0, len(text), "system_block", "Identity", "system:identity", (SYSTEM,))], False
    if not main_seen:
        return system_sections(text, "Main instructions", "system:instructions", servers), True
    return system_sections(text, "Appended prompt", "system:appended", servers), False


def system_sections(text: str, preamble_label: str, preamble_source: str,
                    servers: frozenset[str] = frozenset()) -> list[Segment]:
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
        elif low.startswith("output style"):
            name = heading.split(":", 1)[1].strip() if ":" in heading else heading
            out.append(Segment(a, b, "system_block", f"Output style: {name}", "system:output_style", (SYSTEM,)))
        elif "mcp" in low and "instruction" in low:
            out.extend(_mcp_instructions(text, a, b, servers))
        else:
            out.append(Segment(a, b, "system_block", heading[:80], "system:instructions", (SYSTEM,)))
    return out


def _mcp_instructions(text: str, start: int, end: int, servers: frozenset[str]) -> list[Segment]:
    """The `# MCP Server Instructions` section: each `## server` part goes to its server
    (a `## heading` inside a server's text stays there when the servers are known)."""
    out: list[Segment] = []
    for a, b, server in _sections(text, start, end, _H2):
        if server is None:
            out.append(Segment(a, b, "system_block", "MCP instructions header", "system:mcp_header", (SYSTEM,)))
        elif servers and server not in servers and out and out[-1].kind == "mcp_instructions":
            out[-1] = out[-1]._replace(end=b)
        else:
            out.append(Segment(a, b, "mcp_instructions", "instructions", f"mcp:{server}", (MCP, server)))
    return out


# --- user text and system-role messages --------------------------------------------------

SUMMARY_PREFIX = "This session is being continued from a previous conversation"


def user_text(text: str, turn: int, servers: frozenset[str] = frozenset()) -> list[Segment]:
    """A user text block: reminders by section, harness notes, the rest as the user's words."""
    words = (MESSAGES, "User")
    if text.startswith(SUMMARY_PREFIX):
        return [Segment(0, len(text), "summary", "Compacted conversation summary", "history:summary",
                        (MESSAGES, "Assistant history"))]
    if "<command-name>" in text[:400] or text.startswith("<local-command-stdout>"):
        return [Segment(0, len(text), "command", f"Turn {turn}", "command", (MESSAGES, "Slash commands"))]
    if text.strip() in sections.HARNESS_TEXTS:
        return [Segment(0, len(text), "harness", text.strip(), "harness", (MESSAGES, "Harness notes"))]
    return with_reminders(text, servers, lambda a, b: [
        Segment(a, b, "user", f"Turn {turn}", "user", words)])


def system_message(text: str, servers: frozenset[str] = frozenset()) -> list[Segment]:
    """A `role: "system"` message: its sections, inside reminder tags or not."""
    return with_reminders(text, servers, lambda a, b: sections.split(text, a, b, servers))


def reminder_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each `<system-reminder>...</system-reminder>` span, tags included."""
    spans = []
    pos = 0
    while True:
        a = text.find(_REMINDER_OPEN, pos)
        if a < 0:
            return spans
        b = text.find(_REMINDER_CLOSE, a)
        b = len(text) if b < 0 else b + len(_REMINDER_CLOSE)
        spans.append((a, b))
        pos = b


def with_reminders(text: str, servers: frozenset[str], outside) -> list[Segment]:
    """Segments of `text`: each `<system-reminder>` span by its sections, the text between
    them by `outside(start, end)`. Whitespace before a reminder joins that reminder, and
    whitespace at the end joins the last piece."""
    spans = reminder_spans(text)
    if not spans:
        return outside(0, len(text))
    out: list[Segment] = []
    cursor = 0
    for a, b in spans:
        if text[cursor:a].strip():
            out.extend(outside(cursor, a))
            cursor = a
        # whitespace between reminders joins the reminder that follows it
        out.extend(reminder(text, cursor, b, servers))
        cursor = b
    if cursor < len(text):
        if text[cursor:].strip():
            out.extend(outside(cursor, len(text)))
        else:
            out[-1] = out[-1]._replace(end=len(text))
    return out


_REMINDER_KINDS = (
    ("todo", "todo", "Todo list"),
    ("modified", "file_change", "File changed"),
    ("malware", "file_safety", "File safety note"),
    ("plan mode", "plan_mode", "Plan mode"),
    ("selected", "ide_selection", "IDE selection"),
    ("opened the file", "ide_file", "IDE open file"),
)


def reminder(text: str, start: int, end: int, servers: frozenset[str] = frozenset()) -> list[Segment]:
    """One `<system-reminder>` span (tags and all): its sections. A reminder none of whose
    sections is known, but whose words say what it is (todo state, a changed file...),
    is one reminder of that kind; otherwise it is an unknown reminder."""
    inner_a = text.find(_REMINDER_OPEN, start, end)
    inner_a = start if inner_a < 0 else inner_a + len(_REMINDER_OPEN)
    inner_b = text.rfind(_REMINDER_CLOSE, inner_a, end)
    inner_b = end if inner_b < 0 else inner_b
    segs = sections.split(text, inner_a, inner_b, servers, "unknown:reminder") if inner_b > inner_a else []
    if not segs or (len(segs) == 1 and segs[0].kind == "unknown"):
        low = text[start:end].lower()
        group = (MESSAGES, REMINDERS)
        for needle, kind, label in _REMINDER_KINDS:
            if needle in low:
                return [Segment(start, end, "reminder", label, f"reminder:{kind}", group)]
        if "hook" in low:
            return [Segment(start, end, "hook", "Hook output", "hook:other",
                            (MESSAGES, sections.HOOKS, "other"))]
        label = segs[0].label if segs else "(empty reminder)"
        return [Segment(start, end, "unknown", label, "unknown:reminder", (OTHER, "Unknown reminders"))]
    segs[0] = segs[0]._replace(start=start)
    segs[-1] = segs[-1]._replace(end=end)
    return segs


def skill_name_from_body(text: str) -> str | None:
    """The skill's name from a loaded skill body (`Base directory for this skill: DIR`)."""
    if not text.startswith(SKILL_BODY_PREFIX):
        return None
    line = text[len(SKILL_BODY_PREFIX):].split("\n", 1)[0].strip().rstrip("/")
    return line.rsplit("/", 1)[-1] or None
