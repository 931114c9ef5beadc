"""Requests as Claude Code lives them: one session holds the main conversation, its
subagents (each with its own conversation and cache) and side calls (a title, a topic
check, a quota probe on a small model), all under the same session header.

A subagent is named by the `x-claude-code-agent-id` header where the client sends it;
otherwise by the Agent (or older Task) tool call whose prompt opens the subagent's
conversation. Its parent is the request that made that call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from inspector.model import Node, Usage

AGENT_HEADER = "x-claude-code-agent-id"
AGENT_TOOLS = ("Agent", "Task")


@dataclass
class Turn:
    """One stored Messages API request with what the findings need of it."""

    id: str
    ts: str
    t: float
    session_id: str | None
    model: str | None
    headers: dict[str, str]
    body: dict[str, Any]
    usage: Usage
    tree: Node | None
    cost_usd: float | None
    response: Any = None
    total_ms: float | None = None
    quota: dict[str, str] | None = None
    #: the subagent this request belongs to (None: the main conversation)
    agent_id: str | None = None
    #: the request whose Agent call started this subagent
    parent_id: str | None = None
    #: "title", "topic", "quota" or "side" for a side call; None otherwise
    side_call: str | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cached(self) -> int:
        """Tokens this request left in the cache (read + written)."""
        return (self.usage.cache_read_input_tokens or 0) + (
            self.usage.cache_creation_input_tokens or 0)

    @property
    def chain(self) -> tuple[Any, ...]:
        """Requests of one chain share a cache: same session, same agent, and for side
        calls the same kind and model."""
        if self.side_call:
            return (self.session_id, "side", self.side_call, self.model)
        return (self.session_id, self.agent_id)


def epoch(ts: str) -> float:
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        return time.time()


def turn_of(ex: dict[str, Any]) -> Turn | None:
    """A Turn from a stored exchange (`exchange_dicts` shape); None when it is not a
    Messages API request with a known usage."""
    req = ex.get("request") or {}
    body = req.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return None
    u = ex.get("usage") or {}
    if u.get("input_tokens") is None:
        return None
    usage = Usage.from_stored(u)
    headers: dict[str, str] = {}
    for pair in req.get("headers") or []:
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            headers[str(pair[0]).lower()] = str(pair[1])
    tree = ex.get("attribution")
    response = (ex.get("response") or {}).get("body")
    return Turn(
        id=ex["id"], ts=ex["ts"], t=epoch(ex["ts"]), session_id=req.get("session_id"),
        model=req.get("model") or body.get("model"), headers=headers, body=body,
        usage=usage, tree=Node.from_dict(tree) if isinstance(tree, dict) else None,
        cost_usd=ex.get("cost_usd"), response=response,
        total_ms=(ex.get("timings") or {}).get("total_ms"), quota=ex.get("quota"),
        agent_id=headers.get(AGENT_HEADER) or None,
        calls=_calls(body, response),
    )


def _calls(body: dict[str, Any], response: Any) -> list[dict[str, Any]]:
    """Tool calls in the request's history and in its reply."""
    out = []
    for msg in body.get("messages") or []:
        if isinstance(msg, dict) and msg.get("role") == "assistant" \
                and isinstance(msg.get("content"), list):
            out.extend(b for b in msg["content"] if _is_call(b))
    if isinstance(response, dict) and isinstance(response.get("content"), list):
        out.extend(b for b in response["content"] if _is_call(b))
    return out


