"""Redaction of secrets, request fields (model, stream, session), timings, odd input."""

from __future__ import annotations

import json

import pytest

from inspector.capture import build_capture, session_id_of
from inspector.capture.redact import fingerprint, is_secret_name, redact_headers, scrub_text, scrub_url
from inspector.model import CapturedBody

from .fixtures import SECRET_KEY, make_exchange, request_body, stream_bytes


@pytest.mark.parametrize("name", [
    "x-api-key", "Authorization", "proxy-authorization", "cookie", "set-cookie",
    "x-auth-token", "x-amz-security-token", "x-goog-api-key", "x-client-secret",
    "x-session-token", "x-password", "api_key"])
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", [
    "anthropic-version", "anthropic-beta", "x-claude-code-session-id", "content-type",
    "keep-alive", "user-agent", "x-stainless-os", "request-id", "accept-encoding"])
def test_harmless_names(name):
    assert not is_secret_name(name)


def test_fingerprint_tells_keys_apart_without_revealing_them():
    other = SECRET_KEY[:-4] + "zzzz"
    a, b = fingerprint(SECRET_KEY), fingerprint(other)
    assert a != b
    assert a.startswith("sk-ant-…") and SECRET_KEY[-4:] in a and "[sha256:" in a
    assert SECRET_KEY not in a and SECRET_KEY[7:20] not in a
    assert fingerprint("short") == fingerprint("short") and "short" not in fingerprint("short")


def test_headers_redacted():
    headers = [("x-api-key", SECRET_KEY), ("authorization", "Bearer " + "t" * 40),
               ("cookie", "sessionKey=abcdefghijklmnopqrstuvwxyz0123; theme=dark"),
               ("anthropic-version", "2023-06-01"), ("x-claude-code-session-id", "s-1")]
    out = dict(redact_headers(headers))
    assert SECRET_KEY not in json.dumps(out) and "t" * 40 not in out["authorization"]
    assert out["authorization"].startswith("Bearer …tttt [sha256:")
    assert out["cookie"].startswith("sessionKey=…0123 [sha256:") and "abcdefghij" not in out["cookie"]
    assert out["anthropic-version"] == "2023-06-01" and out["x-claude-code-session-id"] == "s-1"


def test_secrets_scrubbed_from_text_and_urls():
    text = f'{{"note": "my key is {SECRET_KEY} ok"}}'
    assert SECRET_KEY not in scrub_text(text) and json.loads(scrub_text(text))
    url = scrub_url(f"/v1/messages?beta=true&api_key=hunter2hunter2&x={SECRET_KEY}")
    assert "hunter2hunter2" not in url and SECRET_KEY not in url and "beta=true" in url


def test_capture_scrubs_body_and_headers():
    body = request_body()
    body["messages"][0]["content"][0]["text"] = f"use {SECRET_KEY} please"
    ex = make_exchange(json.dumps(body).encode(), stream_bytes(),
                       target=f"/v1/messages?key={SECRET_KEY}")
    cap = build_capture(ex)
    blob = json.dumps([cap.request_json, cap.request_text, cap.request_headers, cap.path],
                      ensure_ascii=False)
    assert SECRET_KEY not in blob and SECRET_KEY[-4:] in blob


def test_session_from_header_metadata_json_and_legacy_string():
    uid = "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"
    assert session_id_of([("x-claude-code-session-id", "hdr-1")], request_body()) == "hdr-1"
    assert session_id_of([], request_body(session=uid)) == uid
    legacy = {"metadata": {"user_id": f"user_abc_account_def_session_{uid}"}}
    assert session_id_of([], legacy) == uid
    assert session_id_of([], {"metadata": {"user_id": "plain-user"}}) is None
    assert session_id_of([], {"model": "x"}) is None
    assert session_id_of([], "not a dict") is None


def test_fields_and_timings():
    cap = build_capture(make_exchange(json.dumps(request_body()).encode(), stream_bytes()))
    assert cap.model == "claude-sonnet-4-5-20250929" and cap.stream is True
    assert cap.ttfb_ms == pytest.approx(350, abs=0.01)
    assert cap.total_ms == pytest.approx(1200, abs=0.01)
    assert cap.request_sent_ms == pytest.approx(2, abs=0.01)
    assert cap.usage.prompt_tokens == 472 + 18000 + 2100
    assert cap.stop_reason == "tool_use" and cap.ts.endswith("Z")


def test_cut_stream_and_error_event_flagged():
    data = stream_bytes()
    cut = build_capture(make_exchange(b"{}", data[: len(data) // 2], complete=False,
                                      error="upstream_disconnected"))
    assert cut.stream_complete is False and cut.error == "upstream_disconnected"
    assert cut.response_json["id"] and "stream incomplete" in cut.response_note
    err = data[: data.index(b"event: content_block_start")] + (
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
        b'"message":"Overloaded"}}\n\n')
    cap = build_capture(make_exchange(b"{}", err))
    assert cap.stream_complete is False
    assert cap.error == "stream_error: overloaded_error: Overloaded"


def test_api_error_json_response():
    body = b'{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}'
    cap = build_capture(make_exchange(b"{}", body, status=429,
                                      resp_headers=[("content-type", "application/json")]))
    assert cap.error == "rate_limit_error: slow down" and cap.response_json["type"] == "error"


def test_never_raises_on_odd_exchanges():
    ex = make_exchange(b"\xff\xfe garbage", None, req_headers=[], status=None,
                       error="upstream_unreachable: connection refused", complete=False)
    cap = build_capture(ex)
    assert cap.request_raw == b"\xff\xfe garbage" and cap.status is None
    assert cap.error.startswith("upstream_unreachable")

    class Broken(CapturedBody):
        def getvalue(self):
            raise OSError("spool file vanished")

        def chunks(self, size=1 << 20):
            raise OSError("spool file vanished")
            yield b""

    ex2 = make_exchange(b"{}", b"{}")
    ex2.request_body = Broken(10)
    cap2 = build_capture(ex2)
    assert "unreadable" in cap2.request_note
    ex3 = make_exchange(b"{}", b"{}")
    ex3.response_headers = None  # not even a list: the minimal record still comes back
    cap3 = build_capture(ex3)
    assert cap3.id == ex3.id and cap3.error.startswith("capture_failed")
