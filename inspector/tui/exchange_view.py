"""Pure helpers that read one stored exchange (the dict `get_exchange` returns) for the
detail screen: the request and response JSON, the attribution tree, and the content a
tree node points at.

Kept free of Textual so they can be tested alone and reused by every detail tab.
"""

from __future__ import annotations

import json
from typing import Any

from inspector.model import Node


def _first(d: Any, *keys: str) -> Any:
    """The first present, non-None value among dotted keys ("response.body")."""
    for key in keys:
        cur = d
        for part in key.split("."):
            if not isinstance(cur, dict) or part not in cur:
                cur = None
                break
            cur = cur[part]
        if cur is not None:
            return cur
    return None


def _as_json(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def request_json(ex: dict[str, Any]) -> Any:
    return _as_json(_first(ex, "request.json", "request.body", "request_json", "request_body",
                           "body"))


def response_json(ex: dict[str, Any]) -> Any:
    return _as_json(_first(ex, "response.json", "response.body", "response_json",
                           "response_body"))


def request_headers(ex: dict[str, Any]) -> list[tuple[str, str]]:
    return _headers(_first(ex, "request.headers", "request_headers"))


def response_headers(ex: dict[str, Any]) -> list[tuple[str, str]]:
    return _headers(_first(ex, "response.headers", "response_headers"))


def _headers(value: Any) -> list[tuple[str, str]]:
    value = _as_json(value)
    if isinstance(value, dict):
        return [(str(k), str(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [(str(p[0]), str(p[1])) for p in value if isinstance(p, (list, tuple)) and len(p) == 2]
    return []


def raw_sse(ex: dict[str, Any]) -> str | None:
    return _first(ex, "response.raw_sse", "raw_sse")


def usage(ex: dict[str, Any]) -> dict[str, Any]:
    found = _first(ex, "usage", "response.usage")
    if isinstance(found, dict):
        return found
    return {k: ex.get(k) for k in ("input_tokens", "output_tokens", "cache_read_tokens",
                                   "cache_creation_tokens") if k in ex}


def timings(ex: dict[str, Any]) -> dict[str, Any]:
    found = _first(ex, "timings", "response.timings")
    if isinstance(found, dict):
        return found
    keys = ("request_sent_ms", "ttfb_ms", "total_ms", "upstream_connect_ms", "proxy_overhead_ms")
    return {k: _first(ex, k, f"response.{k}") for k in keys}


def tree(ex: dict[str, Any]) -> Node | None:
    found = _first(ex, "tree", "attribution", "attribution_tree")
    if isinstance(found, Node):
        return found
    if isinstance(found, dict) and "kind" in found:
        return Node.from_dict(found)
    return None


def field(ex: dict[str, Any], name: str) -> Any:
    """A top-level fact, also looked up under request/response (stop_reason, cost_usd...)."""
    return _first(ex, name, f"response.{name}", f"request.{name}")


def resolve_path(doc: Any, path: str) -> Any:
    """The part of the request a node's `path` points at.

    `path` is a JSON pointer ("/messages/3/content/0") optionally followed by "#start:end"
    to cut a character range out of the text found there. Returns None when it does not
    resolve (the request may have been truncated when captured).
    """
    if not path:
        return None
    pointer, _, span = path.partition("#")
    cur = doc
    if pointer not in ("", "/"):
        for raw in pointer.lstrip("/").split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(cur, list):
                try:
                    cur = cur[int(part)]
                except (ValueError, IndexError):
                    return None
            elif isinstance(cur, dict) and part in cur:
                cur = cur[part]
            else:
                return None
    if span:
        text = cur.get("text") if isinstance(cur, dict) else cur
        if not isinstance(text, str):
            text = json.dumps(text, ensure_ascii=False)
        start_s, _, end_s = span.partition(":")
        try:
            start = int(start_s) if start_s else 0
            end = int(end_s) if end_s else len(text)
        except ValueError:
            return cur
        return text[start:end]
    return cur


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _readable(value: Any) -> str:
    """Prose as prose (real line breaks), structure as indented JSON."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            return "\n\n".join(_readable(v) for v in value)
        return _json(value)
    kind = value.get("type")
    if kind == "text" and isinstance(value.get("text"), str):
        return value["text"]
    if "input_schema" in value or ("name" in value and "description" in value):
        rest = {k: v for k, v in value.items() if k not in ("name", "description")}
        return (f"{value.get('name', '')}\n\n{value.get('description', '')}\n\n"
                + _json(rest))
    if kind == "tool_use":
        return f"tool call {value.get('name')} ({value.get('id')})\n\n" + _json(value.get("input"))
    if kind == "tool_result":
        content = value.get("content")
        body = content if isinstance(content, str) else _readable(content or [])
        return f"result of {value.get('tool_use_id')}\n\n{body}"
    if kind == "thinking":
        return str(value.get("thinking", ""))
    if kind in ("image", "document"):
        source = value.get("source") or {}
        size = len(str(source.get("data", "")))
        return f"{kind}: {source.get('media_type', '?')}, {size:,} base64 characters"
    return _json(value)


def content_text(value: Any, limit: int = 200_000) -> str:
    """Readable text for a piece of the request: strings as they are, the rest as JSON."""
    if value is None:
        return "(content not available: the stored request does not reach this part)"
    text = _readable(value)
    if len(text) > limit:
        text = text[:limit] + f"\n… ({len(text) - limit:,} more characters)"
    return text


def group_text(node: Node, request: Any, each: int = 600, most: int = 200) -> str:
    """What a group node (such as "Tool results") holds: each child's own part, largest
    first, clipped to `each` characters, at most `most` children. A group never shows the
    whole JSON its path points at (for history groups, every message)."""
    children = sorted(node.children, key=lambda n: n.tokens, reverse=True)
    parts = []
    for child in children[:most]:
        head = f"{child.label}: {child.tokens:,} tokens"
        if child.children:
            names = ", ".join(c.label for c in sorted(child.children, key=lambda n: n.tokens,
                                                      reverse=True)[:12])
            more = len(child.children) - 12
            n = len(child.children)
            body = f"{n} part{'s' if n != 1 else ''}: {names}" + (f", … {more} more" if more > 0 else "")
        elif child.path:
            body = content_text(resolve_path(request, child.path), limit=each)
        else:
            body = ""
        parts.append(f"{head}\n{body}".rstrip())
    if len(children) > most:
        parts.append(f"… {len(children) - most} more parts")
    return "\n\n".join(parts)
