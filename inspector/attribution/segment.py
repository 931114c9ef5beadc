"""The unit the text splitters return, and the tree's top categories."""

from __future__ import annotations

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


class Segment(NamedTuple):
    """A piece text[start:end] of one text item: what it is (`kind`, `label`), its grouping
    key for statistics (`source`) and where it sits in the tree (`groups`: the labels
    from the top category down)."""

    start: int
    end: int
    kind: str
    label: str
    source: str
    groups: tuple[str, ...]
