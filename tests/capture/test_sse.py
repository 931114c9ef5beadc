"""SSE parsing and reassembly of Messages API streams."""

from __future__ import annotations

import json
import random

from inspector.capture.sse import MessageAssembler, SSEParser, assemble_stream

from .fixtures import FINAL_MESSAGE, stream_bytes, stream_events


def _parse_in_chunks(data: bytes, sizes) -> list:
    parser = SSEParser()
    events = []
    pos = 0
    for size in sizes:
        events += parser.feed(data[pos:pos + size])
        pos += size
        if pos >= len(data):
            break
    events += parser.feed(data[pos:])
    return events + parser.close()


def test_every_chunking_gives_the_same_events():
    data = stream_bytes()
    whole = _parse_in_chunks(data, [len(data)])
    assert len(whole) == len(stream_events())
    assert _parse_in_chunks(data, [1] * len(data)) == whole
    rng = random.Random(7)
    for _ in range(20):
        assert _parse_in_chunks(data, [rng.randint(1, 40) for _ in range(len(data))]) == whole


def test_line_endings_comments_and_multiline_data():
    data = (b": keep-alive comment\r\nevent: a\r\ndata: one\r\ndata: two\r\n\r\n"
            b"event: b\rdata: x\r\rdata: {\"k\": 1}\n\n")
    events = _parse_in_chunks(data, [1] * len(data))
    assert [(e.event, e.data) for e in events] == [
        ("a", "one\ntwo"), ("b", "x"), ("message", '{"k": 1}')]


def test_reassembled_stream_equals_the_non_streamed_message():
    assembler, _ = assemble_stream(stream_bytes())
    assert assembler.complete and assembler.error is None
    assert assembler.message == FINAL_MESSAGE
    # the thinking signature, the tool input parsed from input_json_delta, the usage merge
    blocks = assembler.message["content"]
    assert blocks[0]["signature"] == FINAL_MESSAGE["content"][0]["signature"]
    assert blocks[2]["input"] == {"location": "Paris, France", "unit": "celsius", "days": [1, 2]}
    assert assembler.message["usage"]["output_tokens"] == 89
    assert assembler.message["usage"]["cache_creation"]["ephemeral_1h_input_tokens"] == 2000


def test_incremental_feeding_matches_whole_parse():
    data = stream_bytes()
    parser, assembler = SSEParser(), MessageAssembler()
    for i in range(0, len(data), 13):
        for event in parser.feed(data[i:i + 13]):
            assembler.add(event)
    for event in parser.close():
        assembler.add(event)
    assert assembler.finish() == FINAL_MESSAGE


def test_generic_blocks_are_kept():
    final = {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-opus-4-1",
        "content": [
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search",
             "input": {"query": "weather paris"}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1",
             "content": [{"type": "web_search_result", "url": "https://example.com",
                          "title": "Weather", "encrypted_content": "abc"}]},
            {"type": "text", "text": "It is sunny."},
        ],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 20, "cache_read_input_tokens": 0,
                  "cache_creation_input_tokens": 0,
                  "server_tool_use": {"web_search_requests": 1}},
    }
    assembler, _ = assemble_stream(stream_bytes(final))
    assert assembler.message == final


def test_cut_stream_keeps_what_arrived():
    data = stream_bytes()
    cut = data[: data.index(b'"partial_json": "{\\"loc') + 40]
    assembler, _ = assemble_stream(cut)
    assert not assembler.complete
    msg = assembler.message
    assert msg["content"][1]["text"] == FINAL_MESSAGE["content"][1]["text"]
    assert msg["content"][2]["type"] == "tool_use" and msg["content"][2]["input"] == {}
    assert any("not complete JSON" in n for n in assembler.notes)
    assert msg["stop_reason"] is None


def test_error_event_is_recorded():
    events = stream_events()[:5]
    events.append('event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", '
                  '"message": "Overloaded"}}\n\n')
    assembler, _ = assemble_stream("".join(events).encode())
    assert assembler.error == {"type": "overloaded_error", "message": "Overloaded"}
    assert not assembler.complete
    assert assembler.message["id"] == FINAL_MESSAGE["id"]


