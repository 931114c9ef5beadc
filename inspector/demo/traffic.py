"""Realistic Claude Code-like traffic for the demo, the screenshots and the tests.

`demo_session(seed, turns)` plays one invented session: a user asks Claude Code to fix a
login error; the assistant searches with Grep and the docs MCP server, reads a file,
queries the database and GitHub servers, edits the code, runs the tests with Bash, then
loads the release-notes skill and writes the note. Each turn's request extends the
previous one (earlier messages + assistant reply + tool results), as Claude Code does, and
each response carries usage consistent with prompt caching: the first turn writes the
cache, later turns read the previous prefix and write only the new part.

Deterministic for a given seed: the same ids, signatures and sizes every time.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import struct
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

from inspector.attribution import estimate_tokens
from inspector.demo import token_model
from inspector.demo import traffic_text as T

MODEL = "claude-sonnet-4-5-20250929"
CLI_VERSION = "2.0.50"
BETAS = ("claude-code-20250219,interleaved-thinking-2025-05-14,"
         "context-management-2025-06-27,fine-grained-tool-streaming-2025-05-14")


@dataclass
class DemoTurn:
    """One request of the session, its headers (no secrets) and the reply to send."""

    request: dict[str, Any]
    headers: dict[str, str]
    response: dict[str, Any]


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> str:
    """A small solid-colour PNG, base64: a real image with a real header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = b"\x00" + bytes(rgb) * width
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode("ascii")


_SESSION_PY = [
    "from __future__ import annotations", "", "import logging", "from datetime import timedelta", "",
    "from django.conf import settings", "from redis import Redis", "",
    "from shop.auth.tokens import sign, verify", "", "log = logging.getLogger(__name__)", "",
    "SESSION_TTL = timedelta(days=14)", "", "",
    "class RedisSessionStore:", '    """Sessions in Redis, keyed by a signed id."""', "",
    "    def __init__(self, client: Redis | None = None) -> None:",
    "        self.client = client or Redis.from_url(settings.SESSION_REDIS_URL)", "",
    "    def load(self, session_id: str) -> dict | None:",
    "        raw = self.client.get(f\"session:{verify(session_id)}\")",
    "        if raw is None:", "            return None",
    "        return json.loads(raw)", "",
    "    def save(self, session_id: str, data: dict) -> None:",
    "        key = f\"session:{verify(session_id)}\"",
    "        self.client.set(key, json.dumps(data), ex=SESSION_TTL)", "",
    "    def create(self, user_id: int) -> str:",
    "        session_id = sign(uuid4().hex)",
    "        self.save(session_id, {\"user_id\": user_id})",
    "        log.info(\"session created for user %s\", user_id)",
    "        return session_id",
]


def _tool_outputs(rng: random.Random) -> dict[str, Any]:
    """The invented results of each tool call of the story."""
    numbered = "\n".join(f"{i + 1:>6}\t{line}" for i, line in enumerate(_SESSION_PY * 3))
    issues = [{"number": 482 + i, "title": t, "state": s, "labels": ["bug"] if i % 2 == 0 else ["auth"],
               "comments": rng.randint(0, 9), "updated_at": f"2026-11-{20 + i % 4}T0{i}:12:00Z",
               "body": "Login returns HTTP 500 after the session store change. Traceback points at "
                       "session.py: NameError: name 'json' is not defined." if i == 0 else "See thread."}
              for i, (t, s) in enumerate([("Login returns 500 after deploy", "open"),
                                          ("Session expiry shorter than documented", "open"),
                                          ("Rate limit headers missing on /login", "closed"),
                                          ("Flaky test_login_redirect on CI", "open")])]
    rows = "\n".join(f"| {1000 + i} | user{i}@example.com | 2026-11-24 0{i}:1{i}:00 | 500 |" for i in range(8))
    return {
        "Grep": "Found 3 files\n/home/dev/projects/shopfront/src/shop/auth/session.py\n"
                "/home/dev/projects/shopfront/src/shop/auth/views.py\n"
                "/home/dev/projects/shopfront/tests/auth/test_login.py",
        "search_docs": json.dumps([{"path": f"handbook/auth/{p}.md", "title": t, "excerpt": e} for p, t, e in [
            ("sessions", "Sessions and login", "Sessions live in Redis since the November migration; the store serialises session data as JSON..."),
            ("incidents", "Incident checklist", "When a login path fails, check the error budget dashboard first, then the latest deploy..."),
            ("redis", "Redis usage rules", "Keys are namespaced by feature (session:, cart:, rate:) and always carry a TTL...")]], indent=2),
        "Read": numbered,
        "query": [{"type": "text", "text": "| user_id | email | attempted_at | status |\n|---|---|---|---|\n" + rows},
                  {"type": "text", "text": "8 rows (0.004 s)"}],
        "search_issues": json.dumps({"total_count": len(issues), "items": issues}, indent=2),
        "Edit": f"The file {T.CWD}/src/shop/auth/session.py has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n"
                "     1\tfrom __future__ import annotations\n     2\t\n     3\timport json\n     4\timport logging\n     5\tfrom datetime import timedelta",
        "Bash": "============================= test session starts ==============================\n"
                "platform linux -- Python 3.12.7, pytest-8.3.3\ncollected 214 items\n\n"
                + "".join(f"tests/{m} {'.' * rng.randint(6, 30)}\n" for m in
                          ("auth/test_login.py", "auth/test_session.py", "cart/test_cart.py", "orders/test_checkout.py"))
                + "\n============================= 214 passed in 9.81s ==============================",
        "Skill": "Launching skill: release-notes",
    }


