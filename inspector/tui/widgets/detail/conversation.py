"""One content block rendered for reading (a tool call and its input, a result, a
reminder...), as the Response tab shows the answer's blocks. The Conversation tab itself is
the transcript (transcript.py)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from inspector.tui.widgets.detail.transcript_items import result_text

#: longest stretch of one block shown inline; the Raw tab has everything
BLOCK_LIMIT = 3000


def _clip(text: str, limit: int = BLOCK_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit:,} more characters, see Raw)"


def render_block(block: Any, tool_names: dict[str, str]) -> RenderableType:
    if isinstance(block, str):
        return Text(_clip(block))
    if not isinstance(block, dict):
        return Text(_clip(json.dumps(block, ensure_ascii=False)), style="dim")
    kind = block.get("type")
    if kind == "text":
        text = str(block.get("text", ""))
        if text.lstrip().startswith("<system-reminder>"):
            return Text(_clip(text, 600), style="dim italic")
        return Text(_clip(text))
    if kind in ("thinking", "redacted_thinking"):
        return Text("thinking: " + _clip(str(block.get("thinking", "")), 800), style="dim italic")
    if kind == "tool_use":
        head = Text("→ ", style="bold yellow")
        head.append(str(block.get("name")), style="bold yellow")
        head.append("  " + _clip(json.dumps(block.get("input"), ensure_ascii=False), 600),
                    style="yellow")
        return head
    if kind == "tool_result":
        name = tool_names.get(str(block.get("tool_use_id")), "tool")
        head = Text("← ", style="bold green")
        head.append(f"{name} result", style="bold green")
        if block.get("is_error"):
            head.append("  (error)", style="bold red")
        body = Text(_clip(result_text(block.get("content")), 1500), style="green")
        return Group(head, Padding(body, (0, 0, 0, 2)))
    if kind in ("image", "document"):
        return Text(f"[{kind}]", style="magenta")
    return Text(_clip(json.dumps(block, ensure_ascii=False), 600), style="dim")
