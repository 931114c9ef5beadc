"""From a Messages API request to a tree of sources.

Content size, the quantity every leaf shares out (and the tests check) is defined as the
sum over the request's content-bearing items of:

* `system`: a string counts its length; in a list, a text block counts the length of its
  `text`, any other item the length of its compact JSON;
* `tools`: each tool counts the length of its compact JSON;
* `messages`: a string `content` counts its length; in a list, a text block counts the
  length of its `text`, any other block the length of its compact JSON; a message that is
  not an object, or whose content is neither string nor list, counts its compact JSON;
* any top-level key we do not know counts its compact JSON (in `other`).

"Compact JSON" is `json.dumps(x, ensure_ascii=False, separators=(",", ":"))`. The envelope
(model, max_tokens, metadata, thinking, ... and the role/content wrappers) is not prompt
content; its size goes to `meta["envelope_chars"]` on the root. A request that is not a
JSON object at all is one `other` leaf with the length of its text (or compact JSON).

Every leaf's character count is a slice of exactly one item, and the slices of an item
tile it, so leaf chars sum to the content size.

A leaf's token weight is estimated from its own content, with three exceptions where chars
mislead: images and documents are weighed by what they cost the model (`media.py`); a tool
sent with `defer_loading` weighs only its name until a tool search loads it, and then the
`tool_reference` in the result weighs the whole definition; thinking from assistant turns
before the current tool-use loop weighs nothing, as the API drops it from the context.
"""

from __future__ import annotations

from typing import Any

from inspector.attribution import sources as S
from inspector.attribution.builder import TreeBuilder, cjson
from inspector.attribution.media import media_tokens
from inspector.attribution.replay import walk_cached
from inspector.attribution.tokens import estimate_tokens_float

#: Top-level request keys that are settings, not prompt content.
ENVELOPE_KEYS = frozenset({
    "model", "max_tokens", "metadata", "stream", "temperature", "top_p", "top_k",
    "stop_sequences", "thinking", "tool_choice", "context_management", "output_config",
    "service_tier", "betas", "container", "anthropic_version", "output_format",
})


def _mcp_name(name: str) -> tuple[str, str] | None:
    if not name.startswith("mcp__"):
        return None
    server, _, tool = name[5:].partition("__")
    return (server or "?", tool or name)


