"""Big bodies: read once, held once, stored whole, attributed as if parsed in full."""

from __future__ import annotations

import base64
import gzip
import json
import random
import tracemalloc

import pytest

from inspector.attribution import attribute
from inspector.capture import build_capture
from inspector.model import Node
from inspector.runtime.pipeline import prepare_record
from inspector.store import Record, Store, get_exchange

from .fixtures import make_exchange

MODEL = "claude-sonnet-4-5-20250929"


def _document_body(mb: float, text_chars: int = 0) -> dict:
    rng = random.Random(5)
    data = base64.b64encode(rng.randbytes(int(mb * (1 << 20) * 3 / 4))).decode()
    content = [{"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                               "data": data}},
               {"type": "text", "text": "summarise this"}]
    if text_chars:
        content.append({"type": "text", "text": ('line "quoted"\n' * (text_chars // 14))})
    return {"model": MODEL, "max_tokens": 100, "system": "You are helpful.",
            "messages": [{"role": "user", "content": content},
                         {"role": "assistant", "content": "Sure."},
                         {"role": "user", "content": [
                             {"type": "image", "source": {"type": "base64",
                                                          "media_type": "image/png",
                                                          "data": data[:2 << 20]}}]}]}


def _reply(chars: int) -> dict:
    return {"id": "msg_big", "type": "message", "role": "assistant", "model": MODEL,
            "content": [{"type": "text", "text": ("lorem ipsum \"dolor\"\n" * (chars // 20))}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 1234, "output_tokens": 567}}


def _flat(node: Node) -> list:
    return [(node.kind, node.label, node.chars, node.tokens, node.path)] + [
        row for child in node.children for row in _flat(child)]


def test_elided_parse_keeps_structure_and_lengths():
    from inspector.capture.elide import Elided, parse_elided

    body = _document_body(3, text_chars=1_500_000)
    text = json.dumps(body)
    full = json.loads(text)
    elided = parse_elided(text)
    data = elided["messages"][0]["content"][0]["source"]["data"]
    real = full["messages"][0]["content"][0]["source"]["data"]
    assert isinstance(data, Elided) and len(data) == len(real) and real.startswith(data)
    assert len(str.__str__(data)) < 1000  # the stand-in holds a head, not the data
    # a long text is parsed in full (its attribution needs it) unless told otherwise
    assert elided["messages"][0]["content"][2] == full["messages"][0]["content"][2]
    assert isinstance(parse_elided(text, keep_text=False)["messages"][0]["content"][2]["text"],
                      Elided)
    # everything else is exactly the parse
    for msg in (elided, full):
        msg["messages"][0]["content"][0]["source"]["data"] = "x"
        msg["messages"][2]["content"][0]["source"]["data"] = "x"
    assert elided == full


def test_attribution_of_an_elided_body_equals_the_full_one():
    from inspector.capture.elide import parse_elided, restore_sizes

    body = _document_body(5)
    text = json.dumps(body)
    elided = parse_elided(text)
    node = attribute(elided)
    restore_sizes(node, elided)
    assert _flat(node) == _flat(attribute(json.loads(text)))


def test_a_huge_request_is_read_once_stored_whole_and_attributed(home):
    body = _document_body(12)
    sent = json.dumps(body).encode()
    ex = make_exchange(sent, json.dumps(_reply(200)).encode(),
                       req_headers=[("content-type", "application/json")],
                       resp_headers=[("content-type", "application/json")])
    tracemalloc.start()
    try:
        rec = prepare_record(ex)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # one copy of the body as text, and little else: not bytes + text + parse + more
    assert peak < 1.5 * len(sent), peak / len(sent)
    assert rec.capture.request_text.encode() == sent
    assert rec.attribution is not None
    assert _flat(rec.attribution) == _flat(attribute(body, rec.capture.usage))
    with Store(home / "c.db") as store:
        store.write([rec])
        stored = get_exchange(store, rec.capture.id)
    assert stored["request"]["body"] == body


@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_a_huge_json_reply_is_held_once_and_stored_as_it_came(home, encoding):
    reply = _reply(10 << 20)
    data = json.dumps(reply).encode()
    headers = [("content-type", "application/json")]
    if encoding:
        data = gzip.compress(data, 1)
        headers.append(("content-encoding", encoding))
    ex = make_exchange(json.dumps({"model": MODEL, "messages": []}).encode(), data,
                       resp_headers=headers)
    tracemalloc.start()
    try:
        cap = build_capture(ex)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = len(json.dumps(reply))
    assert peak < 1.5 * size + (len(data) if encoding else 0), peak / size
    assert cap.usage.input_tokens == 1234 and cap.stop_reason == "end_turn"
    assert cap.response_note is None
    with Store(home / "c.db") as store:
        store.write([Record(cap)])
        stored = get_exchange(store, cap.id)
    assert stored["response"]["body"] == reply


def test_the_elided_parse_keeps_no_reference_to_the_body():
    """Nothing of the parse may hold the body's text once it returns: a reference cycle
    there kept a 32 MB text alive in the recorder until the garbage collector ran."""
    import gc
    import sys

    from inspector.capture.elide import parse_elided

    text = json.dumps(_document_body(2, text_chars=1_200_000))
    before = sys.getrefcount(text)
    gc.disable()
    try:
        for keep_text in (True, False):
            parsed = parse_elided(text, keep_text=keep_text)
            assert sys.getrefcount(text) == before
            del parsed
    finally:
        gc.enable()
