"""The table's marks, worked out one request at a time (`findings/marks.py`), agree with
the findings report over the whole session, and a second pass reads only new requests."""

from __future__ import annotations

import copy

from inspector.analysis.findings import find
from inspector.analysis.findings.marks import MARKED, MarkReader
from inspector.demo.prompt_cache import PromptCache
from inspector.demo.traffic import demo_session

from .conftest import store_turns
from .test_cache_break_proxy import edited_session
from .test_kinds import _items, session  # noqa: F401 - the fixture, used by name


def every(store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT id FROM requests")]


def reported(store) -> dict[str, str]:
    """request id -> the first kind `find` reports about it: what the table marked before."""
    out: dict[str, str] = {}
    for f in find(store, kinds=MARKED):
        if f.request_id:
            out.setdefault(f.request_id, f.kind)
    return out


def test_marks_match_the_report_on_every_kind(store, session):  # noqa: F811
    ids, _, _ = session
    marks = MarkReader(store).update(every(store))
    assert marks == reported(store)
    assert {"large_tool_result", "repeated_read", "compaction"} <= set(marks.values())
    assert set(marks) <= set(ids)


def test_cache_breaks_marked_as_reported(store):
    clock = [0.0]
    items = [(t.request, t.headers, t.response) for t in edited_session()]
    store_turns(store, items, cache=PromptCache(clock=lambda: clock[0]), clock=clock)
    marks = MarkReader(store).update(every(store))
    assert marks == reported(store)
    assert list(marks.values()).count("cache_break") == 2


def test_truncation_moves_to_the_newest_request(store):
    """The cut skills listing is marked on the newest request only; the deferred tool
    called without its schema stays on the request that called it."""
    items = _items(demo_session(seed=2, turns=3))
    for request, _, _ in items:
        catalog = request["messages"][1]
        catalog["content"] = catalog["content"].replace(
            "</system-reminder>", "- brand-guidelines\n...and 4 more skills\n</system-reminder>")
        request["tools"].append({"name": "mcp__linear__create_issue", "defer_loading": True,
                                 "input_schema": {"type": "object"}})
    items[0][2]["content"].append({"type": "tool_use", "id": "toolu_linear", "name":
                                   "mcp__linear__create_issue", "input": {"title": "x"}})
    reader = MarkReader(store)
    first = store_turns(store, items[:2], start=1_700_000_000.0)
    want = {first[0]: "truncation", first[-1]: "truncation"}
    assert reader.update(every(store)) == want == reported(store)
    later = store_turns(store, items[2:], start=1_700_000_000.0 + 40)
    want = {first[0]: "truncation", later[-1]: "truncation"}
    assert reader.update(every(store)) == want == reported(store)


def test_a_second_pass_reads_only_new_requests(store):
    """Old rows are never read again: the second pass reads the two new requests only,
    and its marks are the report's over the whole session."""
    clock = [0.0]
    items = [(t.request, t.headers, t.response) for t in edited_session()]
    cache = PromptCache(clock=lambda: clock[0])
    head = store_turns(store, copy.deepcopy(items[:-2]), start=1_700_000_000.0, cache=cache,
                       clock=clock)
    reader = MarkReader(store)
    reader.update(head[-3:])  # the table asks about its newest rows
    assert reader.read_ids == head  # the whole session, the first time
    times = [20.0 * i for i in range(len(head), len(items))]
    tail = store_turns(store, copy.deepcopy(items[-2:]), start=1_700_000_000.0, cache=cache,
                       clock=clock, times=times)
    marks = reader.update(head[-3:] + tail)
    assert reader.read_ids == tail
    want = reported(store)
    assert marks == {rid: kind for rid, kind in want.items() if rid in head[-3:] + tail}
    assert reader.update(every(store)) == want and reader.read_ids == []
