"""Big shared parts (a base64 document) are cut, hashed and stored without copies."""

from __future__ import annotations

import base64
import json
import random
import tracemalloc

from capture.fixtures import make_exchange

from inspector.capture import build_capture
from inspector.store import Record, Store, get_exchange
from inspector.store import bodies


def _body(mb: float) -> dict:
    rng = random.Random(3)
    data = base64.b64encode(rng.randbytes(int(mb * (1 << 20) * 3 / 4))).decode()
    doc = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                          "data": data}}
    return {"model": "claude-sonnet-4-5-20250929", "max_tokens": 10, "system": "s" * 3000,
            "messages": [{"role": "user", "content": [doc, {"type": "text", "text": "é"}]},
                         {"role": "assistant", "content": "Sure, ünïcode " * 200},
                         {"role": "user", "content": "and now?"}]}


def test_big_strings_anywhere_are_walked_around_exactly():
    body = _body(4.5)
    body["tools"] = [{"name": "Big", "description": 'say "hi"\\n\n' * 120_000}]
    body["system"] = "é" * (1 << 20)
    body["messages"].insert(1, {"role": "assistant", "content": "x" * (2 << 20)})
    text = json.dumps(body, ensure_ascii=False)
    assert bodies._spans_without_big(text) == bodies._value_spans(text)
    split = bodies.split_text(text)
    assert len(split.spans) == 4  # tools, system, and the two big messages
    assert bodies.join(bodies.expand(split.text, lambda h: split.all_parts()),
                       split.all_parts()) == text


def test_a_big_part_is_named_by_its_span_not_copied():
    text = json.dumps(_body(6), ensure_ascii=False)
    tracemalloc.start()
    try:
        split = bodies.split_text(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert split is not None
    assert peak < 3 << 20, peak  # neither copied nor decoded: a slice at a time
    assert len(split.spans) == 1 and split.source is text
    (start, end), = split.spans.values()
    assert end - start > 6 << 20 and text[start:end].startswith('{"role": "user"')
    # the walk that leaves big strings out finds the same spans as the full one
    assert bodies._spans_without_big(text) == bodies._value_spans(text)
    pieces = bodies.expand(split.text, lambda hashes: split.all_parts())
    assert bodies.join(pieces, split.all_parts()) == text


def test_a_big_part_is_stored_whole_and_read_back(tmp_path):
    body = _body(5)
    sent = json.dumps(body, ensure_ascii=False).encode()
    cap = build_capture(make_exchange(sent, b'{"type": "message", "content": []}',
                                      req_headers=[("content-type", "application/json")],
                                      resp_headers=[("content-type", "application/json")]))
    with Store(tmp_path / "c.db") as store:
        tracemalloc.start()
        try:
            store.write([Record(cap)])
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # packed a slice at a time through a file: no copy of the part, packed or not
        assert peak < 3 << 20, peak
        got = get_exchange(store, cap.id)
        size = store.conn.execute("SELECT max(size) FROM blobs").fetchone()[0]
    assert got["request"]["body"] == body
    assert size > 5 << 20
    # and a second write of the same part finds it stored
    with Store(tmp_path / "c.db") as store:
        cap.id = cap.id[:-1] + ("0" if cap.id[-1] != "0" else "1")
        store.write([Record(cap)])
        assert store.conn.execute("SELECT count(*) FROM blobs WHERE size > 5000000"
                                  ).fetchone()[0] == 1
        assert get_exchange(store, cap.id)["request"]["body"] == body
