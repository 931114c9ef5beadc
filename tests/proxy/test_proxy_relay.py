"""End to end: real clients -> the proxy -> a real TLS stub upstream, all on loopback."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import ssl
import statistics
import subprocess
import threading
import time

import anthropic
import httpx
import pytest

from conftest import API
from proxy_helpers import RecordingSink, strict_client_context

MSG = {"model": "claude-test", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}


def test_plain_messages_call_and_the_recorded_exchange(proxy, stub):
    with proxy.client() as client:
        r = client.post(f"{API}/v1/messages?beta=true", json=MSG,
                        headers={"x-api-key": "sk-test", "anthropic-version": "2023-06-01"})
    assert r.status_code == 200
    assert r.json()["content"][0]["text"].startswith("Hello from the stub")
    (ex,) = proxy.sink.wait_finished(1)
    assert proxy.sink.started == [ex]
    assert (ex.mode, ex.scheme, ex.host, ex.port) == ("intercept", "https", "api.anthropic.com", 443)
    assert (ex.method, ex.target, ex.status) == ("POST", "/v1/messages?beta=true", 200)
    assert ex.error is None and ex.complete
    assert ex.header("x-api-key") == "sk-test"
    assert ex.header("content-type", response=True) == "application/json"
    assert json.loads(ex.request_body.getvalue()) == MSG
    assert ex.response_body.getvalue() == r.content
    t = ex.timings
    points = [t.started, t.request_head_sent, t.request_sent, t.first_byte, t.response_head_sent, t.ended]
    assert all(p is not None for p in points) and points == sorted(points)
    assert t.upstream_connect_ms is not None and t.proxy_overhead_ms is not None
    # the upstream saw the request as the client sent it, minus hop-by-hop headers
    (seen,) = stub.requests
    assert seen["headers"]["host"] == "api.anthropic.com"
    assert "proxy-connection" not in seen["headers"]


def test_stream_keeps_its_pacing(proxy):
    arrivals = []
    with proxy.client() as client:
        with client.stream("POST", f"{API}/v1/messages", json=dict(MSG, stream=True),
                           headers={"x-stub-event-delay-ms": "50"}) as r:
            start = time.perf_counter()
            for line in r.iter_lines():
                if line.startswith("event:"):
                    arrivals.append((time.perf_counter() - start, line[7:]))
    names = [name for _, name in arrivals]
    assert names[0] == "message_start" and names[-1] == "message_stop"
    assert "content_block_delta" in names and "ping" in names
    gaps = [b[0] - a[0] for a, b in zip(arrivals, arrivals[1:])]
    # 50 ms apart at the source: a buffering proxy would deliver them all at once (gaps of
    # ~0); allow one gap squeezed by a busy machine, no more
    assert statistics.median(gaps) > 0.04 and sorted(gaps)[1] > 0.025, gaps
    (ex,) = proxy.sink.wait_finished(1)
    assert ex.complete and b"event: message_stop" in ex.response_body.getvalue()


def test_anthropic_sdk_plain_and_streamed(proxy):
    http_client = anthropic.DefaultHttpxClient(proxy=proxy.url, verify=proxy.ca_file)
    client = anthropic.Anthropic(api_key="sk-test", http_client=http_client, max_retries=0)
    msg = client.messages.create(**MSG)
    assert msg.content[0].text.startswith("Hello from the stub")
    with client.messages.stream(**MSG) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == msg.content[0].text and final.usage.output_tokens == 9
    finished = proxy.sink.wait_finished(2)
    assert [e.status for e in finished] == [200, 200]
    assert finished[0].connection_id == finished[1].connection_id  # kept alive


@pytest.mark.parametrize("chunked", [False, True])
def test_body_framings(proxy, chunked):
    headers = {"x-stub-body-bytes": "300000"}
    if chunked:
        headers["x-stub-chunked"] = "1"
    with proxy.client() as client:
        r = client.post(f"{API}/v1/messages", json=MSG, headers=headers)
        # a chunked request body (a generator has no length) goes upstream intact too
        upload = client.post(f"{API}/v1/messages", content=(b"x" * 70000 for _ in range(3)))
    assert r.status_code == 200 and r.content == b"x" * 300000
    assert ("transfer-encoding" in r.headers) == chunked
    assert upload.status_code == 200
    ex = proxy.sink.wait_finished(2)
    assert ex[0].response_body.size == 300000 and ex[1].request_body.size == 210000


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_compressed_reply_passes_untouched(proxy, encoding):
    with proxy.client() as client:
        r = client.post(f"{API}/v1/messages", json=MSG, headers={"x-stub-encoding": encoding})
    assert r.json()["type"] == "message"  # the client decoded what the proxy passed through
    (ex,) = proxy.sink.wait_finished(1)
    assert ex.header("content-encoding", response=True) == encoding
    captured = ex.response_body.getvalue()
    assert b'"type": "message"' not in captured  # the copy is the bytes as sent
    if encoding == "gzip":
        assert json.loads(gzip.decompress(captured)) == r.json()


def test_many_requests_share_one_tunnel_and_one_upstream_connection(proxy, stub):
    with proxy.client() as client:
        for i in range(20):
            assert client.post(f"{API}/v1/messages", json=dict(MSG, n=i)).status_code == 200
    finished = proxy.sink.wait_finished(20)
    assert len({e.connection_id for e in finished}) == 1
    assert stub.connections == 1
    assert [json.loads(e.request_body.getvalue())["n"] for e in finished] == list(range(20))


def test_client_hello_in_the_same_packet_as_connect(proxy):
    """The handshake's first bytes arrive with the CONNECT: none may be lost."""
    ctx = strict_client_context(proxy.ca_file)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="api.anthropic.com")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    hello = outgoing.read()
    sock = proxy.connect_tunnel(extra=hello)  # CONNECT + ClientHello in one send
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            if outgoing.pending:
                sock.sendall(outgoing.read())
            data = sock.recv(65536)
            assert data
            incoming.write(data)
    tls.write(b"POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\ncontent-length: 2\r\n\r\n{}")
    sock.sendall(outgoing.read())
    reply = b""
    while b"Hello from the stub" not in reply:
        try:
            reply += tls.read(65536)
        except ssl.SSLWantReadError:
            data = sock.recv(65536)
            assert data, reply
            incoming.write(data)
    assert reply.startswith(b"HTTP/1.1 200")
    sock.close()


