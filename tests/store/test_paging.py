"""Keyset paging of the list and sessions grouped in SQL, against the plain answers."""

from __future__ import annotations

import dataclasses
import random

import pytest

from inspector.ids import new_id
from inspector.store import Filter, NotFound, Store, list_requests, sessions
from inspector.timeparse import iso_utc

from .helpers import record


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """60 captures over up to 12 sessions (some sharing a timestamp), some without usage,
    cost or session."""
    path = tmp_path_factory.mktemp("paging") / "c.db"
    store = Store(path)
    template = record(ago=0)
    rng = random.Random(7)
    base = 1_760_000_000.0
    recs = []
    for i in range(60):
        t = base + i * 10 + (0 if i % 9 else -10)  # every 9th shares its neighbour's time
        cap = dataclasses.replace(
            template.capture, id=new_id(t), ts=iso_utc(t),
            session_id=None if i % 13 == 5 else f"s-{rng.randrange(12):02d}",
            model=("claude-sonnet-4-5", "claude-opus-4-1")[i % 4 == 0],
            usage=dataclasses.replace(template.capture.usage,
                                      input_tokens=None if i % 11 == 3 else 100 + i,
                                      output_tokens=i))
        recs.append(dataclasses.replace(template, capture=cap,
                                        cost_usd=None if i % 7 == 2 else 0.001 * i))
    store.write(recs)
    yield store
    store.close()


def test_keyset_pages_equal_offset_pages(filled):
    for f in (Filter(), Filter(model="claude-opus-4-1"), Filter(session="s-0")):
        everything = [r["id"] for r in list_requests(filled, dataclasses.replace(f, limit=0))]
        assert everything
        for size in (1, 7, 20):
            pages, anchor = [], None
            while True:
                page = list_requests(filled, dataclasses.replace(f, limit=size, before_id=anchor))
                if not page:
                    break
                pages += [r["id"] for r in page]
                anchor = page[-1]["id"]
            assert pages == everything
            # page up from anywhere gives the rows just above, newest first
            for k in range(0, len(everything), 5):
                up = list_requests(filled, dataclasses.replace(
                    f, limit=size, after_id=everything[k]))
                assert [r["id"] for r in up] == everything[max(0, k - size):k]
            # offset keeps working, also after an anchor
            assert [r["id"] for r in list_requests(filled, dataclasses.replace(
                f, limit=size, offset=3))] == everything[3:3 + size]
            assert [r["id"] for r in list_requests(filled, dataclasses.replace(
                f, limit=size, offset=2, before_id=everything[0]))] == everything[3:3 + size]


def test_keyset_anchor_that_is_gone(filled):
    with pytest.raises(NotFound):
        list_requests(filled, Filter(before_id="no-such-id"))


def _sessions_by_hand(store: Store, f: Filter) -> list[dict]:
    rows = list_requests(store, dataclasses.replace(f, limit=0, offset=0))
    rows.sort(key=lambda r: (r["ts"], r["id"]))
    out: dict[str, dict] = {}
    for r in rows:
        if r["session_id"] is None:
            continue
        s = out.setdefault(r["session_id"], {
            "session_id": r["session_id"], "requests": 0, "first_ts": r["ts"],
            "last_ts": r["ts"], "prompt_tokens": [], "output_tokens": 0, "cost_usd": None})
        s["requests"] += 1
        s["last_ts"] = r["ts"]
        inp = r["input_tokens"]
        s["prompt_tokens"].append(None if inp is None else inp + (r["cache_read_tokens"] or 0)
                                  + (r["cache_creation_tokens"] or 0))
        s["output_tokens"] += r["output_tokens"] or 0
        if r["cost_usd"] is not None:
            s["cost_usd"] = (s["cost_usd"] or 0.0) + r["cost_usd"]
    return sorted(out.values(), key=lambda s: (s["last_ts"], _neg(s["first_ts"]),
                                               _neg(s["session_id"])), reverse=True)


def _neg(text: str) -> tuple:
    return tuple(-ord(c) for c in text)


def _same(got: list[dict], want: list[dict]) -> None:
    assert [s["session_id"] for s in got] == [s["session_id"] for s in want]
    for a, b in zip(got, want):
        assert {k: v for k, v in a.items() if k != "cost_usd"} == \
            {k: v for k, v in b.items() if k != "cost_usd"}
        assert a["cost_usd"] == pytest.approx(b["cost_usd"])


def test_sessions_in_sql_equal_the_plain_grouping(filled):
    for f in (Filter(limit=0), Filter(model="claude-sonnet-4-5", limit=0),
              Filter(since=1_760_000_200.0, limit=0), Filter(session="s-1", limit=0)):
        want = _sessions_by_hand(filled, f)
        assert want
        _same(sessions(filled, f), want)
        _same(sessions(filled, dataclasses.replace(f, limit=3, offset=2)), want[2:5])
        _same(sessions(filled, f, limit=4), want[:4])
    # the default page (Filter.limit, 20) holds them all
    assert len(sessions(filled, Filter())) == len(_sessions_by_hand(filled, Filter())) >= 8
