"""The proxy against peers that misbehave or just take their time: upstreams that answer
early, go quiet, close pooled connections or send malformed bytes; clients that never
finish their headers or sit idle; odd CONNECT hosts; the process's file limit."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from conftest import API, upstream_route
from inspector.proxy.limits import Timeouts
from proxy_helpers import json_reply, read_head, read_request, wait_until

MSG = {"model": "claude-test", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
SECRET = "sk-ant-api03-SECRETSECRETSECRET"
BIG = 40 << 20


def _recv_all(sock: socket.socket, limit: float = 10) -> bytes:
    sock.settimeout(limit)
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


# ------------------------------------------------------------ early responses
@pytest.mark.parametrize("upstream_then", ["reads_on", "closes"])
def test_an_early_413_reaches_the_client_and_the_body_stops(start_proxy, raw_upstream, upstream_then):
    """An upstream may refuse a large upload from its head alone; the client must get
    that answer (not a 502, which SDKs retry by uploading again)."""
    received = []
    error = json.dumps({"type": "error", "error": {"type": "request_too_large"}}).encode()

    def refuse(sock):
        head, rest = read_head(sock)
        sock.sendall(json_reply(413, error, "connection: close\r\n"))
        time.sleep(0.5)  # not reading: the proxy's writes back up
        if upstream_then == "closes":
            return  # close with unread bytes pending: a reset
        sock.settimeout(5)
        total = len(rest)
        try:
            while chunk := sock.recv(1 << 20):
                total += len(chunk)
        except OSError:  # the proxy may reset the connection it gave up on
            pass
        received.append(total)

    server = raw_upstream(refuse)
    proxy = start_proxy(resolve=upstream_route(server))
    with proxy.client(timeout=30) as client:
        r = client.post(f"{API}/v1/messages", content=b"x" * BIG)
    assert r.status_code == 413 and r.json()["error"]["type"] == "request_too_large"
    (ex,) = proxy.sink.wait_finished(1)
    assert ex.status == 413 and ex.complete
    assert ex.request_body.size < BIG
    if upstream_then == "reads_on":
        assert wait_until(lambda: received, 10)
        assert received[0] < BIG // 2  # the proxy stopped sending


# ------------------------------------------------------------ file limit
def test_starting_the_proxy_raises_the_soft_file_limit(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 64:
        pytest.skip("hard limit too low to lower the soft one")
    code = (
        "import resource\n"
        "from inspector.model import NullSink, ProxySettings\n"
        "from inspector.proxy.thread import ProxyThread\n"
        f"t = ProxyThread(ProxySettings(listen_port=0, ca_dir={str(tmp_path / 'ca')!r}), NullSink())\n"
        "t.start(); print(*resource.getrlimit(resource.RLIMIT_NOFILE)); t.stop()\n"
    )

    def low_soft_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, preexec_fn=low_soft_limit, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    new_soft, new_hard = map(int, out.stdout.split())
    assert new_hard == hard and new_soft > 64
    if hard != resource.RLIM_INFINITY:
        assert new_soft == hard


# ------------------------------------------------------------ timeouts
def test_a_client_that_never_finishes_its_headers_is_closed(start_proxy):
    proxy = start_proxy(timeouts=Timeouts(request_head=0.5))
    with socket.create_connection((proxy.host, proxy.port)) as sock:
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\n")
        reply = _recv_all(sock)
    assert reply == b"" or reply.startswith(b"HTTP/1.1 408")


def test_a_slow_drip_of_header_bytes_does_not_keep_the_connection(start_proxy):
    proxy = start_proxy(timeouts=Timeouts(request_head=1.0))
    with socket.create_connection((proxy.host, proxy.port)) as sock:
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\n")
        sock.settimeout(10)
        started = time.monotonic()
        closed = False
        for i in range(40):  # a header line every 0.25 s: never idle for long
            try:
                sock.sendall(f"x-pad-{i}: y\r\n".encode())
            except OSError:
                closed = True
                break
            time.sleep(0.25)
        if not closed:
            closed = _recv_all(sock, 5) is not None
    assert closed and time.monotonic() - started < 9


def test_an_idle_kept_alive_client_connection_is_closed(start_proxy):
    proxy = start_proxy(timeouts=Timeouts(client_idle=0.5))
    with socket.create_connection((proxy.host, proxy.port)) as sock:
        body = json.dumps(MSG).encode()
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
                     b"content-length: %d\r\n\r\n" % len(body) + body)
        reply = _recv_all(sock)
    assert reply.startswith(b"HTTP/1.1 200") and b"Hello from the stub" in reply
    assert proxy.sink.wait_finished(1)[0].complete


def test_an_upstream_that_never_answers_gives_504(start_proxy, raw_upstream):
    release = threading.Event()

    def silent(sock):
        read_request(sock)
        release.wait(30)

    server = raw_upstream(silent)
    proxy = start_proxy(resolve=upstream_route(server), timeouts=Timeouts(upstream_response=0.5))
    try:
        with proxy.client() as client:
            r = client.post(f"{API}/v1/messages", json=MSG)
    finally:
        release.set()
    assert r.status_code == 504 and "did not answer" in r.json()["error"]["message"]
    (ex,) = proxy.sink.wait_finished(1)
    assert ex.error.startswith("upstream_timeout") and not ex.complete


def test_the_upstream_timeout_is_for_silence_not_for_long_streams(start_proxy):
    proxy = start_proxy(timeouts=Timeouts(upstream_response=1.0, client_idle=1.0))
    with proxy.client() as client:
        started = time.monotonic()
        with client.stream("POST", f"{API}/v1/messages", json=dict(MSG, stream=True),
                           headers={"x-stub-event-delay-ms": "250"}) as r:
            text = r.read().decode()
    assert time.monotonic() - started > 1.5  # longer than the timeout, and it went through
    assert "event: message_stop" in text
    assert proxy.sink.wait_finished(1)[0].complete


# ------------------------------------------------------------ pooled upstream connections
@pytest.mark.parametrize("goodbye", ["fin", "close_notify", "408_then_fin"])
def test_a_pooled_upstream_closed_while_idle_is_replaced(start_proxy, raw_upstream, goodbye):
    """Servers close kept-alive connections after a quiet spell; the next request goes
    on a fresh connection instead of failing."""
    body = json.dumps({"type": "message", "content": []}).encode()

    def keep_alive_briefly(sock):
        rest = b""
        while True:
            head, _, rest = read_request(sock, rest)
            if not head:
                return
            sock.sendall(json_reply(200, body))
            sock.settimeout(0.3)
            try:
                rest = sock.recv(65536)
                if not rest:
                    return
                sock.settimeout(None)
            except TimeoutError:
                break
        if goodbye == "408_then_fin":
            sock.sendall(json_reply(408, b"{}", "connection: close\r\n"))
        if goodbye == "close_notify":
            sock.unwrap()

    server = raw_upstream(keep_alive_briefly)
    proxy = start_proxy(resolve=upstream_route(server))
    with proxy.client() as client:
        assert client.post(f"{API}/v1/messages", json=MSG).status_code == 200
        time.sleep(1.0)  # the user thinks; the upstream gives up on the connection
        second = client.post(f"{API}/v1/messages", json=MSG)
    assert second.status_code == 200 and second.json()["type"] == "message"
    finished = proxy.sink.wait_finished(2)
    assert finished[0].connection_id == finished[1].connection_id
    assert server.connections == 2 and all(e.complete for e in finished)


# ------------------------------------------------------------ framing and hosts
def test_content_length_is_dropped_beside_transfer_encoding(proxy, stub):
    with socket.create_connection((proxy.host, proxy.port)) as sock:
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Length: 5\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
        head, _ = read_head(sock)
    assert head.startswith(b"HTTP/1.1 200")
    seen = stub.requests[-1]
    assert "content-length" not in seen["headers"] and seen["body"] == b"{}"


@pytest.mark.parametrize("host", ["a" * 64 + ".example.com", "a..example.com", "." * 3,
                                  "x" * 300 + ".com"])
def test_a_connect_host_idna_cannot_encode_gets_a_clean_error(proxy, host, caplog):
    caplog.set_level(logging.DEBUG)
    with socket.create_connection((proxy.host, proxy.port)) as sock:
        sock.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
        reply = _recv_all(sock)
    assert reply.startswith((b"HTTP/1.1 400", b"HTTP/1.1 502")), reply
    assert not [r for r in caplog.records if r.exc_info]


# ------------------------------------------------------------ secrets in error strings
def test_a_malformed_trailer_does_not_carry_its_bytes_into_errors(start_proxy, raw_upstream, caplog):
    caplog.set_level(logging.DEBUG)

    def bad_trailer(sock):
        read_request(sock)
        sock.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
                     + f"x-api-key {SECRET}\r\n\r\n".encode())
        time.sleep(0.5)

    server = raw_upstream(bad_trailer)
    proxy = start_proxy(resolve=upstream_route(server))
    with proxy.client() as client:
        with pytest.raises(httpx.HTTPError):
            client.post(f"{API}/v1/messages", json=MSG)
    (ex,) = proxy.sink.wait_finished(1)
    assert ex.error == "upstream_disconnected: malformed trailer from upstream"
    reported = [ex.error, *(m for _, m in proxy.sink.notices), *(r.getMessage() for r in caplog.records)]
    assert not [m for m in reported if SECRET in m]


def test_a_malformed_client_header_does_not_carry_its_bytes_into_errors(proxy, caplog):
    caplog.set_level(logging.DEBUG)
    sock = proxy.connect_tunnel()
    import ssl
    ctx = ssl.create_default_context(cafile=proxy.ca_file)
    with ctx.wrap_socket(sock, server_hostname="api.anthropic.com") as tls:
        tls.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\ncontent-length: 2\r\n\r\n{}")
        head, _, _ = read_request(tls)
        assert head.startswith(b"HTTP/1.1 200")
        tls.sendall(f"POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\nx-api-key {SECRET}\r\n\r\n".encode())
        reply = _recv_all(tls)
    assert reply.startswith(b"HTTP/1.1 400")
    assert SECRET.encode() not in reply  # the 400's body is recorded too
    reported = [*(m for _, m in proxy.sink.notices), *(r.getMessage() for r in caplog.records)]
    reported += [str(e.error) + (e.response_body.getvalue().decode() if e.response_body else "")
                 for e in proxy.sink.finished]
    assert not [m for m in reported if SECRET in m]


@pytest.mark.parametrize("goodbye", ["fin", "unsolicited_408"])
def test_a_pooled_connection_closed_before_the_loop_noticed_is_not_reused(goodbye):
    """The race the end-to-end test above cannot force: the upstream's goodbye is in our
    kernel but the event loop has not run since; the socket is asked, not the loop."""
    from inspector.proxy.streams import Stream

    async def scenario():
        loop = asyncio.get_running_loop()
        with socket.create_server(("127.0.0.1", 0)) as listener:
            _, stream = await loop.create_connection(Stream, "127.0.0.1", listener.getsockname()[1])
            peer, _ = listener.accept()
            assert stream.reusable()
            if goodbye == "fin":
                peer.close()
            else:
                peer.sendall(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n")
            time.sleep(0.2)  # blocking: the loop cannot see it yet
            assert not stream.peer_closed and not stream.lost  # all the loop knows
            assert not stream.reusable()
            stream.abort()
            peer.close()

    asyncio.run(scenario())
