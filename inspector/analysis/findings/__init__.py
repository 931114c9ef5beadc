"""Findings: why the prompt cache broke, what is injected, what is never used, what a
source costs. Read from the stored captures; no I/O beyond the store.

    find(store, since=..., session=..., kinds=...) -> list[Finding]

Each session's requests are threaded first (`threads.py`: main conversation, subagents,
side calls), then each kind's detector runs over them: `cache.py` for cache breaks,
`context.py` for the rest.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from inspector.analysis.findings import cache, context
from inspector.analysis.findings.model import KINDS, Finding
from inspector.analysis.findings.threads import Turn, thread, turn_of

__all__ = ["KINDS", "Finding", "Turn", "find", "find_in_turns", "load_sessions"]


def load_sessions(store: Any, since: float | None = None, until: float | None = None,
                  session: str | None = None,
                  progress: Callable[[int], None] | None = None) -> dict[Any, list[Turn]]:
    """The period's Messages API requests with known usage, threaded, per session.
    `progress(n)` hears how many requests were read, every hundred."""
    from inspector.store.queries import Filter, iter_exchanges

    f = Filter(since=since, until=until, session=session, limit=0)
    sessions: dict[Any, list[Turn]] = {}
    for n, ex in enumerate(iter_exchanges(store, f, batch=100), start=1):
        turn = turn_of(ex)
        if turn is not None:
            sessions.setdefault(turn.session_id, []).append(turn)
        if progress is not None and n % 100 == 0:
            progress(n)
    return {sid: thread(turns) for sid, turns in sessions.items()}


def find_in_turns(turns: list[Turn], kinds: Iterable[str] = KINDS) -> list[Finding]:
    """Findings of one session's threaded turns (oldest first)."""
    kinds = set(kinds)
    out: list[Finding] = []
    if "cache_break" in kinds:
        chains: dict[Any, list[Turn]] = {}
        for t in turns:
            chains.setdefault(t.chain, []).append(t)
        for chain in chains.values():
            out.extend(cache.cache_breaks(chain))
    detectors = {
        "unused_tool": context.unused_tools, "injection": context.injections,
        "large_tool_result": context.large_tool_results,
        "repeated_read": context.repeated_reads, "compaction": context.compactions,
        "truncation": context.truncations, "what_if": context.what_if,
    }
    for kind, detect in detectors.items():
        if kind in kinds:
            out.extend(detect(turns))
    return out


def find(store: Any, since: float | None = None, until: float | None = None,
         session: str | None = None, kinds: Iterable[str] | None = None,
         progress: Callable[[int], None] | None = None) -> list[Finding]:
    """Findings over the period (and session), most actionable first. `progress(n)`:
    how many requests were read so far (see `load_sessions`)."""
    wanted = tuple(kinds) if kinds else KINDS
    out: list[Finding] = []
    for turns in load_sessions(store, since, until, session, progress).values():
        out.extend(find_in_turns(turns, wanted))
    out.sort(key=lambda f: f.order)
    return out
