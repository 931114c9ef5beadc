"""Request checks the stub API makes, as the real Messages API does.

`problem(body, count_tokens)` returns None for a valid request, or the message of the
400 `invalid_request_error` the API would answer with. Checked: the fields
`count_tokens` accepts; a non-empty `messages` starting with the user (consecutive turns
of one role are combined into one, as the API does; Claude Code's `role: "system"`
entries sit between turns); each
`tool_use` answered by a `tool_result` at the start of the next user message and each
`tool_result` answering a `tool_use` of the message before; non-empty text blocks; tools
with unique names.
"""

from __future__ import annotations

from typing import Any

#: what POST /v1/messages/count_tokens takes; anything else is refused
COUNT_FIELDS = frozenset({"model", "messages", "system", "tools", "tool_choice", "thinking",
                          "mcp_servers", "context_management", "output_format",
                          "output_config"})


def problem(body: Any, count_tokens: bool = False) -> str | None:
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if count_tokens:
        extra = sorted(set(body) - COUNT_FIELDS)
        if extra:
            return f"{extra[0]}: Extra inputs are not permitted"
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    return _messages(messages) or _tools(body.get("tools"))


def _messages(messages: list[Any]) -> str | None:
    previous = None
    pending: set[str] = set()
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant", "system"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        role = message["role"]
        blocks = message.get("content")
        if isinstance(blocks, str):
            if not blocks:
                return f"messages.{i}: content must be non-empty"
            blocks = [{"type": "text", "text": blocks}]
        if not isinstance(blocks, list) or not blocks:
            return f"messages.{i}: content must be a non-empty string or list"
        if role == "system":
            continue
        if previous is None and role != "user":
            return "messages: the first message must use the user role"
        results = [b.get("tool_use_id") for b in blocks
                   if isinstance(b, dict) and b.get("type") == "tool_result"]
        if pending and (role != "user" or set(results) != pending):
            return (f"messages.{i}: tool_use ids were found without tool_result blocks "
                    f"immediately after: {', '.join(sorted(pending - set(results)))}")
        if results:
            if role != "user" or set(results) - pending:
                return f"messages.{i}: unexpected tool_use_id in tool_result blocks"
            first = [isinstance(b, dict) and b.get("type") == "tool_result" for b in blocks]
            if first != sorted(first, reverse=True):
                return f"messages.{i}: tool_result blocks must come first in the content"
        for j, b in enumerate(blocks):
            if isinstance(b, dict) and b.get("type") == "text" and not b.get("text"):
                return f"messages.{i}.content.{j}.text: text content blocks must be non-empty"
        pending = {str(b.get("id")) for b in blocks
                   if isinstance(b, dict) and b.get("type") == "tool_use"}
        previous = role
    return None


def _tools(tools: Any) -> str | None:
    if tools is None:
        return None
    if not isinstance(tools, list):
        return "tools: Input should be a valid list"
    names = set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            return f"tools.{i}.name: Field required"
        if "type" not in tool and not isinstance(tool.get("input_schema"), dict):
            return f"tools.{i}.input_schema: Field required"
        if tool["name"] in names:
            return f"tools: Tool names must be unique ({tool['name']})"
        names.add(tool["name"])
    return None
