"""Reading the newest request of a long session: its history in one query, few frames."""

from __future__ import annotations

import json
import random

from capture.fixtures import make_exchange, request_body, stream_bytes

from inspector.capture import build_capture
from inspector.store import Record, Store

WORDS = "def return self import value result error test file path line data cache".split()


def _session(turns: int) -> list[dict]:
    rng = random.Random(2)
    body = request_body(big=6000)
    bodies = []
    for turn in range(turns):
        bodies.append(json.loads(json.dumps(body)))
        output = " ".join(rng.choice(WORDS) for _ in range(500))
        body["messages"] = body["messages"] + [
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": f"toolu_{turn:04d}", "name": "Read",
                 "input": {"file_path": f"/src/m{turn}.py"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": f"toolu_{turn:04d}", "content": output}]}]
    return bodies


def _write(path, bodies) -> list[tuple[str, str]]:
    out = []
    with Store(path) as store:
        for body in bodies:
            sent = json.dumps(body)
            cap = build_capture(make_exchange(sent.encode(), stream_bytes()))
            store.write([Record(cap)])
            out.append((cap.id, sent))
    return out


def test_a_cold_read_of_a_long_history_is_one_query_and_exact(tmp_path):
    written = _write(tmp_path / "c.db", _session(30))
    newest, sent = written[-1]
    with Store(tmp_path / "c.db", readonly=True) as store:
        stored = store.execute("SELECT body FROM requests WHERE id = ?", (newest,)).fetchone()[0]
        queries: list[str] = []
        store.conn.set_trace_callback(queries.append)
        assert store.body_text(stored) == sent
        assert len([q for q in queries if "blobs" in q]) == 1, queries
        # a short message hardly compresses: its chain part is kept as text, so a read
        # decompresses only the parts where compression pays
        kinds = store.execute("SELECT typeof(data), count(*) FROM blobs GROUP BY 1").fetchall()
    assert dict(kinds).get("text", 0) >= 30, kinds


def test_reading_the_turns_in_order_gives_each_body_as_sent(tmp_path):
    written = _write(tmp_path / "c.db", _session(12))
    with Store(tmp_path / "c.db", readonly=True) as store:
        for rid, sent in written:
            stored = store.execute("SELECT body FROM requests WHERE id = ?", (rid,)).fetchone()[0]
            assert store.body_text(stored) == sent