def test_blind_tunnel_shows_the_upstream_certificate(start_proxy, stub):
    proxy = start_proxy(resolve={})
    sock = proxy.connect_tunnel("127.0.0.1", stub.port)
    ctx = ssl.create_default_context(cafile=stub.ca_file)  # only the stub's CA
    with ctx.wrap_socket(sock, server_hostname="localhost") as tls:
        tls.sendall(b"HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert tls.recv(100).startswith(b"HTTP/1.1 200")
    time.sleep(0.1)
    assert proxy.sink.started == [] and proxy.sink.finished == []


def test_reverse_mode_rewrites_host(proxy, stub):
    r = httpx.post(f"{proxy.url}/v1/messages", json=MSG, headers={"x-api-key": "sk-test"})
    assert r.status_code == 200 and r.json()["type"] == "message"
    assert httpx.head(f"{proxy.url}/").status_code == 200
    ex = proxy.sink.wait_finished(2)
    assert [(e.mode, e.method, e.status) for e in ex] == [("reverse", "POST", 200), ("reverse", "HEAD", 200)]
    assert ex[0].host == "127.0.0.1" and ex[0].port == stub.port
    assert stub.requests[0]["headers"]["host"] == f"127.0.0.1:{stub.port}"


def test_resolve_sends_traffic_elsewhere_but_verifies_the_name(start_proxy, stub):
    proxy = start_proxy(intercept=("api.anthropic.com", "localhost"),
                        resolve={("localhost", 9): ("127.0.0.1", stub.port)})
    with proxy.client() as client:
        assert client.post("https://localhost:9/v1/messages", json=MSG).status_code == 200
    (ex,) = proxy.sink.wait_finished(1)
    assert (ex.host, ex.port) == ("localhost", 9)


def test_upstream_down_gives_502_with_the_reason(start_proxy):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    proxy = start_proxy(resolve={("api.anthropic.com", 443): ("127.0.0.1", dead_port)})
    with proxy.client() as client:
        r = client.post(f"{API}/v1/messages", json=MSG)
    assert r.status_code == 502
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"] == "proxy_error"
    assert "could not reach api.anthropic.com:443" in body["error"]["message"]
    (ex,) = proxy.sink.wait_finished(1)
    assert ex.error.startswith("upstream_unreachable:") and ex.status == 502 and not ex.complete
    assert json.loads(ex.request_body.getvalue()) == MSG  # the request is kept all the same
    assert proxy.sink.wait_notice("upstream_error")


def test_untrusted_upstream_certificate_gives_502(start_proxy):
    proxy = start_proxy(upstream_ca=None)  # the stub's CA is not trusted now
    with proxy.client() as client:
        r = client.post(f"{API}/v1/messages", json=MSG)
    assert r.status_code == 502 and "certificate verification failed" in r.json()["error"]["message"]
    (ex,) = proxy.sink.wait_finished(1)
    assert ex.error.startswith("upstream_tls:")


@pytest.mark.parametrize("raw", [b"THIS IS NOT HTTP\r\n\r\n", b"CONNECT nowhere HTTP/1.1\r\n\r\n",
                                 b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"])
def test_malformed_request_gets_400_and_close(proxy, raw):
    with socket.create_connection((proxy.host, proxy.port), timeout=5) as sock:
        sock.sendall(raw)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400"), reply
    assert b'"type": "error"' in reply


def test_client_hangup_mid_stream_leaves_others_unaffected(proxy):
    with proxy.client() as client:
        with client.stream("POST", f"{API}/v1/messages", json=dict(MSG, stream=True),
                           headers={"x-stub-event-delay-ms": "2500"}) as r:
            next(r.iter_lines())
        # leaving the block closes the connection mid-stream, while the upstream is silent
        closed_at = time.monotonic()
    # noticed at once, not at the upstream's next event 2.5 s later (a wide margin: this
    # machine may be busy)
    assert _wait(lambda: proxy.sink.finished, timeout=2.2)
    assert time.monotonic() - closed_at < 2
    with proxy.client() as other:
        assert other.post(f"{API}/v1/messages", json=MSG).status_code == 200
    finished = proxy.sink.wait_finished(2)
    cut = next(e for e in finished if e.error)
    assert cut.error == "client_disconnected" and not cut.complete and cut.status == 200
    assert any(e.complete for e in finished)


def test_upstream_hangup_mid_stream_is_recorded(proxy):
    with proxy.client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            with client.stream("POST", f"{API}/v1/messages", json=dict(MSG, stream=True),
                               headers={"x-stub-cut-after-events": "3"}) as r:
                for _ in r.iter_lines():
                    pass
        assert client.post(f"{API}/v1/messages", json=MSG).status_code == 200
    finished = proxy.sink.wait_finished(2)
    assert finished[0].error.startswith("upstream_disconnected") and not finished[0].complete
    assert b"message_start" in finished[0].response_body.getvalue()
    assert finished[1].complete


class ExplodingSink(RecordingSink):
    def exchange_started(self, ex):
        raise RuntimeError("sink bug")

    def exchange_finished(self, ex):
        super().exchange_finished(ex)
        raise RuntimeError("sink bug")


def test_a_failing_sink_does_not_break_forwarding(start_proxy, caplog):
    proxy = start_proxy(sink=ExplodingSink())
    with proxy.client() as client:
        for _ in range(3):
            assert client.post(f"{API}/v1/messages", json=MSG).status_code == 200
    assert len(proxy.sink.wait_finished(3)) == 3
    logged = [r for r in caplog.records if "sink." in r.getMessage()]
    assert len(logged) == 2  # once per kind, not once per call


def test_capture_is_capped_but_forwarding_is_not(start_proxy):
    proxy = start_proxy(max_capture_bytes=1000)
    with proxy.client() as client:
        r = client.post(f"{API}/v1/messages", json=MSG, headers={"x-stub-body-bytes": "200000"})
    assert len(r.content) == 200000
    (ex,) = proxy.sink.wait_finished(1)
    assert ex.response_body.truncated and len(ex.response_body.getvalue()) == 1000
    assert ex.response_body.size == 200000


def test_stop_reports_exchanges_cut_short(start_proxy):
    proxy = start_proxy()
    done = threading.Event()

    def slow_stream():
        try:
            with proxy.client() as client:
                with client.stream("POST", f"{API}/v1/messages", json=dict(MSG, stream=True),
                                   headers={"x-stub-event-delay-ms": "300"}) as r:
                    for _ in r.iter_lines():
                        pass
        except httpx.HTTPError:
            pass
        done.set()

    threading.Thread(target=slow_stream, daemon=True).start()
    assert _wait(lambda: proxy.sink.started)
    proxy.thread.stop()
    (ex,) = proxy.sink.wait_finished(1)
    assert ex.error == "proxy_stopped"
    assert done.wait(5)


def _wait(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end and not cond():
        time.sleep(0.01)
    return cond()


@pytest.mark.skipif(not shutil.which("curl"), reason="curl not installed")
def test_curl_streams_through_the_proxy(proxy):
    out = subprocess.run(
        ["curl", "-sS", "-N", "--proxy", proxy.url, "--cacert", proxy.ca_file,
         "-H", "content-type: application/json", "-H", "x-stub-event-delay-ms: 5",
         "--data", json.dumps(dict(MSG, stream=True)), f"{API}/v1/messages"],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("event: ") >= 8 and "event: message_stop" in out.stdout


def test_listening_beyond_loopback_warns(start_proxy):
    proxy = start_proxy(listen_host="0.0.0.0")
    assert "open proxy" in proxy.sink.wait_notice("open_proxy")
    assert proxy.sink.wait_notice("listening")


def test_core_paths_on_asyncio_own_loop(start_proxy, monkeypatch):
    """The engine is loop-agnostic: the same paths work without uvloop."""
    monkeypatch.setenv("CLAUDE_INSPECT_LOOP", "asyncio")
    proxy = start_proxy()
    assert type(proxy.thread.loop).__module__.startswith("asyncio")
    test_client_hello_in_the_same_packet_as_connect(proxy)
    with proxy.client() as client:
        for _ in range(3):
            assert client.post(f"{API}/v1/messages", json=MSG).status_code == 200
        with client.stream("POST", f"{API}/v1/messages", json=dict(MSG, stream=True)) as r:
            assert "event: message_stop" in r.read().decode()
    assert httpx.post(f"{proxy.url}/v1/messages", json=MSG).status_code == 200
    assert all(e.complete for e in proxy.sink.wait_finished(6))


@pytest.mark.skipif(not shutil.which("curl"), reason="curl not installed")
def test_large_upload_with_expect_100_continue(proxy, stub, tmp_path):
    """curl asks `Expect: 100-continue` for big bodies; the proxy answers it itself."""
    body = tmp_path / "body.json"
    body.write_bytes(b'{"pad": "' + b"a" * (2 << 20) + b'"}')
    out = subprocess.run(
        ["curl", "-sS", "--proxy", proxy.url, "--cacert", proxy.ca_file, "-H", "Expect: 100-continue",
         "-H", "content-type: application/json", "--data-binary", f"@{body}", f"{API}/v1/messages"],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and json.loads(out.stdout)["type"] == "message", out.stderr
    assert len(stub.requests[-1]["body"]) == body.stat().st_size
    assert "expect" not in stub.requests[-1]["headers"]
    (ex,) = proxy.sink.wait_finished(1)
    assert ex.request_body.size == body.stat().st_size


def test_error_status_passes_through(proxy):
    with proxy.client() as client:
        r = client.post(f"{API}/v1/messages", json=MSG, headers={"x-stub-status": "429"})
    assert r.status_code == 429 and r.json()["error"]["type"] == "api_error"
    (ex,) = proxy.sink.wait_finished(1)
    assert ex.status == 429 and ex.complete and ex.error is None


def test_upstream_closing_after_a_reply_is_reconnected_transparently(proxy, stub):
    with proxy.client() as client:
        first = client.post(f"{API}/v1/messages", json=MSG, headers={"x-stub-close": "1"})
        second = client.post(f"{API}/v1/messages", json=MSG)
    assert first.status_code == second.status_code == 200
    assert "connection" not in first.headers  # hop-by-hop: the client's connection stays open
    finished = proxy.sink.wait_finished(2)
    assert finished[0].connection_id == finished[1].connection_id
    assert stub.connections == 2
    assert finished[1].timings.upstream_connected is not None


def test_anthropic_sdk_in_reverse_mode(proxy):
    """What `ANTHROPIC_BASE_URL=http://127.0.0.1:PORT` does: no CA needed."""
    client = anthropic.Anthropic(api_key="sk-test", base_url=proxy.url, max_retries=0)
    with client.messages.stream(**MSG) as stream:
        assert "".join(stream.text_stream).startswith("Hello from the stub")
    (ex,) = proxy.sink.wait_finished(1)
    assert ex.mode == "reverse" and ex.complete and ex.target.startswith("/v1/messages")
