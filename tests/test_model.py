from __future__ import annotations

from inspector.ids import new_id
from inspector.model import CapturedBody, Node, Usage


def test_captured_body_caps_and_spools():
    body = CapturedBody(limit=100, spool_bytes=10)
    for _ in range(30):
        body.append(b"abcdefg")
    assert body.size == 210
    assert body.truncated
    assert body.getvalue() == (b"abcdefg" * 30)[:100]
    body.close()


def test_captured_body_small_stays_in_memory():
    body = CapturedBody(limit=1 << 20)
    body.append(b"hello ")
    body.append(b"world")
    assert body.getvalue() == b"hello world" and not body.truncated and body.size == 11


def test_ids_sort_by_time():
    a, b = new_id(1000.0), new_id(2000.0)
    assert len(a) == 20 and a < b


def test_an_id_tells_its_time():
    from inspector.ids import id_time

    assert id_time(new_id(1_795_000_000.123)) == 1_795_000_000.123
    assert id_time(new_id(1_795_000_000.123).upper()) == 1_795_000_000.123
    assert id_time("not-an-id!") is None and id_time("0123") is None


def test_usage_prompt_tokens():
    u = Usage.from_api({"input_tokens": 10, "cache_read_input_tokens": 100,
                        "cache_creation_input_tokens": 5, "output_tokens": 7,
                        "cache_creation": {"ephemeral_5m_input_tokens": 5}})
    assert u.prompt_tokens == 115 and u.cache_creation_5m == 5
    assert Usage.from_api(None).prompt_tokens is None


def test_node_round_trip():
    tree = Node("root", "Prompt", children=[Node("system", "System prompt", chars=5, tokens=2)])
    assert Node.from_dict(tree.to_dict()) == tree
    assert [n.label for n in tree.leaves()] == ["System prompt"]


def test_detach_and_adopt_move_a_spooled_body_by_path():
    import os

    body = CapturedBody(limit=1 << 20, spool_bytes=16)
    body.append(b"x" * 40)
    data, path = body.detach()
    assert data is None and os.path.exists(path)
    again = CapturedBody.adopt(None, path, size=40, truncated=False, limit=1 << 20)
    assert again.getvalue() == b"x" * 40 and len(again) == 40
    again.close()
    assert not os.path.exists(path)  # the adopter deletes the spool file


def test_detach_and_adopt_small_body_by_bytes():
    body = CapturedBody(limit=5)
    body.append(b"abcdefgh")
    data, path = body.detach()
    assert (data, path) == (b"abcde", None)
    again = CapturedBody.adopt(data, None, size=8, truncated=True, limit=5)
    assert again.getvalue() == b"abcde" and again.truncated and again.size == 8