# The story: for each assistant reply, the tool calls it makes ((tool name, input) pairs),
# or None for a final text answer.
_STORY: list[list[tuple[str, dict[str, Any]]] | None] = [
    [("Grep", {"pattern": "SessionStore|session:", "path": "src", "output_mode": "files_with_matches"}),
     ("mcp__docs__search_docs", {"query": "login session redis"})],
    [("Read", {"file_path": f"{T.CWD}/src/shop/auth/session.py"}),
     ("mcp__postgres__query", {"sql": "select user_id, email, attempted_at, status from login_attempts where status = 500 order by attempted_at desc limit 8"})],
    [("mcp__github__search_issues", {"query": "repo:acme/shopfront is:issue login 500"}),
     ("Edit", {"file_path": f"{T.CWD}/src/shop/auth/session.py", "old_string": "import logging", "new_string": "import json\nimport logging"})],
    [("Bash", {"command": "uv run pytest -q tests/auth", "description": "Run the auth tests"})],
    [("Skill", {"skill": "release-notes"})],
    None,
]

_THOUGHTS = [
    "The 500 started after the session store moved to Redis. Search for the store and check the handbook.",
    "session.py is the likely culprit; read it and look at the failed logins in staging.",
    "json is used but never imported in session.py. Add the import and check GitHub for an existing issue.",
    "Run the auth tests to confirm the fix.",
    "Tests pass. The user asked for a release note: use the release-notes skill.",
    "Write the release note following the skill's format.",
]

_SAYINGS = [
    "I'll look for the session store and check the handbook on sessions.",
    "Let me read the session store and check the failing logins in staging.",
    "`json` is used in `session.py` but never imported. Adding the import and checking for an existing issue.",
    "Running the auth tests.",
    "All 214 tests pass. Now the release note.",
    "Fixed: login returned HTTP 500 because `src/shop/auth/session.py` used `json` without importing it "
    "(#482). Release note added to `CHANGELOG.md` under Unreleased.",
]

FIRST_WORDS = ("The login endpoint returns a 500 since this morning's deploy (screenshot attached). "
               "Find the cause, fix it, run the auth tests, and draft a release note.")
FOLLOW_UPS = ["Thanks. Is there anything else in session.py that could break the same way?",
              "Good. Can you also check views.py for the same pattern?",
              "Great, that's all for now."]


