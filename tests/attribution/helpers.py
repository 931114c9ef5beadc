"""Test helpers: an independent reading of the content-size rule, and tree walkers."""

from __future__ import annotations

import json
from typing import Any

from inspector.model import Node

ENVELOPE = {"model", "max_tokens", "metadata", "stream", "temperature", "top_p", "top_k",
            "stop_sequences", "thinking", "tool_choice", "context_management", "output_config",
            "service_tier", "betas", "container", "anthropic_version", "output_format"}


def compact(x: Any) -> str:
    return json.dumps(x, ensure_ascii=False, separators=(",", ":"), default=str)


def _text_or_json(item: Any) -> int:
    if isinstance(item, dict) and item.get("type") == "text" and isinstance(item.get("text"), str):
        return len(item["text"])
    return len(compact(item))


def content_size(req: Any) -> int:
    """The content size as the attribution module documents it, computed separately."""
    if isinstance(req, str):
        try:
            req = json.loads(req)
        except ValueError:
            return len(req)
    if not isinstance(req, dict):
        return len(compact(req))
    total = 0
    for key, value in req.items():
        if key in ENVELOPE:
            continue
        if key == "system":
            if isinstance(value, str):
                total += len(value)
            elif isinstance(value, list):
                total += sum(len(b["text"]) if isinstance(b, dict) and isinstance(b.get("text"), str)
                             else len(compact(b)) for b in value)
            elif value is not None:
                total += len(compact(value))
        elif key == "tools":
            if isinstance(value, list):
                total += sum(len(compact(t)) for t in value)
            elif value is not None:
                total += len(compact(value))
        elif key == "messages":
            if isinstance(value, list):
                for msg in value:
                    content = msg.get("content") if isinstance(msg, dict) else None
                    if not isinstance(msg, dict):
                        total += len(compact(msg))
                    elif isinstance(content, str):
                        total += len(content)
                    elif isinstance(content, list):
                        total += sum(_text_or_json(b) for b in content)
                    else:
                        total += len(compact(content))
            elif value is not None:
                total += len(compact(value))
        else:
            total += len(compact(value))
    return total


def leaves(root: Node) -> list[Node]:
    return list(root.leaves())


def walk(root: Node):
    yield root
    for child in root.children:
        yield from walk(child)


def find(root: Node, label: str) -> Node:
    for node in walk(root):
        if node.label == label:
            return node
    raise AssertionError(f"no node {label!r}")


def by_source(root: Node, source: str) -> list[Node]:
    return [leaf for leaf in leaves(root) if leaf.meta.get("source") == source]


def resolve(req: Any, path: str) -> Any:
    """The request item a JSON pointer (without its #slice) points at."""
    node = req
    for part in [p for p in path.split("#", 1)[0].split("/") if p]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node
