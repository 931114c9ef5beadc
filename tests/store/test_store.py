"""The Store on real SQLite files: schema, round trips, shared parts, queries, purge."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime

import pytest
from capture.fixtures import FINAL_MESSAGE, request_body

from inspector.store import (
    AmbiguousId, Filter, NotFound, Store, count_requests, get_exchange, iter_exchanges,
    list_requests, retention_purge, sessions,
)
from inspector.store.migrations import SCHEMA_VERSION
from inspector.store.queries import LIST_FIELDS, totals

from .helpers import record


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "captures.db")
    yield s
    s.close()


def test_migrations_create_schema_and_version(tmp_path):
    path = tmp_path / "c.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"requests", "responses", "feedback", "blobs", "analysis_source_days"} <= tables
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"requests_ts", "requests_session_ts", "requests_model_ts"} <= indexes
    applied = conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
    conn.close()
    assert applied == SCHEMA_VERSION
    # opening again applies nothing twice
    s = Store(path)
    assert s.schema_version == SCHEMA_VERSION
    s.close()


def test_round_trip_full_exchange(store):
    rec = record(sources={"mcp:github": 500, "tool:Bash": 200, "memory": 50})
    store.write([rec])
    ex = get_exchange(store, rec.capture.id[:16])
    assert ex["request"]["body"] == request_body(big=2000)
    assert ex["response"]["body"] == FINAL_MESSAGE
    assert ex["response"]["raw_sse"].startswith("event: message_start")
    assert ex["response"]["stream_complete"] is True
    assert ex["usage"]["cache_creation_1h_tokens"] == 2000
    assert ex["timings"]["ttfb_ms"] == pytest.approx(350)
    assert ex["attribution"] == rec.attribution.to_dict()
    assert ex["top_source"] == "mcp:github" and ex["cost_usd"] == 0.01
    assert store.get(rec.capture.id) == ex
    assert store.get("zzzz") is None


def test_big_parts_stored_once(store):
    recs = [record(big=80_000, user_text=f"turn {i}") for i in range(20)]
    store.write(recs)
    blobs = store.query("SELECT count(*) AS n, sum(size) AS size FROM blobs")[0]
    assert blobs["n"] == 2  # system and tools, shared by all 20
    assert 80_000 < blobs["size"] < 90_000
    body_chars = store.query("SELECT max(length(body)) AS m FROM requests")[0]["m"]
    assert body_chars < 2000
    assert get_exchange(store, recs[7].capture.id)["request"]["body"]["messages"][0][
        "content"][0]["text"] == "turn 7"


def test_prefix_ambiguity_and_not_found(store):
    recs = [record() for _ in range(3)]
    store.write(recs)
    with pytest.raises(AmbiguousId, match="ambiguous"):
        get_exchange(store, recs[0].capture.id[:4])
    with pytest.raises(NotFound):
        get_exchange(store, "zzzzzz")


def test_list_filters(store):
    store.write([
        record(ago=10, model="claude-opus-4-1-20250805", session="s-aaa", sources={"mcp:github": 9}),
        record(ago=7200, model="claude-sonnet-4-5-20250929", session="s-bbb", status=429,
               sources={"tool:Bash": 9}),
        record(ago=5 * 86400, session="s-aaa", sources={"mcp:linear": 3, "memory": 7}),
    ])
    now = time.time()
    rows = list_requests(store, Filter())
    assert [list(r) for r in rows] == [list(LIST_FIELDS)] * 3
    assert rows[0]["ts"] > rows[1]["ts"] > rows[2]["ts"]  # newest first
    assert len(list_requests(store, Filter(since=now - 3600))) == 1
    assert len(list_requests(store, Filter(until=now - 3600))) == 2
    assert [r["model"] for r in list_requests(store, Filter(model="*opus*"))] == [
        "claude-opus-4-1-20250805"]
    assert len(list_requests(store, Filter(session="s-aaa"))) == 2
    assert len(list_requests(store, Filter(session="s-a"))) == 2  # prefix
    assert [r["status"] for r in list_requests(store, Filter(status=429))] == [429]
    assert len(list_requests(store, Filter(source="mcp:github"))) == 1
    assert len(list_requests(store, Filter(source="mcp:"))) == 2
    assert len(list_requests(store, Filter(text="weather"))) == 3
    assert len(list_requests(store, Filter(limit=1, offset=1))) == 1
    assert count_requests(store, Filter(source="mcp:")) == 2
    assert count_requests(store, Filter(status=429)) == 1
    t = totals(store, Filter(since=now - 3600))
    assert t["requests"] == 1 and t["prompt_tokens"] == 472 + 18000 + 2100


def test_sessions_in_turn_order(store):
    store.write([record(ago=30, session="s1"), record(ago=20, session="s1"),
                 record(ago=10, session="s2")])
    out = sessions(store, Filter())
    assert [s["session_id"] for s in out] == ["s2", "s1"]
    s1 = out[1]
    assert s1["requests"] == 2 and s1["prompt_tokens"] == [20572, 20572]
    assert s1["output_tokens"] == 178 and s1["cost_usd"] == pytest.approx(0.02)
    assert s1["first_ts"] < s1["last_ts"]


def test_iter_exchanges_pages_in_order(store):
    recs = [record(ago=100 - i) for i in range(23)]
    store.write(recs)
    got = list(iter_exchanges(store, Filter(), batch=5))
    assert [e["id"] for e in got] == [r.capture.id for r in recs]
    since = datetime.fromisoformat(recs[13].capture.ts.replace("Z", "+00:00")).timestamp()
    assert [e["id"] for e in iter_exchanges(store, Filter(since=since), batch=4)] == [
        r.capture.id for r in recs[13:]]


def test_set_attribution_and_feedback(store):
    rec = record()
    store.write([rec])
    assert get_exchange(store, rec.capture.id)["attribution"] is None
    store.set_attribution(rec.capture.id, record(sources={"skill:pdf": 9, "memory": 3}).attribution, 0.5)
    ex = get_exchange(store, rec.capture.id)
    assert ex["top_source"] == "skill:pdf" and ex["cost_usd"] == 0.5
    assert len(list_requests(store, Filter(source="skill:pdf"))) == 1
    store.add_feedback(rec.capture.id, 1, "useful")
    assert get_exchange(store, rec.capture.id)["feedback"][0]["note"] == "useful"
    store.set_attribution(rec.capture.id, None, None)
    assert get_exchange(store, rec.capture.id)["attribution"] is None


def test_purge_and_retention(store):
    old = [record(ago=40 * 86400, big=50_000, user_text="old"), record(ago=35 * 86400)]
    new = record(ago=60, big=3000)
    store.write(old + [new])
    store.add_feedback(old[0].capture.id, -1)
    assert retention_purge(store, 30) == 2
    assert retention_purge(store, 0) == 0
    assert count_requests(store, Filter()) == 1
    for table in ("responses", "feedback", "request_sources", "analysis_request_sources"):
        ids = {r["request_id"] for r in store.query(f"SELECT request_id FROM {table}")}
        assert ids <= {new.capture.id}
    # the 50 KB parts only the old capture used are gone; the new one's remain
    sizes = sorted(r["size"] for r in store.query("SELECT size FROM blobs"))
    assert all(s < 10_000 for s in sizes) and sizes
    assert get_exchange(store, new.capture.id)["request"]["body"]["model"]


def test_readers_read_while_a_writer_writes(tmp_path):
    path = tmp_path / "c.db"
    writer, reader = Store(path), Store(path)
    writer.write([record()])
    writer.conn.execute("BEGIN IMMEDIATE")
    writer.conn.execute("UPDATE requests SET model = 'x'")
    assert count_requests(reader, Filter()) == 1  # WAL: not blocked by the open write
    writer.conn.execute("COMMIT")
    writer.close()
    reader.close()


def test_shared_parts_cut_from_original_text_round_trip_exactly():
    from inspector.store.bodies import expand, join, split_json, split_text

    body = request_body(big=6000)
    body["messages"].append({"role": "assistant", "content": "z" * 3000})
    body["messages"].append({"role": "user", "content": "and then?"})
    for text in (json.dumps(body), json.dumps(body, indent=2), " \n" + json.dumps(body) + "\n"):
        split = split_text(text)
        # system, tools, the big message, and the history chain: the short first
        # message, then one naming it and the big one
        assert len(split.parts) == 5 and len(split.text) < 1500
        assert "and then?" in split.text  # the last message stays searchable
        pieces = expand(split.text, lambda hashes: split.parts)
        assert join(pieces, split.parts) == text  # byte-for-byte what the client sent
    split = split_json(body)
    assert json.loads(join(expand(split.text, lambda h: split.parts), split.parts)) == body
    assert split_text("[1, 2]") is None and split_text('{"a": 1') is None
    assert split_text('{"system": "x", "tools": []}').text == '{"system": "x", "tools": []}'
    assert split_text('{"system": "\x01"}') is None


def test_history_is_stored_once_per_session(store):
    """A session's turns share the chain of their common history: what each turn adds
    to the shared parts is its new messages, not the whole conversation again."""
    from inspector.store.bodies import split_text

    body = request_body(big=3000)
    seen: dict[str, str] = {}
    added = []
    for turn in range(12):
        body["messages"] += [{"role": "assistant", "content": f"reply {turn} " + "r" * 2000},
                             {"role": "user", "content": f"next {turn} " + "u" * 300}]
        split = split_text(json.dumps(body))
        new = {h: t for h, t in split.parts.items() if h not in seen}
        seen.update(new)
        added.append(sum(map(len, new.values())))
        assert len(split.direct) == 3  # system, tools, the history: never more markers
    assert max(added[2:]) < 3000  # the new reply and question, with a few markers


def test_export_escaping_of_stored_bodies_matches_json(store):
    from inspector.export.har import escaped_text
    from inspector.store.exchanges import StoredJSON

    recs = [record(big=9000, user_text='quote " backslash \\ newline \n tab \t é ☃')
            for _ in range(2)]
    store.write(recs)
    for ex in iter_exchanges(store, Filter(), parse_bodies=False):
        body = ex["request"]["body"]
        assert isinstance(body, StoredJSON) and len(body.parts) > 1
        assert escaped_text(body) == json.dumps(str(body), ensure_ascii=False)
        assert json.loads(str(body))["messages"][0]["content"][0]["text"].endswith("☃")