class _Session:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ids = random.Random(seed + 1)
        self.session_id = str(uuid.UUID(int=self.ids.getrandbits(128), version=4))
        user_id = {"device_id": "%064x" % self.ids.getrandbits(256),
                   "account_uuid": str(uuid.UUID(int=self.ids.getrandbits(128), version=4)),
                   "session_id": self.session_id}
        self.outputs = _tool_outputs(self.rng)
        self.envelope = {
            "model": MODEL, "max_tokens": 32000, "stream": True,
            "metadata": {"user_id": json.dumps(user_id)},
            "thinking": {"type": "enabled", "budget_tokens": 31999},
            "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
            "output_config": {"effort": "high"},
        }
        self.system = [
            {"type": "text", "text": f"x-anthropic-billing-header: cc_version={CLI_VERSION}.{seed % 1000:03x}; cc_entrypoint=cli"},
            {"type": "text", "text": T.IDENTITY, "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": T.MAIN_PROMPT, "cache_control": {"type": "ephemeral"}},
        ]
        self.tools = T.builtin_tools(self.rng) + T.mcp_tools()
        self.messages: list[dict[str, Any]] = [
            {"role": "user", "content": [
                {"type": "text", "text": T.memory_reminder()},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": _png(320, 180, (200, 40, 40))}},
                {"type": "text", "text": FIRST_WORDS}]},
            {"role": "system", "content": T.catalog_text()},
        ]
        self.headers = {
            "anthropic-version": "2023-06-01", "anthropic-beta": BETAS, "x-app": "cli",
            "User-Agent": f"claude-cli/{CLI_VERSION} (external, cli)",
            "X-Claude-Code-Session-Id": self.session_id, "content-type": "application/json",
            "accept": "application/json", "accept-encoding": "gzip, deflate, br, zstd",
        }
        self.cached_prefix = 0

    def _id(self, prefix: str) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789"
        return prefix + "".join(self.ids.choice(alphabet) for _ in range(24))

    def request(self) -> dict[str, Any]:
        messages = copy.deepcopy(self.messages)
        last = messages[-1]["content"]
        if isinstance(last, list) and last:
            last[-1]["cache_control"] = {"type": "ephemeral"}
        return {**copy.deepcopy(self.envelope), "system": copy.deepcopy(self.system),
                "tools": copy.deepcopy(self.tools), "messages": messages}

    def reply(self, step: int, request: dict[str, Any]) -> dict[str, Any]:
        calls = _STORY[step] if step < len(_STORY) else (
            [("Read", {"file_path": f"{T.CWD}/src/shop/auth/views.py"})] if step % 2 == 0 else None)
        thought = _THOUGHTS[min(step, len(_THOUGHTS) - 1)]
        saying = _SAYINGS[step] if step < len(_SAYINGS) else "Done: nothing else uses that pattern."
        signature = base64.b64encode(self.rng.randbytes(180)).decode("ascii")
        content: list[dict[str, Any]] = [{"type": "thinking", "thinking": thought, "signature": signature},
                                         {"type": "text", "text": saying}]
        for name, tool_input in calls or []:
            content.append({"type": "tool_use", "id": self._id("toolu_01"), "name": name, "input": tool_input})
        prompt = token_model.count_request(request)
        fresh = self.rng.randint(3, 12)
        # A new user turn drops earlier thinking from the prompt, so it can shrink below
        # the cached prefix; the read never exceeds what this prompt holds.
        read = min(self.cached_prefix, max(prompt - fresh - 1, 0))
        created = max(prompt - read - fresh, 0)
        self.cached_prefix = read + created
        usage = {"input_tokens": fresh, "cache_creation_input_tokens": created,
                 "cache_read_input_tokens": read,
                 "cache_creation": {"ephemeral_5m_input_tokens": created, "ephemeral_1h_input_tokens": 0},
                 "output_tokens": sum(estimate_tokens(json.dumps(c)) for c in content[1:]) + estimate_tokens(thought),
                 "service_tier": "standard"}
        return {"id": self._id("msg_01"), "type": "message", "role": "assistant", "model": MODEL,
                "content": content, "stop_reason": "tool_use" if calls else "end_turn",
                "stop_sequence": None, "usage": usage}

    def advance(self, response: dict[str, Any], step: int) -> None:
        """Append the reply and the next user turn (tool results, or new words)."""
        self.messages.append({"role": "assistant", "content": copy.deepcopy(response["content"])})
        calls = [c for c in response["content"] if c["type"] == "tool_use"]
        if not calls:
            words = FOLLOW_UPS[(step // 2) % len(FOLLOW_UPS)]
            self.messages.append({"role": "user", "content": [{"type": "text", "text": words}]})
            return
        blocks: list[dict[str, Any]] = []
        for call in calls:
            short = call["name"].rsplit("__", 1)[-1]
            output = self.outputs.get(short, "(no output)")
            blocks.append({"type": "tool_result", "tool_use_id": call["id"], "content": output})
        if any(c["name"] == "Bash" for c in calls):
            blocks.append({"type": "text", "text": "<system-reminder>\nThe TodoWrite tool hasn't been used "
                           "recently. If the task has several steps, consider tracking them with it. "
                           "Ignore this reminder if it does not apply.\n</system-reminder>"})
        if any(c["name"] == "Skill" for c in calls):
            blocks.append({"type": "text", "text": T.SKILL_BODY})
        self.messages.append({"role": "user", "content": blocks})


def demo_session(seed: int = 0, turns: int = 6) -> list[DemoTurn]:
    """`turns` requests of one Claude Code-like session, each extending the previous one."""
    session = _Session(seed)
    out = []
    for step in range(max(turns, 0)):
        request = session.request()
        response = session.reply(step, request)
        out.append(DemoTurn(request=request, headers=dict(session.headers), response=response))
        session.advance(response, step)
    return out


def plain_sdk_request() -> dict[str, Any]:
    """What a plain SDK client sends: a string system prompt, no tools."""
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 1024,
        "system": "You are a concise assistant that answers questions about Python packaging.",
        "messages": [
            {"role": "user", "content": "What is the difference between a wheel and an sdist?"},
            {"role": "assistant", "content": "A wheel is a built package ready to install; an sdist is the source to build one from."},
            {"role": "user", "content": "And when should I publish both?"},
        ],
    }