class RequestWalker:
    """Walks one request object in prompt order and feeds the builder."""

    def __init__(self, req: dict[str, Any], builder: TreeBuilder) -> None:
        self.req = req
        self.b = builder
        self.message_index = 0
        self.loop_start = 0
        self.keeps_thinking = False
        self.turns = 0
        self.last_turn_message = -1
        self.tool_defs: dict[str, str] = {}  # tool name -> compact JSON of its definition
        self.calls: dict[str, tuple[str, str]] = {}  # tool_use id -> (tool name, hint)
        self.servers = _servers(req.get("tools"))

    def walk(self) -> None:
        for key, value in self.req.items():
            if key not in ENVELOPE_KEYS and key not in ("tools", "system", "messages"):
                self.b.next_item(None)
                text = cjson(value)
                # A field this walker does not know: counted apart, so drift shows.
                self.b.add((S.OTHER, "Unknown fields"), "unknown", key, len(text),
                           estimate_tokens_float(text), f"/{key}", "unknown:field")
        # tools and system repeat from turn to turn: their leaves come from a cache
        walk_cached("tools", self.req.get("tools"), self.b, self.tools, self.tool_defs)
        walk_cached("system:" + ",".join(sorted(self.servers)), self.req.get("system"), self.b,
                    self.system)
        self.messages(self.req.get("messages"))

    def _other(self, value: Any, path: str, label: str) -> None:
        text = cjson(value)
        self.b.add((S.OTHER,), "other", label, len(text), estimate_tokens_float(text), path, "other")

    # --- tools ---------------------------------------------------------------------
    def tools(self, tools: Any) -> None:
        if tools is None:
            return
        if not isinstance(tools, list):
            self.b.next_item(None)
            return self._other(tools, "/tools", "tools (not a list)")
        for i, tool in enumerate(tools):
            self.b.next_item(tool)
            text = cjson(tool)
            path = f"/tools/{i}"
            name = tool.get("name") if isinstance(tool, dict) else None
            if not isinstance(name, str):
                self.b.add((S.OTHER,), "other", "unnamed tool", len(text),
                           estimate_tokens_float(text), path, "other")
                continue
            self.tool_defs[name] = text
            deferred = tool.get("defer_loading") is True
            # A deferred tool stays out of the prompt until a tool search loads it.
            weight = estimate_tokens_float(name) if deferred else estimate_tokens_float(text)
            extra = {"deferred": True} if deferred else {}
            mcp = _mcp_name(name)
            if mcp:
                self.b.add((S.MCP, mcp[0]), "mcp_tool", mcp[1], len(text), weight, path,
                           f"mcp:{mcp[0]}", tool=name, **extra)
            elif name == "Skill":
                self.b.add((S.SKILLS,), "tool", "Skill tool (launcher)", len(text), weight, path,
                           "skills", tool=name, **extra)
            else:
                self.b.add((S.TOOLS,), "tool", name, len(text), weight, path, f"tool:{name}",
                           tool=name, **extra)

    # --- system --------------------------------------------------------------------
    def system(self, system: Any) -> None:
        if system is None:
            return
        if isinstance(system, str):
            self.b.next_item(None)
            segs = S.system_sections(system, "System prompt", "system:instructions", self.servers)
            return self.b.add_text(system, segs, "/system", True)
        if not isinstance(system, list):
            self.b.next_item(None)
            return self._other(system, "/system", "system (odd type)")
        main_seen = False
        for j, block in enumerate(system):
            self.b.next_item(block)
            path = f"/system/{j}"
            text = block.get("text") if isinstance(block, dict) else None
            if not isinstance(text, str):
                self._other(block, path, "system item")
                continue
            segs, was_main = S.system_block(text, j, main_seen, self.servers)
            main_seen = main_seen or was_main
            self.b.add_text(text, segs, path, True)

    # --- messages ------------------------------------------------------------------
    def messages(self, messages: Any) -> None:
        if messages is None:
            return
        if not isinstance(messages, list):
            self.b.next_item(None)
            return self._other(messages, "/messages", "messages (not a list)")
        self._index_calls(messages)
        self.loop_start = _current_loop_start(messages)
        self.keeps_thinking = _keeps_old_thinking(self.req.get("model"))
        for i, msg in enumerate(messages):
            self.message_index = i
            path = f"/messages/{i}"
            if not isinstance(msg, dict):
                self.b.next_item(None)
                self._other(msg, path, "message (not an object)")
                continue
            role = msg.get("role")
            content = msg.get("content")
            if isinstance(content, str):
                self.b.next_item(None)
                self._text(role, content, f"{path}/content")
            elif isinstance(content, list):
                for k, block in enumerate(content):
                    self.b.next_item(block)
                    self._block(role, block, f"{path}/content/{k}")
            else:
                self.b.next_item(None)
                self._other(content, f"{path}/content", "message content (odd type)")

    def _index_calls(self, messages: list[Any]) -> None:
        for msg in messages:
            content = msg.get("content") if isinstance(msg, dict) else None
            if not isinstance(content, list):
                continue
            for block in content:
                if isinstance(block, dict) and block.get("type") in ("tool_use", "server_tool_use") \
                        and isinstance(block.get("id"), str):
                    name = block.get("name") if isinstance(block.get("name"), str) else "?"
                    self.calls[block["id"]] = (name, _hint(block.get("input")))

    def _text(self, role: Any, text: str, path: str) -> None:
        if role == "user":
            skill = S.skill_name_from_body(text.lstrip())
            if skill is not None:
                self.b.add((S.SKILLS, skill), "skill_body", "loaded body", len(text),
                           estimate_tokens_float(text), path, f"skill:{skill}")
                return
            segments = S.user_text(text, 0, self.servers)
            if any(seg.source == "user" for seg in segments):
                # Turns count messages holding words the user typed, not tool round trips.
                if self.last_turn_message != self.message_index:
                    self.last_turn_message = self.message_index
                    self.turns += 1
                label = f"Turn {self.turns}"
                segments = [seg._replace(label=label) if seg.source == "user" else seg for seg in segments]
            return self.b.add_text(text, segments, path, True)
        if role == "assistant":
            self.b.add((S.MESSAGES, "Assistant history"), "assistant_text", "Text", len(text),
                       estimate_tokens_float(text), path, "history:assistant")
            return
        if role == "system":
            return self.b.add_text(text, S.system_message(text, self.servers), path, True)
        self.b.add((S.MESSAGES, S.REMINDERS), "reminder", f"{role} message", len(text),
                   estimate_tokens_float(text), path, "reminder:system_message")

    def _block(self, role: Any, block: Any, path: str) -> None:
        if not isinstance(block, dict):
            return self._other(block, path, "content block (not an object)")
        btype = block.get("type")
        text = block.get("text")
        if btype == "text" and isinstance(text, str):
            return self._text(role, text, path)
        raw = cjson(block)
        history = (S.MESSAGES, "Assistant history")
        if btype in ("thinking", "redacted_thinking"):
            inner = block.get("thinking") if isinstance(block.get("thinking"), str) else raw
            if self.message_index < self.loop_start and not self.keeps_thinking:
                # The API drops thinking of turns before the current tool-use loop from
                # the context: it is sent, but weighs nothing.
                self.b.add(history, "thinking", "Thinking (dropped by the API)", len(raw), 0.0,
                           path, "history:assistant", stripped=True)
            else:
                self.b.add(history, "thinking", "Thinking", len(raw), estimate_tokens_float(inner),
                           path, "history:assistant")
        elif btype in ("tool_use", "server_tool_use"):
            name = block.get("name") if isinstance(block.get("name"), str) else "?"
            # The model reads the call as its name and input; the id and the JSON keys
            # around them are framing the tokenizer never sees this way.
            weight = estimate_tokens_float(name) + estimate_tokens_float(cjson(block.get("input", {}))) + 3
            self.b.add(history, "tool_call", f"{name} call", len(raw), weight,
                       path, "history:assistant", tool=name)
        elif btype == "tool_result":
            self._tool_result(block, raw, path)
        elif btype == "tool_search_tool_result":
            self._server_tool_search(block, raw, path)
        elif btype in ("image", "document"):
            self.b.add((S.MESSAGES, "Images & documents"), btype, btype, len(raw),
                       media_tokens(block), path, btype)
        else:
            self.b.add((S.MESSAGES, "Other blocks"), "other", str(btype), len(raw),
                       estimate_tokens_float(raw), path, "other")

    def _tool_result(self, block: dict[str, Any], raw: str, path: str) -> None:
        tool_use_id = block.get("tool_use_id")
        name, hint = self.calls.get(tool_use_id if isinstance(tool_use_id, str) else "",
                                    ("unknown tool", ""))
        mcp = _mcp_name(name)
        if mcp:
            groups, label, source = (S.MESSAGES, "Tool results", f"{mcp[0]} (MCP)"), mcp[1], f"mcp:{mcp[0]}"
        else:
            groups, label, source = (S.MESSAGES, "Tool results", name), hint or name, f"tool_result:{name}"
        content = block.get("content")
        if isinstance(content, str) and "<system-reminder>" in content:
            return self._result_with_reminders(content, raw, groups, label, source, name, path)
        if not isinstance(content, list) or all(
                isinstance(c, dict) and c.get("type") == "text" for c in content):
            weight = estimate_tokens_float(_result_text(content, raw)) + 4
            self.b.add(groups, "tool_result", label, len(raw), weight, path, source, tool=name)
            return
        # Mixed content: each item separately (images by their size, tool references by
        # the schema they load); the block's own wrapper is one more leaf.
        items = [cjson(c) for c in content]
        wrapper = len(raw) - sum(len(t) for t in items)
        self.b.add(groups, "tool_result", label, wrapper, 4.0, path, source, tool=name)
        for k, (item, text) in enumerate(zip(content, items)):
            ipath = f"{path}/content/{k}"
            itype = item.get("type") if isinstance(item, dict) else None
            if itype == "tool_reference" and isinstance(item.get("tool_name"), str):
                self._tool_reference(item["tool_name"], text, ipath)
            elif itype in ("image", "document"):
                self.b.add(groups, itype, f"{label} ({itype})", len(text), media_tokens(item),
                           ipath, source, tool=name)
            else:
                self.b.add(groups, "tool_result", label, len(text), estimate_tokens_float(text),
                           ipath, source, tool=name)

    def _result_with_reminders(self, content: str, raw: str, groups: tuple[str, ...], label: str,
                               source: str, name: str, path: str) -> None:
        """A tool result whose text carries reminders (a nested CLAUDE.md read with a file):
        each reminder section is its own leaf, sliced from the result's text; the result
        keeps the rest of the block."""
        segs = S.with_reminders(content, self.servers, lambda a, b: [])
        rest, cursor = [], 0
        for seg in segs:
            rest.append(content[cursor:seg.start])
            cursor = seg.end
        rest.append(content[cursor:])
        reminder_chars = sum(seg.end - seg.start for seg in segs)
        self.b.add(groups, "tool_result", label, len(raw) - reminder_chars,
                   estimate_tokens_float("".join(rest)) + 4, path, source, tool=name)
        for seg in segs:
            self.b.add(seg.groups, seg.kind, seg.label, seg.end - seg.start,
                       estimate_tokens_float(content[seg.start:seg.end]),
                       f"{path}/content#{seg.start}:{seg.end}", seg.source)

    def _server_tool_search(self, block: dict[str, Any], raw: str, path: str) -> None:
        """The API's own tool search: each reference loads a deferred tool's schema."""
        content = block.get("content")
        refs = content.get("tool_references") if isinstance(content, dict) else None
        groups = (S.MESSAGES, "Tool results", "tool search")
        source = "tool_result:tool_search"
        if not isinstance(refs, list):
            self.b.add(groups, "tool_result", "tool search", len(raw), estimate_tokens_float(raw), path, source)
            return
        items = [cjson(r) for r in refs]
        self.b.add(groups, "tool_result", "tool search", len(raw) - sum(map(len, items)), 4.0, path, source)
        for k, (ref, text) in enumerate(zip(refs, items)):
            ipath = f"{path}/content/tool_references/{k}"
            name = ref.get("tool_name") if isinstance(ref, dict) else None
            if isinstance(name, str):
                self._tool_reference(name, text, ipath)
            else:
                self.b.add(groups, "other", "odd reference", len(text), estimate_tokens_float(text),
                           ipath, "other")

    def _tool_reference(self, tool_name: str, text: str, path: str) -> None:
        """A tool schema loaded on demand: the API expands the reference to the full
        definition, so it weighs what that definition weighs."""
        definition = self.tool_defs.get(tool_name, text)
        weight = estimate_tokens_float(definition)
        mcp = _mcp_name(tool_name)
        if mcp:
            self.b.add((S.MCP, mcp[0]), "mcp_tool_loaded", f"{mcp[1]} (loaded on demand)", len(text),
                       weight, path, f"mcp:{mcp[0]}", tool=tool_name)
        else:
            self.b.add((S.TOOLS,), "tool_loaded", f"{tool_name} (loaded on demand)", len(text),
                       weight, path, f"tool:{tool_name}", tool=tool_name)