def _is_call(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") in ("tool_use", "server_tool_use")


def first_user_text(body: dict[str, Any]) -> str:
    """The words of the first user message, without injected reminders."""
    for msg in body.get("messages") or []:
        if not isinstance(msg, dict) or msg.get("role") != "user":
            continue
        content = msg.get("content")
        texts = [content] if isinstance(content, str) else [
            b.get("text", "") for b in content or [] if isinstance(b, dict)
            and b.get("type") == "text" and isinstance(b.get("text"), str)]
        words = [t for t in texts if not t.lstrip().startswith("<system-reminder>")]
        return "\n".join(words).strip()
    return ""


def side_call_kind(turn: Turn) -> str | None:
    """What a side call is for, or None for a conversation turn (main or subagent).

    Claude Code's side calls carry no tools: a one-token quota probe, a title or a topic
    check on a small model."""
    body = turn.body
    if body.get("tools"):
        return None
    max_tokens = body.get("max_tokens")
    text = _all_text(body).lower()
    if max_tokens == 1 or text.strip() == "quota":
        return "quota"
    if "title" in text:
        return "title"
    if "topic" in text:
        return "topic"
    model = (turn.model or "").lower()
    if "haiku" in model or (isinstance(max_tokens, int) and max_tokens <= 512):
        return "side"
    return None


def _all_text(body: dict[str, Any]) -> str:
    parts = []
    system = body.get("system")
    if isinstance(system, str):
        parts.append(system)
    elif isinstance(system, list):
        parts += [b.get("text", "") for b in system if isinstance(b, dict)]
    parts.append(first_user_text(body))
    return "\n".join(p for p in parts if isinstance(p, str))[:4000]


class Threader:
    """Labels one session's turns as they come, oldest first: `thread` feeds it a whole
    session, the table's marks (`marks.py`) a few new turns at a time."""

    def __init__(self) -> None:
        #: Agent calls seen so far: prompt -> (tool_use id, request id)
        self.agent_calls: dict[str, tuple[str, str]] = {}
        self.last_call_by: dict[str, str] = {}
        self.started: dict[str, str] = {}

    def label(self, turn: Turn) -> None:
        """Set the turn's `side_call`, `agent_id` and `parent_id`, in place."""
        turn.side_call = side_call_kind(turn)
        if turn.side_call is None:
            if turn.agent_id is None:
                found = self.agent_calls.get(first_user_text(turn.body))
                if found is not None:
                    turn.agent_id, turn.parent_id = found
            if turn.agent_id is not None and turn.parent_id is None:
                turn.parent_id = self.started.get(turn.agent_id) or self.last_call_by.get("main")
            if turn.agent_id is not None:
                self.started.setdefault(turn.agent_id, turn.parent_id or "")
        for call in turn.calls:
            if call.get("name") in AGENT_TOOLS and isinstance(call.get("input"), dict):
                prompt = call["input"].get("prompt")
                if isinstance(prompt, str) and isinstance(call.get("id"), str):
                    self.agent_calls.setdefault(prompt.strip(), (call["id"], turn.id))
                    key = "main" if turn.agent_id is None else turn.agent_id
                    self.last_call_by[key] = turn.id


def thread(turns: Iterable[Turn]) -> list[Turn]:
    """Label side calls and subagents of one session's turns (oldest first), in place."""
    turns = sorted(turns, key=lambda t: (t.t, t.id))
    threader = Threader()
    for turn in turns:
        threader.label(turn)
    return turns


def annotate_rows(store: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add `agent_id`, `parent_id` and `side_call` to listed rows (the `list_requests`
    shape), threading each session the rows belong to."""
    from inspector.analysis.findings import load_sessions

    known: dict[str, Turn] = {}
    for sid in {r.get("session_id") for r in rows if r.get("session_id")}:
        for turns in load_sessions(store, session=sid).values():
            known.update((t.id, t) for t in turns)
    for row in rows:
        turn = known.get(row.get("id"))
        row["agent_id"] = turn.agent_id if turn else None
        row["parent_id"] = turn.parent_id if turn else None
        row["side_call"] = turn.side_call if turn else None
    return rows


def session_tree(turns: list[Turn]) -> list[dict[str, Any]]:
    """One session as Claude Code lives it, for display: the main conversation, each
    subagent (with the request that started it) and each kind of side call, with their
    request count and cost, side calls priced apart. Main first, then in time order."""
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for t in turns:
        if t.side_call:
            key = ("side", t.side_call)
        elif t.agent_id:
            key = ("agent", t.agent_id)
        else:
            key = ("main", None)
        g = groups.setdefault(key, {"kind": key[0], "name": key[1], "parent_id": t.parent_id,
                                    "first_ts": t.ts, "requests": 0, "cost_usd": None,
                                    "models": []})
        g["requests"] += 1
        if t.cost_usd is not None:
            g["cost_usd"] = (g["cost_usd"] or 0.0) + t.cost_usd
        if t.model and t.model not in g["models"]:
            g["models"].append(t.model)
    order = {"main": 0, "agent": 1, "side": 2}
    return sorted(groups.values(), key=lambda g: (order[g["kind"]], g["first_ts"]))
