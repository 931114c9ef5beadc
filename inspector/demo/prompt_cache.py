"""A simulated prompt cache for the stub API, close enough to the real one to test what
breaks it.

The Messages API caches a prompt prefix that ends at a `cache_control` breakpoint. The
prefix runs in the order tools, system, messages; its key is the exact content of every
block up to the breakpoint (the `cache_control` markers themselves do not count, so a
marker that moves to the newest message leaves earlier prefixes valid). A request reads
the longest cached prefix it finds at or up to 20 blocks before each of its breakpoints,
and writes a cache entry at each breakpoint past what it read. An entry lives 5 minutes
(1 hour when its breakpoint asks for `"ttl": "1h"`), renewed on every read. Prefixes
shorter than the model's minimum (1024 tokens) are not cached.

Tokens are counted as one per 4 characters of each block's compact JSON: not the real
tokenizer, but stable, so the figures add up from request to request.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any, Callable

#: how far before a breakpoint the API looks for a cached prefix
LOOKBACK = 20
#: shortest prefix the API caches
MIN_TOKENS = 1024
TTL_5M = 300.0
TTL_1H = 3600.0

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def _blocks(request: dict[str, Any]) -> list[tuple[str, int, float | None]]:
    """(key text, tokens, TTL if it is a breakpoint) for each block, in cache order."""
    out: list[tuple[str, int, float | None]] = []

    def add(tag: str, block: Any) -> None:
        marker = block.get("cache_control") if isinstance(block, dict) else None
        if isinstance(block, dict) and "cache_control" in block:
            block = {k: v for k, v in block.items() if k != "cache_control"}
        text = tag + _encode(block)
        ttl = None
        if isinstance(marker, dict):
            ttl = TTL_1H if marker.get("ttl") == "1h" else TTL_5M
        out.append((text, max(1, len(text) // 4), ttl))

    tools = request.get("tools")
    for tool in tools if isinstance(tools, list) else ():
        add("tool:", tool)
    system = request.get("system")
    if isinstance(system, str):
        add("system:", {"type": "text", "text": system})
    elif isinstance(system, list):
        for block in system:
            add("system:", block)
    messages = request.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, dict):
            add("message:", message)
            continue
        role = str(message.get("role"))
        content = message.get("content")
        if isinstance(content, list):
            for block in content:
                add(f"{role}:", block)
        else:
            add(f"{role}:", {"type": "text", "text": content})
    return out


class PromptCache:
    """Prefix cache shared by every request the stub answers (as the API's is shared by
    an organisation's requests). `clock` gives seconds; tests pass a fake one."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._entries: dict[tuple[str, str], tuple[float, float]] = {}  # -> (expiry, ttl)
        self._lock = threading.Lock()

    def usage(self, request: dict[str, Any]) -> dict[str, Any]:
        """The `usage` the API would report for this request, updating the cache."""
        blocks = _blocks(request)
        model = str(request.get("model"))
        keys, sums = [], []
        digest = hashlib.sha256()
        total = 0
        for text, tokens, _ in blocks:
            digest.update(text.encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
            keys.append((model, digest.hexdigest()))
            total += tokens
            sums.append(total)
        breakpoints = [i for i, (_, _, ttl) in enumerate(blocks) if ttl is not None]
        now = self.clock()
        with self._lock:
            hit = -1
            for b in breakpoints:
                for i in range(b, max(b - LOOKBACK, -1), -1):
                    entry = self._entries.get(keys[i])
                    if entry is not None and entry[0] > now:
                        hit = max(hit, i)
                        self._entries[keys[i]] = (now + entry[1], entry[1])
                        break
            read = sums[hit] if hit >= 0 else 0
            written_5m = written_1h = 0
            last = read
            for b in breakpoints:
                if b <= hit or sums[b] < MIN_TOKENS:
                    continue
                ttl = blocks[b][2] or TTL_5M
                self._entries[keys[b]] = (now + ttl, ttl)
                if ttl == TTL_1H:
                    written_1h += sums[b] - last
                else:
                    written_5m += sums[b] - last
                last = sums[b]
        created = written_5m + written_1h
        return {
            "input_tokens": max(total - read - created, 0),
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": created,
            "cache_creation": {"ephemeral_5m_input_tokens": written_5m,
                               "ephemeral_1h_input_tokens": written_1h},
        }

    def apply(self, request: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
        """`message` with its usage's prompt side replaced by what the cache says."""
        usage = dict(message.get("usage") or {})
        usage.update(self.usage(request))
        return dict(message, usage=usage)
