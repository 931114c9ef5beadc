"""The proxy's pure parts, on plain values: CONNECT targets, interception decisions,
upstream URLs, canned replies, header forwarding."""

from __future__ import annotations

import json

import h11
import pytest

from inspector.proxy.connect import (
    Target, error_response, is_loopback, parse_connect_target, parse_upstream_url, should_intercept,
)
from inspector.proxy.http1 import decode_headers, forward_headers


@pytest.mark.parametrize("raw, expected", [
    (b"api.anthropic.com:443", ("api.anthropic.com", 443)),
    (b"API.Anthropic.com:8443", ("api.anthropic.com", 8443)),
    (b"127.0.0.1:9", ("127.0.0.1", 9)),
    (b"[::1]:443", ("::1", 443)),
])
def test_connect_targets(raw, expected):
    assert parse_connect_target(raw) == expected


@pytest.mark.parametrize("raw", [b"nohost", b":443", b"host:", b"host:99999", b"host:abc", b"[::1]443"])
def test_bad_connect_targets(raw):
    with pytest.raises(ValueError):
        parse_connect_target(raw)


def test_intercept_is_exact_and_case_insensitive():
    hosts = ("api.anthropic.com", "claude.ai")
    assert should_intercept("API.ANTHROPIC.COM", hosts)
    assert should_intercept("claude.ai.", hosts)
    assert not should_intercept("evil-api.anthropic.com", hosts)
    assert not should_intercept("anthropic.com", hosts)
    assert not should_intercept("claude.ai.example", hosts)


def test_upstream_urls():
    assert parse_upstream_url("https://api.anthropic.com") == Target("https", "api.anthropic.com", 443)
    t = parse_upstream_url("http://127.0.0.1:8080/prefix/")
    assert (t.scheme, t.host, t.port, t.base_path, t.tls) == ("http", "127.0.0.1", 8080, "/prefix", False)
    assert t.host_header == "127.0.0.1:8080"
    assert Target("https", "api.anthropic.com", 443).host_header == "api.anthropic.com"
    with pytest.raises(ValueError):
        parse_upstream_url("ftp://x")


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.com")


def test_error_response_is_valid_http_with_an_api_shaped_body():
    raw = error_response(502, "claude-inspect: could not reach x:443: refused")
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(raw)
    head = conn.next_event()
    body = conn.next_event()
    assert head.status_code == 502 and (b"connection", b"close") in list(head.headers)
    assert json.loads(body.data)["error"]["message"].endswith("refused")


def _headers(*pairs):
    req = h11.Request(method="GET", target="/", headers=list(pairs))
    return req.headers


def test_forward_headers_drops_hop_by_hop_and_keeps_spelling():
    h = _headers(("Host", "a"), ("Proxy-Connection", "keep-alive"), ("Connection", "keep-alive"),
                 ("X-Api-Key", "k"), ("Expect", "100-continue"), ("Proxy-Authorization", "Basic x"))
    assert forward_headers(h) == [(b"Host", b"a"), (b"X-Api-Key", b"k")]
    assert forward_headers(h, host="up:1")[0] == (b"Host", b"up:1")
    assert decode_headers(h)[0] == ("host", "a")


def test_forward_headers_adds_a_missing_host():
    req = h11.Request(method="GET", target="/", headers=[("X", "1")], http_version="1.0")
    assert forward_headers(req.headers, default_host="api.anthropic.com")[0] == (b"Host", b"api.anthropic.com")
