"""A tiny MCP server over stdio for capturing the corpus: one server with instructions and
two tools, speaking newline-delimited JSON-RPC as the MCP stdio transport does.

Claude Code starts it from the capture project's MCP config; the scripted stub API then
makes Claude find `lookup_fact` with tool search and call it.
"""

from __future__ import annotations

import json
import sys

INSTRUCTIONS = (
    "The corpus server knows facts about the capture project. Call lookup_fact before "
    "answering any question about the project's release train, and cite the fact's id."
)

TOOLS = [
    {
        "name": "lookup_fact",
        "description": "Look up one fact about the capture project by topic.",
        "inputSchema": {
            "type": "object",
            "properties": {"topic": {"type": "string", "description": "What the fact is about"}},
            "required": ["topic"],
        },
    },
    {
        "name": "list_topics",
        "description": "List the topics lookup_fact knows.",
        "inputSchema": {"type": "object", "properties": {}},
    },
]

FACTS = {"release": "fact-7: the release train leaves every second Tuesday."}


def answer(request: dict) -> dict | None:
    method = request.get("method")
    params = request.get("params") or {}
    if method == "initialize":
        return {
            "protocolVersion": params.get("protocolVersion", "2025-06-18"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "corpus", "version": "1.0.0"},
            "instructions": INSTRUCTIONS,
        }
    if method == "tools/list":
        return {"tools": TOOLS}
    if method == "tools/call":
        if params.get("name") == "list_topics":
            text = ", ".join(FACTS)
        else:
            topic = str((params.get("arguments") or {}).get("topic", ""))
            text = next((v for k, v in FACTS.items() if k in topic.lower()), "no fact on that topic")
        return {"content": [{"type": "text", "text": text}], "isError": False}
    if method in ("ping", "resources/list", "prompts/list", "resources/templates/list"):
        key = {"resources/list": "resources", "prompts/list": "prompts",
               "resources/templates/list": "resourceTemplates"}.get(method)
        return {key: []} if key else {}
    return None


def main() -> None:
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
        except ValueError:
            continue
        if "id" not in request:
            continue  # a notification
        result = answer(request)
        if result is None:
            reply = {"jsonrpc": "2.0", "id": request["id"],
                     "error": {"code": -32601, "message": f"unknown method {request.get('method')}"}}
        else:
            reply = {"jsonrpc": "2.0", "id": request["id"], "result": result}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