def _servers(tools: Any) -> frozenset[str]:
    """MCP server names the request's tools name (deferred or not)."""
    if not isinstance(tools, list):
        return frozenset()
    names = (t.get("name") for t in tools if isinstance(t, dict))
    return frozenset(m[0] for m in (_mcp_name(n) for n in names if isinstance(n, str)) if m)


def _current_loop_start(messages: list[Any]) -> int:
    """Index of the last user message that is not only tool results: the start of the
    current tool-use loop, whose thinking blocks stay in context."""
    for i in range(len(messages) - 1, -1, -1):
        msg = messages[i]
        if not isinstance(msg, dict) or msg.get("role") != "user":
            continue
        content = msg.get("content")
        if not isinstance(content, list) or not any(
                isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
            return i
    return 0


def _keeps_old_thinking(model: Any) -> bool:
    """Claude Opus 4.5 keeps earlier turns' thinking in context by default."""
    return isinstance(model, str) and ("opus-4-5" in model.lower() or model.lower() == "opus")


def _result_text(content: Any, raw: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(c.get("text", "") for c in content if isinstance(c, dict))
    return raw


def _hint(tool_input: Any) -> str:
    """A short label for a tool call from its input (file path, command, pattern)."""
    if not isinstance(tool_input, dict):
        return ""
    for key in ("file_path", "command", "pattern", "skill", "url", "query", "path", "description"):
        value = tool_input.get(key)
        if isinstance(value, str) and value:
            value = value.replace("\n", " ")
            return value if len(value) <= 60 else value[:57] + "..."
    return ""
