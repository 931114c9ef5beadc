"""Secrets that redacting each piece of what arrives would miss: keys streamed across SSE
deltas, keys written with JSON escapes, GitHub and AWS credentials, raw header bytes
quoted in protocol error messages."""

from __future__ import annotations

import json

import h11
import pytest

from inspector.capture import build_capture
from inspector.capture.redact import scrub_error, scrub_text
from inspector.capture.sse import assemble_chunks, mask_deltas

from .fixtures import FINAL_MESSAGE, SECRET_KEY, make_exchange, request_body, stream_bytes, stream_events

GH_TOKEN = "ghp_" + "R8mK2vQ9tL4wX7bN1cZ5pH3jD6fS0gYa2Ue4"
GH_FINE = "github_pat_11ABCDE2F0" + "q7Wm3Zr9Tx5Kc1Vb8Nh4Lp6Jd2Gs0Yf"
AWS_ID = "AKIA" + "Q7W3E9R2T5Y8U1I4"
SSE_HEADERS = [("content-type", "text/event-stream")]


def _pieces(secret: str) -> list[str]:
    """Every 8 characters of a secret's body but its last 4, which the fingerprint
    shows on purpose."""
    head = 13 if secret.startswith("sk-ant-") else 4
    return [secret[i:i + 8] for i in range(head, len(secret) - 12 + 1)]


def _absent(secret: str, text: str) -> bool:
    return secret not in text and not any(p in text for p in _pieces(secret))


@pytest.mark.parametrize("secret", [GH_TOKEN, GH_FINE, AWS_ID, "gho_" + GH_TOKEN[4:],
                                    "ASIA" + AWS_ID[4:]])
def test_github_and_aws_credentials_are_scrubbed(secret):
    clean = scrub_text(f'{{"text": "export TOKEN={secret}; echo done"}}')
    assert _absent(secret, clean) and "[sha256:" in clean and secret[-4:] in clean
    assert json.loads(clean)["text"].endswith("; echo done")


def test_lookalikes_are_left_alone():
    text = ("the right path, XAKIAQ7W3E9R2T5Y8U1I4X, AKIA short, ghp_short, "
            "github_pat_ alone, sk-not-a-key")
    assert scrub_text(text) == text


@pytest.mark.parametrize("escaped", [
    SECRET_KEY.replace("-", "\\u002d"),
    SECRET_KEY.replace("-", "\\u002D", 1),
    "\\u0073" + SECRET_KEY[1:],          # the leading s escaped
    GH_TOKEN.replace("_", "\\u005f"),
])
def test_keys_written_with_json_escapes_are_scrubbed(escaped):
    body = '{"messages": [{"role": "user", "content": "key: ' + escaped + ' ok"}]}'
    assert json.loads(body)["messages"][0]["content"] in (f"key: {SECRET_KEY} ok",
                                                          f"key: {GH_TOKEN} ok")
    clean = scrub_text(body)
    parsed = json.loads(clean)["messages"][0]["content"]
    assert escaped not in clean and "[sha256:" in parsed and parsed.endswith(" ok")
    assert SECRET_KEY not in parsed and GH_TOKEN not in parsed


def test_escaped_key_in_a_request_body_is_not_stored():
    body = request_body()
    body["messages"][0]["content"][0]["text"] = f"Say hi {SECRET_KEY}"
    text = json.dumps(body).replace(SECRET_KEY, SECRET_KEY.replace("-", "\\u002d"))
    assert "\\u002d" in text
    cap = build_capture(make_exchange(text.encode(), stream_bytes()))
    stored = json.dumps([cap.request_text, cap.request_json], ensure_ascii=False)
    assert SECRET_KEY not in stored and "\\u002dapi03" not in stored
    assert "[sha256:" in stored


