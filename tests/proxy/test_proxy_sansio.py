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


# ---------------------------------------------------------------- the relay, without sockets
from inspector.proxy.commands import (  # noqa: E402
    CloseClient, CloseUpstream, Finished, Intercept, OpenUpstream, SendClient, SendUpstream, Started,
    Tunnel,
)
from inspector.proxy.http1 import HEAD, LINGER, Relay  # noqa: E402
from inspector.proxy.limits import Timeouts  # noqa: E402

REVERSE = Target("https", "api.anthropic.com", 443)
SECRET = b"sk-ant-api03-SECRETSECRET"
POST = (b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:8443\r\ncontent-type: application/json\r\n"
        b"content-length: 2\r\n\r\n{}")
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{\"ok\": true}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def relay(mode="proxy", **kw) -> tuple[Relay, Clock]:
    clock = Clock()
    kw.setdefault("intercept", ("api.anthropic.com",))
    return Relay(mode, REVERSE, "c1", "127.0.0.1:5", clock=clock, **kw), clock


def sent(cmds, kind) -> bytes:
    return b"".join(c.data for c in cmds if type(c) is kind)


def kinds(cmds) -> list[str]:
    return [type(c).__name__ for c in cmds]


def test_a_reverse_exchange_is_bytes_in_commands_out():
    r, _ = relay()
    r.receive_client(POST)
    cmds = r.take()
    assert kinds(cmds) == ["Started", "OpenUpstream"] and cmds[1].reuse is False
    ex = cmds[0].exchange
    assert (ex.mode, ex.method, ex.target) == ("reverse", "POST", "/v1/messages")
    r.upstream_ready(reused=False)
    up = sent(r.take(), SendUpstream)
    assert up.startswith(b"POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\n") and up.endswith(b"{}")
    assert not r.wants_client and r.wants_upstream  # the request is out; the reply is awaited
    r.receive_upstream(OK[:-5])
    assert sent(r.take(), SendClient).startswith(b"HTTP/1.1 200 OK\r\n")  # the head goes on at once
    r.receive_upstream(OK[-5:])
    cmds = r.take()
    assert sent(cmds, SendClient) == b'true}' and kinds(cmds)[-1] == "Finished"  # as it arrives
    assert ex.complete and ex.error is None and ex.status == 200
    assert r.state is HEAD and r.wants_client  # kept alive, both sides


def test_a_second_request_reuses_the_upstream_and_a_stale_one_is_dropped():
    r, _ = relay()
    for reused in (False, True):
        r.receive_client(POST)
        assert r.take()[1] == OpenUpstream(reuse=reused)
        r.upstream_ready(reused=reused)
        r.receive_upstream(OK)
        r.take()
    r.receive_upstream(b"")  # the upstream closed while the client was idle
    assert r.take() == [CloseUpstream(abort=True)]
    r.receive_client(POST)
    assert r.take()[1] == OpenUpstream(reuse=False)  # a fresh connection, nothing resent


def test_pipelined_requests_are_served_in_turn():
    r, _ = relay()
    r.receive_client(POST + POST)
    assert kinds(r.take()) == ["Started", "OpenUpstream"]
    r.upstream_ready(reused=False)
    r.take()
    r.receive_upstream(OK)
    assert kinds(r.take()) == ["SendClient", "Finished", "Started", "OpenUpstream"]


@pytest.mark.parametrize("first", [
    b"THIS IS NOT HTTP\r\n\r\n",
    b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key " + SECRET + b"\r\n\r\n",
    b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
    b"CONNECT " + b"a" * 64 + b".example:443 HTTP/1.1\r\nHost: x:443\r\n\r\n",
])
def test_a_bad_first_request_gets_one_400_and_a_close(first):
    r, _ = relay()
    r.receive_client(first)
    cmds = r.take()
    assert kinds(cmds) == ["SendClient", "CloseClient"] and r.closed
    reply = sent(cmds, SendClient)
    assert reply.startswith(b"HTTP/1.1 400 ") and SECRET not in reply


def test_connect_is_intercepted_or_tunnelled_with_the_bytes_read_after_it():
    r, _ = relay()
    r.receive_client(b"CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n"
                     b"\x16\x03\x01hello")
    assert r.take() == [Intercept("api.anthropic.com", 443, b"\x16\x03\x01hello")] and r.closed
    r, _ = relay()
    r.receive_client(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
    assert r.take() == [Tunnel("example.com", 443, b"")]


def test_content_length_beside_transfer_encoding_is_not_forwarded():
    r, _ = relay()
    r.receive_client(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Length: 5\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    r.take()
    r.upstream_ready(reused=False)
    up = sent(r.take(), SendUpstream).lower()
    assert b"transfer-encoding: chunked" in up and b"content-length" not in up


def test_an_early_answer_stops_the_body_and_lingers_before_closing():
    r, clock = relay()
    r.receive_client(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\ncontent-length: 1000000\r\n\r\n" + b"x" * 1000)
    r.take()
    r.upstream_ready(reused=False)
    r.take()
    r.receive_upstream(b"HTTP/1.1 413 Too Large\r\ncontent-length: 2\r\n\r\n{}")
    cmds = r.take()
    reply = sent(cmds, SendClient)
    assert reply.startswith(b"HTTP/1.1 413") and b"connection: close" in reply.lower()
    assert cmds[-2:] == [cmds[-2], CloseUpstream(abort=True)] and type(cmds[-2]) is Finished
    ex = cmds[-2].exchange
    assert ex.status == 413 and ex.complete and ex.request_body.size == 1000
    assert r.state is LINGER and r.wants_client
    r.receive_client(b"x" * 50000)  # the rest of the body: read and dropped
    assert r.take() == []
    clock.now += Timeouts().linger + 0.1
    r.tick()
    assert r.take() == [CloseClient(abort=False)]


def test_an_upstream_that_stops_taking_the_body_can_still_answer():
    r, _ = relay()
    r.receive_client(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\ncontent-length: 10\r\n\r\n12345")
    r.take()
    r.upstream_ready(reused=False)
    r.take()
    r.upstream_write_failed()
    r.receive_client(b"67890")
    assert sent(r.take(), SendUpstream) == b""
    r.receive_upstream(b"HTTP/1.1 413 Too Large\r\ncontent-length: 0\r\n\r\n")
    assert sent(r.take(), SendClient).startswith(b"HTTP/1.1 413")


def test_request_head_and_idle_timeouts():
    t = Timeouts(request_head=5, client_idle=60)
    r, clock = relay(timeouts=t)
    r.receive_client(b"POST /v1/messages HTTP/1.1\r\n")
    assert r.deadline == 1005.0
    clock.now += 4
    r.receive_client(b"x-a: b\r\n")  # a drip of bytes does not move a head's deadline
    assert r.deadline == 1005.0
    clock.now += 2
    r.tick()
    cmds = r.take()
    assert sent(cmds, SendClient).startswith(b"HTTP/1.1 408") and cmds[-1] == CloseClient(abort=False)

    r, clock = relay("intercept", timeouts=t)  # a tunnel's first request may wait like an idle one
    assert r.deadline == 1060.0
    clock.now += 61
    r.tick()
    assert r.take() == [CloseClient(abort=False)]  # nothing to answer: no bytes came


def test_upstream_silence_times_out_but_progress_does_not():
    t = Timeouts(upstream_response=10)
    r, clock = relay(timeouts=t)
    r.receive_client(POST)
    r.take()
    r.upstream_ready(reused=False)
    r.take()
    clock.now += 9
    r.receive_upstream(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
    for _ in range(5):  # a stream that keeps sending outlives the timeout many times over
        clock.now += 9
        r.tick()
        r.receive_upstream(b"6\r\nevent\n\r\n")
    assert not r.closed
    r.take()
    clock.now += 10.5
    r.tick()
    cmds = r.take()
    (fin,) = [c for c in cmds if type(c) is Finished]
    assert fin.exchange.error.startswith("upstream_timeout") and r.closed
    assert sent(cmds, SendClient) == b""  # mid-body: nothing can be said, the client is cut


def test_an_upstream_that_never_answers_gets_a_504():
    r, clock = relay(timeouts=Timeouts(upstream_response=10))
    r.receive_client(POST)
    r.take()
    r.upstream_ready(reused=False)
    r.take()
    clock.now += 11
    r.tick()
    cmds = r.take()
    assert sent(cmds, SendClient).startswith(b"HTTP/1.1 504")
    (fin,) = [c for c in cmds if type(c) is Finished]
    assert fin.exchange.status == 504 and "did not answer" in fin.exchange.response_body.getvalue().decode()


def test_h11_errors_are_reported_without_the_bytes_they_quote():
    r, _ = relay()
    r.receive_client(POST)
    r.take()
    r.upstream_ready(reused=False)
    r.take()
    r.receive_upstream(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n"
                       b"x-api-key " + SECRET + b"\r\n\r\n")
    (fin,) = [c for c in r.take() if type(c) is Finished]
    assert fin.exchange.error == "upstream_disconnected: malformed trailer from upstream"


def test_a_client_hangup_mid_reply_is_reported_once():
    r, _ = relay()
    r.receive_client(POST)
    r.take()
    r.upstream_ready(reused=False)
    r.take()
    r.client_gone()
    cmds = r.take()
    assert kinds(cmds) == ["Finished", "CloseUpstream", "CloseClient"]
    assert cmds[0].exchange.error == "client_disconnected" and cmds[2].abort
    r.stop()
    assert r.take() == []


def test_stopping_reports_the_exchange_in_flight():
    r, _ = relay()
    r.receive_client(POST)
    started = r.take()[0]
    assert type(started) is Started
    r.upstream_ready(reused=False)
    r.stop()
    (fin,) = [c for c in r.take() if type(c) is Finished]
    assert fin.exchange is started.exchange and fin.exchange.error == "proxy_stopped"


def test_an_unreachable_upstream_gets_a_502_naming_it():
    r, _ = relay()
    r.receive_client(POST)
    r.take()
    r.upstream_failed("upstream_unreachable", "connection refused")
    cmds = r.take()
    assert sent(cmds, SendClient).startswith(b"HTTP/1.1 502")
    (fin,) = [c for c in cmds if type(c) is Finished]
    assert fin.exchange.error == "upstream_unreachable: api.anthropic.com:443: connection refused"
    assert fin.exchange.request_body.getvalue() == b"{}"


HEAD_OF_10 = b"POST /v1/messages HTTP/1.1\r\nHost: x\r\ncontent-length: 10\r\n\r\n"


def test_an_unreachable_upstream_keeps_the_body_still_to_come():
    # the 502 waits for the rest of the request, which is kept for the capture
    r, _ = relay()
    r.receive_client(HEAD_OF_10 + b"123")
    r.take()
    r.upstream_failed("upstream_unreachable", "connection refused")
    assert r.take() == [] and r.wants_client and r.deadline is not None
    r.receive_client(b"4567890")
    cmds = r.take()
    assert sent(cmds, SendClient).startswith(b"HTTP/1.1 502") and not sent(cmds, SendUpstream)
    (fin,) = [c for c in cmds if type(c) is Finished]
    assert fin.exchange.request_body.getvalue() == b"1234567890"
    assert fin.exchange.error.startswith("upstream_unreachable:") and r.closed


def test_an_unreachable_upstream_and_a_stalled_body_answer_with_what_came():
    r, clock = relay(timeouts=Timeouts(client_body=5, upstream_response=600))
    r.receive_client(HEAD_OF_10 + b"123")
    r.take()
    r.upstream_failed("upstream_unreachable", "connection refused")
    clock.now += 6
    r.tick()
    cmds = r.take()
    assert sent(cmds, SendClient).startswith(b"HTTP/1.1 502")
    (fin,) = [c for c in cmds if type(c) is Finished]
    assert fin.exchange.request_body.getvalue() == b"123"
    assert fin.exchange.error.startswith("upstream_unreachable:")


def test_an_unreachable_upstream_then_a_hang_up_is_reported_as_the_upstream():
    r, _ = relay()
    r.receive_client(HEAD_OF_10 + b"123")
    r.take()
    r.upstream_failed("upstream_unreachable", "connection refused")
    r.receive_client(b"")
    (fin,) = [c for c in r.take() if type(c) is Finished]
    assert fin.exchange.error.startswith("upstream_unreachable:") and r.closed


def test_an_unreachable_upstream_reads_no_more_than_it_would_keep():
    r, _ = relay(capture_limit=4)
    r.receive_client(HEAD_OF_10 + b"123")
    r.take()
    r.upstream_failed("upstream_unreachable", "connection refused")
    assert r.take() == []
    r.receive_client(b"45")
    cmds = r.take()
    assert sent(cmds, SendClient).startswith(b"HTTP/1.1 502") and r.closed
    (fin,) = [c for c in cmds if type(c) is Finished]
    assert fin.exchange.request_body.truncated


def test_an_unreachable_upstream_with_expect_100_answers_at_once():
    r, _ = relay()
    r.receive_client(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\ncontent-length: 10\r\n"
                     b"expect: 100-continue\r\n\r\n")
    r.take()
    r.upstream_failed("upstream_unreachable", "connection refused")
    assert sent(r.take(), SendClient).startswith(b"HTTP/1.1 502") and r.closed


def test_a_request_body_that_stalls_gets_a_408():
    r, clock = relay(timeouts=Timeouts(client_body=5, upstream_response=600))
    r.receive_client(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\ncontent-length: 10\r\n\r\n123")
    r.take()
    r.upstream_ready(reused=False)
    r.take()
    clock.now += 4
    r.receive_client(b"45")  # progress moves the deadline
    assert sent(r.take(), SendUpstream) == b"45"
    clock.now += 4
    r.tick()
    assert r.take() == []
    clock.now += 1.5
    r.tick()
    cmds = r.take()
    assert sent(cmds, SendClient).startswith(b"HTTP/1.1 408")
    (fin,) = [c for c in cmds if type(c) is Finished]
    assert fin.exchange.error.startswith("client_timeout") and r.closed


def test_a_slow_upload_that_keeps_coming_is_not_an_upstream_timeout():
    r, clock = relay(timeouts=Timeouts(client_body=5, upstream_response=10))
    r.receive_client(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\ncontent-length: 100\r\n\r\n")
    r.take()
    r.upstream_ready(reused=False)
    for _ in range(10):  # 40 s of upload, well past the upstream's 10 s
        clock.now += 4
        r.receive_client(b"x" * 5)
        r.tick()
    assert not r.closed and r.deadline == clock.now + 5