def test_malformed_events_become_notes():
    data = (b"event: message_start\ndata: {not json\n\n"
            b"event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"index\": 5,"
            b" \"delta\": {\"type\": \"text_delta\", \"text\": \"x\"}}\n\n"
            b"event: weird\ndata: {\"type\": \"weird\"}\n\n")
    assembler, events = assemble_stream(data)
    assert len(events) == 3
    notes = " | ".join(assembler.notes)
    assert "not JSON" in notes and "no content block 5" in notes and "'weird'" in notes
    assert json.dumps(assembler.notes)  # plain strings, storable


def test_whole_text_parser_agrees_with_the_incremental_one():
    from inspector.capture.sse import parse_all

    samples = [stream_bytes(), stream_bytes().replace(b"\n", b"\r\n"),
               stream_bytes().replace(b"\n", b"\r"), stream_bytes()[:-7],
               b": c\nevent: a\ndata: x\ndata:y\n\ndata: z"]
    for data in samples:
        assert parse_all(data.decode()) == _parse_in_chunks(data, [5] * len(data)), data[-20:]


def _long_stream(text_deltas: int, json_deltas: int) -> tuple[bytes, str, dict]:
    """A stream with one long text and one long tool input, in small deltas."""
    words = [f"w{i % 997} " for i in range(text_deltas)]
    tool_input = {"items": [f"item {i}" for i in range(json_deltas)]}
    final = dict(FINAL_MESSAGE, content=[
        {"type": "text", "text": "".join(words)},
        {"type": "tool_use", "id": "toolu_1", "name": "Write", "input": tool_input}])
    events = stream_events(dict(final, content=[]))
    body = [events[0], events[1]]
    body.append('event: content_block_start\ndata: {"type": "content_block_start", "index": 0, '
                '"content_block": {"type": "text", "text": ""}}\n\n')
    body += [f"event: content_block_delta\ndata: {json.dumps({'type': 'content_block_delta', 'index': 0, 'delta': {'type': 'text_delta', 'text': w}})}\n\n"
             for w in words]
    body.append('event: content_block_stop\ndata: {"type": "content_block_stop", "index": 0}\n\n')
    start = {"type": "tool_use", "id": "toolu_1", "name": "Write", "input": {}}
    body.append("event: content_block_start\ndata: " + json.dumps(
        {"type": "content_block_start", "index": 1, "content_block": start}) + "\n\n")
    js = json.dumps(tool_input)
    step = max(1, len(js) // json_deltas)
    body += [f"event: content_block_delta\ndata: {json.dumps({'type': 'content_block_delta', 'index': 1, 'delta': {'type': 'input_json_delta', 'partial_json': js[i:i + step]}})}\n\n"
             for i in range(0, len(js), step)]
    body.append('event: content_block_stop\ndata: {"type": "content_block_stop", "index": 1}\n\n')
    body += events[2:]
    return "".join(body).encode(), "".join(words), tool_input


def test_a_long_stream_reassembles_exactly_in_any_chunking():
    from inspector.capture import build_capture
    from inspector.capture.sse import assemble_chunks

    from .fixtures import make_exchange

    data, text, tool_input = _long_stream(60_000, 20_000)
    cap = build_capture(make_exchange(b"{}", data,
                                      resp_headers=[("content-type", "text/event-stream")]))
    assert cap.stream_complete and cap.response_note and "raw SSE kept to" in cap.response_note
    assert cap.response_json["content"][0]["text"] == text
    assert cap.response_json["content"][1]["input"] == tool_input
    assert len(cap.raw_sse) == 1 << 20
    decoded = data.decode()
    rng = random.Random(3)
    cuts = sorted(rng.sample(range(1, len(decoded)), 300))
    pieces = [decoded[a:b] for a, b in zip([0, *cuts], [*cuts, len(decoded)])]
    assert assemble_chunks(pieces).message == cap.response_json


def test_text_parser_agrees_with_the_byte_parser_in_any_chunking():
    from inspector.capture.sse import TextStreamParser

    rng = random.Random(11)
    samples = [stream_bytes(), stream_bytes().replace(b"\n", b"\r\n"),
               stream_bytes().replace(b"\n", b"\r"), stream_bytes()[:-7],
               b": c\nevent: a\ndata: x\ndata:y\n\ndata: z", b"data: a\r\n\r"]
    for data in samples:
        expected = _parse_in_chunks(data, [len(data)])
        text = data.decode()
        for _ in range(10):
            parser, events, pos = TextStreamParser(), [], 0
            while pos < len(text):
                n = rng.randint(1, 30)
                events += parser.feed(text[pos:pos + n])
                pos += n
            assert events + parser.close() == expected, data[-20:]
