"""Which count_tokens calls measure which part of a request.

Each `Measure` gives one part (a JSON pointer into the request, as attribution nodes
carry) its marginal cost: count(plus) - count(minus). Parts are measured against small,
valid stand-in requests, so each count depends only on the part's own content and is
reused by content hash on every later turn:

* a tool, with a sentinel tool present in both counts, so the tool-use preamble is in
  both and never in the part;
* a system block beside a sentinel block; a slice of it (`#start:end`) by removing the
  slice from the block;
* a block of the messages before the first assistant turn (reminders, memory files,
  agent and skill lists, the user's first words) beside a sentinel block;
* later turns: a user text block the same way, an assistant text beside a sentinel, a
  `tool_use` together with an empty `tool_result` (so the request stays valid), then its
  result's content;
* a turn as a whole (`Anchor`): the messages up to the end of it minus those before,
  so parts of a turn not measured one by one share its exact total.

Measures of tier 0 are always taken; tier 1 (later turns' blocks) within a budget, the
largest first. Only fields count_tokens accepts are sent, and `cache_control` never.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SENTINEL_TOOL = {"name": "count_sentinel", "description": "x",
                 "input_schema": {"type": "object", "properties": {}}}
SENTINEL_TEXT = ".\n"
_SENT_BLOCK = {"type": "text", "text": SENTINEL_TEXT}
_BASE = [{"role": "user", "content": [_SENT_BLOCK]}]
#: what a full count sends of the user's request
FULL_FIELDS = ("model", "messages", "system", "tools", "tool_choice", "thinking")


@dataclass
class Measure:
    path: str
    plus: dict[str, Any]
    minus: dict[str, Any] | None
    tier: int = 0
    weight: float = 0.0


@dataclass
class Anchor:
    """Messages [start, end): their exact total is count(plus) - count(minus)."""

    start: int
    end: int
    plus: dict[str, Any]
    minus: dict[str, Any] | None


@dataclass
class Plan:
    full: dict[str, Any]
    measures: list[Measure] = field(default_factory=list)
    anchors: list[Anchor] = field(default_factory=list)


def strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def full_body(request: dict[str, Any]) -> dict[str, Any]:
    return strip({k: request[k] for k in FULL_FIELDS if k in request})


def make_plan(request: dict[str, Any], paths: list[tuple[str, float]]) -> Plan:
    """The measures for a request whose attribution leaves have these (path, weight)."""
    model = request.get("model")
    plan = Plan(full=full_body(request))
    messages = request.get("messages") if isinstance(request.get("messages"), list) else []
    first_assistant = next((i for i, m in enumerate(messages)
                            if isinstance(m, dict) and m.get("role") == "assistant"), len(messages))
    seen: set[str] = set()
    for path, weight in paths:
        if path in seen:
            continue
        seen.add(path)
        m = _measure(request, model, path, first_assistant)
        if m is not None:
            m.weight = weight
            plan.measures.append(m)
    bounds = [i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "assistant"]
    bounds.append(len(messages))
    start = 0
    for end in bounds:
        if end > start:
            plus = {"model": model, "messages": strip(messages[:end])}
            minus = {"model": model, "messages": strip(messages[:start])} if start else None
            plan.anchors.append(Anchor(start, end, plus, minus))
        start = end
    return plan


def _measure(request: dict[str, Any], model: Any, path: str, first_assistant: int) -> Measure | None:
    pointer, _, span = path.partition("#")
    parts = pointer.strip("/").split("/")
    try:
        if parts[0] == "tools" and len(parts) == 2 and not span:
            tool = strip(request["tools"][int(parts[1])])
            if tool.get("name") == SENTINEL_TOOL["name"]:
                return None
            return Measure(path, {"model": model, "messages": _BASE, "tools": [SENTINEL_TOOL, tool]},
                           {"model": model, "messages": _BASE, "tools": [SENTINEL_TOOL]})
        if parts[0] == "system":
            system = request["system"]
            block = ({"type": "text", "text": system} if isinstance(system, str) and len(parts) == 1
                     else strip(system[int(parts[1])]))
            def body(b: Any) -> dict[str, Any]:
                return {"model": model, "messages": _BASE, "system": [_SENT_BLOCK] + ([b] if b else [])}
            return _with_span(path, block, span, body)
        if parts[0] == "messages" and len(parts) >= 3 and parts[2] == "content":
            return _message_part(request["messages"], model, path, parts, span, first_assistant)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return None
    return None


def _message_part(messages: list[Any], model: Any, path: str, parts: list[str], span: str,
                  first_assistant: int) -> Measure | None:
    i = int(parts[1])
    message = messages[i]
    role, content = message.get("role"), message.get("content")
    tier = 0 if i < first_assistant else 1
    if len(parts) == 3:  # string content
        if not isinstance(content, str):
            return None
        block: Any = {"type": "text", "text": content}
    else:
        block = strip(content[int(parts[3])])
    kind = block.get("type") if isinstance(block, dict) else None
    if role in ("user", "system") and kind in ("text", "image", "document"):
        def body(b: Any) -> dict[str, Any]:
            return {"model": model, "messages": [{"role": "user", "content": [_SENT_BLOCK] + ([b] if b else [])}]}
        m = _with_span(path, block, span, body)
    elif role == "assistant" and kind == "text" and not span:
        def around(blocks: list[Any]) -> dict[str, Any]:
            return {"model": model, "messages": [_BASE[0], {"role": "assistant", "content": blocks}, _BASE[0]]}
        m = Measure(path, around([_SENT_BLOCK, block]), around([_SENT_BLOCK]))
    elif role == "assistant" and kind == "tool_use" and not span:
        m = Measure(path, _couple(model, block, {"type": "tool_result", "tool_use_id": block.get("id")}),
                    _couple(model, None, None))
    elif role == "user" and kind == "tool_result" and not span:
        where = _find_call(messages, i, block.get("tool_use_id"))
        if where is None:
            return None
        call = strip(messages[where[0]]["content"][where[1]])
        empty = {k: v for k, v in block.items() if k not in ("content",)}
        m = Measure(path, _couple(model, call, block), _couple(model, call, empty))
    else:
        return None
    if m is not None:
        m.tier = tier
    return m


def _with_span(path: str, block: Any, span: str, body: Any) -> Measure | None:
    """Measure a whole text/media block, or the slice `span` of a text block."""
    if not span:
        return Measure(path, body(block), body(None))
    if not isinstance(block, dict) or block.get("type") != "text":
        return None
    a, _, b = span.partition(":")
    text = block["text"]
    rest = text[:int(a)] + text[int(b):]
    return Measure(path, body(block), body(dict(block, text=rest) if rest.strip() else None))


def _couple(model: Any, call: Any, result: Any) -> dict[str, Any]:
    assistant = [_SENT_BLOCK] + ([call] if call else [])
    user = ([result] if result else []) + [_SENT_BLOCK]
    return {"model": model, "messages": [_BASE[0], {"role": "assistant", "content": assistant},
                                         {"role": "user", "content": user}]}


def _find_call(messages: list[Any], i: int, tool_use_id: Any) -> tuple[int, int] | None:
    for k in range(i - 1, -1, -1):
        m = messages[k]
        if isinstance(m, dict) and m.get("role") == "assistant" and isinstance(m.get("content"), list):
            for j, b in enumerate(m["content"]):
                if isinstance(b, dict) and b.get("type") == "tool_use" and b.get("id") == tool_use_id:
                    return k, j
            return None
    return None
