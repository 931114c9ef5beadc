"""Findings: why the prompt cache broke, what is injected, what is never used, what a
source costs. Read from the stored captures; no I/O beyond the store.

    find(store, since=..., session=..., kinds=...) -> list[Finding]

Sessions are read one at a time, the most recently active first, so memory holds one
session's requests and a caller can show each session's findings as they come (`each`).
Each session's requests are threaded first (`threads.py`: main conversation, subagents,
side calls), then each kind's detector runs over them: `cache.py` for cache breaks,
`context.py` for the rest.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any, Callable, Iterable, Iterator

from inspector.analysis.findings import cache, context
from inspector.analysis.findings.model import KINDS, Finding
from inspector.analysis.findings.threads import Turn, thread, turn_of

__all__ = ["KINDS", "Finding", "Turn", "find", "find_in_turns", "iter_sessions",
           "load_sessions"]


def iter_sessions(store: Any, since: float | None = None, until: float | None = None,
                  session: str | None = None,
                  progress: Callable[[int], None] | None = None) -> Iterator[list[Turn]]:
    """The period's Messages API requests with known usage, threaded, a session at a
    time, the most recently active first: memory holds one session's requests (the
    requests of a busy week read at once held 5.7 GB). `progress(n)` hears how many
    requests were read, every hundred."""
    from inspector.store.exchanges import iter_exchanges
    from inspector.store.queries import Filter
    from inspector.store.sessions import session_ids

    period = Filter(since=since, until=until, session=session, limit=0)
    read = 0
    for sid in session_ids(store, period):
        # (the session filter takes a prefix: a longer id it also takes is skipped)
        f = replace(period, session=sid) if sid is not None else replace(period,
                                                                         sessionless=True)
        turns: list[Turn] = []
        for ex in iter_exchanges(store, f, batch=100):
            read += 1
            if progress is not None and read % 100 == 0:
                progress(read)
            turn = turn_of(ex)
            if turn is not None and turn.session_id == sid:
                turns.append(turn)
        if turns:
            yield thread(turns)


def load_sessions(store: Any, since: float | None = None, until: float | None = None,
                  session: str | None = None,
                  progress: Callable[[int], None] | None = None) -> dict[Any, list[Turn]]:
    """`iter_sessions` as one dict: session id -> its threaded turns."""
    return {turns[0].session_id: turns
            for turns in iter_sessions(store, since, until, session, progress)}


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
    # both detectors of tool results read the same ledger: made once
    ledger = (context.result_ledger(turns)
              if kinds & {"large_tool_result", "repeated_read"} else None)
    detectors = {
        "unused_tool": context.unused_tools, "injection": context.injections,
        "large_tool_result": partial(context.large_tool_results, ledger=ledger),
        "repeated_read": partial(context.repeated_reads, ledger=ledger),
        "compaction": context.compactions,
        "truncation": context.truncations, "what_if": context.what_if,
    }
    for kind, detect in detectors.items():
        if kind in kinds:
            out.extend(detect(turns))
    return out


def find(store: Any, since: float | None = None, until: float | None = None,
         session: str | None = None, kinds: Iterable[str] | None = None,
         progress: Callable[[int], None] | None = None,
         each: Callable[[list[Finding]], None] | None = None) -> list[Finding]:
    """Findings over the period (and session), most actionable first. `progress(n)`:
    how many requests were read so far (see `iter_sessions`); `each(found)` hears each
    session's findings as soon as they are found."""
    wanted = tuple(kinds) if kinds else KINDS
    out: list[Finding] = []
    for turns in iter_sessions(store, since, until, session, progress):
        found = find_in_turns(turns, wanted)
        out.extend(found)
        if each is not None and found:
            each(found)
    out.sort(key=lambda f: f.order)
    return out
