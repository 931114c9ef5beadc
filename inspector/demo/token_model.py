"""The stub API's token model: the ground truth tests check exact counting against.

A request's size is the sum of its parts plus fixed framing, so every part has a known
marginal cost:

* a tool costs the tokens of its JSON; any tools at all add `TOOL_PREAMBLE` once (the
  tool-use system prompt the real API inserts);
* a system prompt costs `SYSTEM_FRAME` once plus each block's text;
* a message costs `MESSAGE_FRAME` plus its blocks: text and thinking by their text,
  a `tool_use` by its name and input JSON, a `tool_result` by its content, an image
  or a document `IMAGE_TOKENS`.

Text is counted line by line (each line with its newline), so a slice of a block that
starts and ends on line boundaries costs exactly what removing it saves. Lines are
tokenized with the published Claude BPE (PyPI `anthropic-tokenizer`) when it is
installed; without it, a simple word/punctuation splitter stands in, so the demo and the
stub still work (with other numbers).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

TOOL_PREAMBLE = 346
SYSTEM_FRAME = 3
MESSAGE_FRAME = 4
IMAGE_TOKENS = 85

try:  # the real vocabulary, when available
    from anthropic_tokenizer import count_tokens as _bpe_count  # type: ignore[import-not-found]
    BACKEND = "anthropic-tokenizer"
except Exception:  # pragma: no cover - depends on the platform
    _bpe_count = None
    BACKEND = "builtin"

_PIECES = re.compile(r"\s?[A-Za-z]{1,6}|\s?\d{1,3}|\s+|[^\sA-Za-z\d]", re.ASCII)


@functools.lru_cache(maxsize=65536)
def _line_tokens(line: str) -> int:
    if _bpe_count is not None:
        return int(_bpe_count(line))
    return len(_PIECES.findall(line))


@functools.lru_cache(maxsize=8192)
def count_text(text: str) -> int:
    """Tokens of a text: the sum over its lines (each keeps its newline)."""
    if not text:
        return 0
    return sum(_line_tokens(line) for line in text.splitlines(keepends=True))


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _strip(value: Any) -> Any:
    """A part without `cache_control` (it changes nothing in the prompt)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def tool_tokens(tool: Any) -> int:
    if isinstance(tool, dict):  # a tool's cache_control sits at its top level
        tool = {k: v for k, v in tool.items() if k != "cache_control"}
    return count_text(canonical(tool))


def block_tokens(block: Any) -> int:
    if isinstance(block, str):
        return count_text(block)
    if not isinstance(block, dict):
        return count_text(canonical(block))
    kind = block.get("type")
    if kind == "text":
        return count_text(str(block.get("text", "")))
    if kind == "thinking":
        return count_text(str(block.get("thinking", "")))
    if kind == "redacted_thinking":
        return 0
    if kind in ("tool_use", "server_tool_use"):
        return count_text(str(block.get("name", ""))) + count_text(canonical(block.get("input", {})))
    if kind == "tool_result":
        content = block.get("content")
        if isinstance(content, list):
            inner = sum(block_tokens(b) for b in content)
        else:
            inner = count_text(str(content)) if content else 0
        return inner
    if kind in ("image", "document"):
        return IMAGE_TOKENS
    return count_text(canonical(_strip(block)))


def message_tokens(message: Any) -> int:
    content = message.get("content") if isinstance(message, dict) else message
    if isinstance(content, list):
        inner = sum(block_tokens(b) for b in content)
    else:
        inner = block_tokens(content if isinstance(content, str) else canonical(content))
    return MESSAGE_FRAME + inner


def system_blocks(system: Any) -> list[Any]:
    if system is None or system == "" or system == []:
        return []
    return [system] if isinstance(system, str) else list(system)


def count_request(request: dict[str, Any]) -> int:
    """Input tokens of a Messages or count_tokens request."""
    total = 0
    tools = request.get("tools") or []
    if tools:
        total += TOOL_PREAMBLE + sum(tool_tokens(t) for t in tools)
    blocks = system_blocks(request.get("system"))
    if blocks:
        total += SYSTEM_FRAME + sum(block_tokens(b) for b in blocks)
    total += sum(message_tokens(m) for m in request.get("messages") or [])
    return total


def overhead(request: dict[str, Any]) -> int:
    """What a request's count holds beyond its parts: preamble and framing."""
    return ((TOOL_PREAMBLE if request.get("tools") else 0)
            + (SYSTEM_FRAME if system_blocks(request.get("system")) else 0)
            + MESSAGE_FRAME * len(request.get("messages") or []))