def _h11_error(trailer: bytes) -> str:
    """What h11 says of a reply whose chunked body ends with a malformed trailer."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/v1/messages", headers=[("host", "a")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
                      b"2\r\n{}\r\n0\r\n" + trailer + b"\r\n\r\n")
    with pytest.raises(h11.RemoteProtocolError) as info:
        while conn.next_event() not in (h11.NEED_DATA, h11.PAUSED):
            pass
    return str(info.value)


@pytest.mark.parametrize("trailer, secret", [
    (b"x-api-key " + SECRET_KEY.encode(), SECRET_KEY),
    (b"authorization Basic dXNlcjpodW50ZXIyaHVudGVyMg==", "dXNlcjpodW50ZXIyaHVudGVyMg"),
    (b"x-goog-api-key AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv", "AIzaSyA1b2C3d4E5f6G7h8I9j0"),
    (b"cookie sessionKey=abcdefghij0123456789", "abcdefghij0123456789"),
])
def test_protocol_error_strings_lose_their_secrets(trailer, secret):
    message = _h11_error(trailer)
    assert secret in message  # h11 quotes the raw line...
    clean = scrub_error(message)
    assert secret not in clean and "illegal header line" in clean  # ...we do not keep it
    cap = build_capture(make_exchange(b"{}", b"", error=f"upstream_protocol_error: {message}",
                                      complete=False))
    assert secret not in cap.error and cap.error.startswith("upstream_protocol_error")


def test_harmless_error_strings_stay_readable():
    for text in ("authentication_error: invalid x-api-key", "stream_incomplete: no message_stop",
                 "illegal header line: bytearray(b'x-trace 0123456789')"):
        assert scrub_error(text) == text


def _split_final() -> dict:
    final = json.loads(json.dumps(FINAL_MESSAGE))
    final["content"][0]["thinking"] = f"Key id {AWS_ID} pasted by mistake."
    final["content"][1]["text"] = f"Your key {SECRET_KEY} is now set, and {GH_TOKEN} too."
    final["content"][2]["input"] = {"location": "Paris", "token": "x", "note": GH_FINE}
    return final


def test_a_key_streamed_across_deltas_is_stored_nowhere():
    data = stream_bytes(_split_final())
    for secret in (SECRET_KEY, GH_TOKEN, AWS_ID, GH_FINE):
        assert secret.encode() not in data  # split: no event holds one whole
    cap = build_capture(make_exchange(json.dumps(request_body()).encode(), data,
                                      resp_headers=SSE_HEADERS))
    assert cap.stream_complete and cap.stop_reason == "tool_use"
    stored = json.dumps([cap.response_json, cap.response_text, cap.raw_sse, cap.error,
                         cap.response_note], ensure_ascii=False)
    for secret in (SECRET_KEY, GH_TOKEN, AWS_ID, GH_FINE):
        assert _absent(secret, stored), secret
    blocks = cap.response_json["content"]
    assert blocks[1]["text"].startswith("Your key sk-ant-…") and "is now set" in blocks[1]["text"]
    assert blocks[2]["input"]["location"] == "Paris" and "[sha256:" in blocks[2]["input"]["note"]
    assert "[sha256:" in blocks[0]["thinking"]
    # the raw events are kept, with the pieces of each key masked and the rest intact
    events = [line for line in cap.raw_sse.split("\n") if line.startswith("data:")]
    assert len(events) == len(stream_events(_split_final()))  # every event kept
    assert "***" in cap.raw_sse and "Key id " in cap.raw_sse
    for line in events:
        json.loads(line[5:])


def test_masking_leaves_a_stream_without_secrets_untouched():
    raw = stream_bytes().decode()
    assembler = assemble_chunks([raw], scrub=scrub_text)
    assert assembler.redacted == {}
    assert mask_deltas(raw, assembler.redacted) == raw


def test_masking_drops_an_event_cut_at_the_raw_cap():
    raw = stream_bytes(_split_final()).decode()
    assembler = assemble_chunks([raw], scrub=scrub_text)
    assert assembler.redacted
    cut = raw[: raw.index('"t-api03') + 3]  # inside an event holding a piece of the key
    masked = mask_deltas(cut, assembler.redacted)
    assert masked.endswith("\n\n") and masked.startswith("event: message_start")
    assert '"y sk-an"' in masked and "t-api03" not in masked and "api" not in masked[-300:]
