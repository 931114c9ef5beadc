"""The Conversation tab's content as a flat list of items, one per block of the request:
the system prompt's blocks, then each message's text, thinking, tool calls, tool results,
reminders and images. Pure (no Textual): the transcript widget mounts one widget per item,
and the detail screen's search looks for hits in each item's `text`.

Kinds are what the user toggles on the number keys; each has a detail level (hidden, one
line, full) and presets set them all at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

#: the kinds, in the order of their number keys (1..7), with the words shown in the legend
KINDS: tuple[tuple[str, str], ...] = (
    ("user", "user"),
    ("assistant", "assistant"),
    ("thinking", "thinking"),
    ("tool_call", "tool calls"),
    ("tool_result", "tool results"),
    ("system", "system & reminders"),
    ("media", "images & other"),
)
KIND_NAMES = tuple(k for k, _ in KINDS)

HIDDEN, LINE, FULL = "hidden", "line", "full"
LEVELS = (HIDDEN, LINE, FULL)

#: what the Conversation tab shows first: the dialogue in full, the rest one line each
DEFAULT = {"user": FULL, "assistant": FULL, "thinking": LINE, "tool_call": LINE,
           "tool_result": LINE, "system": LINE, "media": LINE}
PRESETS: dict[str, dict[str, str]] = {
    "default": DEFAULT,
    "dialogue": {k: (FULL if k in ("user", "assistant") else HIDDEN) for k in KIND_NAMES},
    "everything": {k: FULL for k in KIND_NAMES},
}


@dataclass
class Item:
    """One block of the conversation, ready to render and to search."""

    kind: str  # one of KIND_NAMES
    title: str  # the header: "user #3", "→ Bash", "← Bash result"...
    text: str  # the whole content as shown in full (markdown, JSON or plain text)
    form: str = "markdown"  # how `text` renders: "markdown", "json" or "text"
    message: int | None = None  # index in `messages`; None for the system prompt
    path: str = ""  # JSON pointer of the block in the request body
    error: bool = False  # a tool result marked is_error
    summary: str = ""  # the one-line form when the first line is not telling (JSON)
    source: str = ""  # for a "code" result: the file it came from (picks the highlighting)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def result_text(content: Any) -> str:
    """A tool result's content: a string, or a list of text/image blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            elif isinstance(block, dict) and block.get("type") in ("image", "document"):
                parts.append(f"[{block['type']}: {_media(block)}]")
            else:
                parts.append(_json(block))
        return "\n".join(parts)
    return "" if content is None else _json(content)


def _media(block: dict) -> str:
    source = block.get("source") or {}
    size = len(str(source.get("data", "")))
    kind = source.get("media_type") or source.get("type") or "?"
    return f"{kind}, {size:,} base64 characters" if size else str(kind)


def _is_reminder(text: str) -> bool:
    return text.lstrip().startswith("<system-reminder>")


def _result_form(text: str, tool_input: Any) -> tuple[str, str]:
    """How a tool result renders: JSON when it parses as such, code when the call named a
    file (Read, Edit...), else plain text. Returns (form, source file)."""
    if text.lstrip()[:1] in ("[", "{"):
        try:
            json.loads(text)
            return "json", ""
        except ValueError:
            pass
    if isinstance(tool_input, dict):
        for key in ("file_path", "path", "notebook_path"):
            if isinstance(tool_input.get(key), str):
                return "code", tool_input[key]
    return "text", ""


def block_item(block: Any, role: str, message: int, path: str,
               tool_names: dict[str, str], tool_inputs: dict[str, Any] | None = None) -> Item:
    """The item for one content block of a message with role `role`."""
    who = f"{role} #{message}"
    if isinstance(block, str):
        block = {"type": "text", "text": block}
    if not isinstance(block, dict):
        return Item("media", f"{who} · other", _json(block), "json", message, path)
    kind = block.get("type")
    if kind == "text":
        text = str(block.get("text", ""))
        if role == "system":
            return Item("system", f"system message #{message}", text, "text", message, path)
        if _is_reminder(text):
            return Item("system", f"{who} · system reminder", text, "text", message, path)
        return Item("assistant" if role == "assistant" else "user", who, text, "markdown",
                    message, path)
    if kind in ("thinking", "redacted_thinking"):
        text = str(block.get("thinking") or block.get("data") or "")
        return Item("thinking", f"{who} · thinking", text, "markdown", message, path)
    if kind in ("tool_use", "server_tool_use"):
        name = str(block.get("name", "?"))
        tool_names[str(block.get("id"))] = name
        if tool_inputs is not None:
            tool_inputs[str(block.get("id"))] = block.get("input")
        return Item("tool_call", f"→ {name}  {who}", _json(block.get("input")), "json",
                    message, path,
                    summary=json.dumps(block.get("input"), ensure_ascii=False, default=str)[:300])
    if kind == "tool_result" or str(kind).endswith("_tool_result"):
        name = tool_names.get(str(block.get("tool_use_id")), "tool")
        error = bool(block.get("is_error"))
        title = f"← {name} result{' (error)' if error else ''}  {who}"
        text = result_text(block.get("content"))
        form, source = _result_form(text, (tool_inputs or {}).get(str(block.get("tool_use_id"))))
        return Item("tool_result", title, text, form, message, path, error, source=source)
    if kind in ("image", "document"):
        return Item("media", f"{who} · {kind}", f"[{kind}: {_media(block)}]", "text",
                    message, path)
    return Item("media", f"{who} · {kind}", _json(block), "json", message, path)


def transcript_items(request: Any) -> list[Item]:
    """Every block of a Messages API request body, in reading order."""
    if not isinstance(request, dict):
        return []
    items: list[Item] = []
    system = request.get("system")
    blocks = [system] if isinstance(system, str) else system if isinstance(system, list) else []
    for i, block in enumerate(blocks):
        text = block if isinstance(block, str) else str((block or {}).get("text", _json(block)))
        path = "/system" if isinstance(system, str) else f"/system/{i}"
        items.append(Item("system", f"system prompt {i + 1}/{len(blocks)}", text, "text",
                          None, path))
    tool_names: dict[str, str] = {}
    tool_inputs: dict[str, Any] = {}
    for m, message in enumerate(request.get("messages") or []):
        if not isinstance(message, dict):
            items.append(Item("media", f"message #{m}", _json(message), "json", m, f"/messages/{m}"))
            continue
        role = str(message.get("role", "?"))
        content = message.get("content")
        if isinstance(content, list):
            for b, block in enumerate(content):
                items.append(block_item(block, role, m, f"/messages/{m}/content/{b}",
                                        tool_names, tool_inputs))
        else:
            items.append(block_item(content if isinstance(content, str) else _json(content),
                                    role, m, f"/messages/{m}/content", tool_names))
    return items


def first_line(text: str, width: int = 300) -> str:
    """The start of `text` on one line (runs of spaces and line breaks as one space), for
    the one-line level: a JSON result reads `[ { "id": 1 ...` rather than `[`."""
    return " ".join(text[:width * 2].split())[:width]
