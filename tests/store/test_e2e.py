"""End to end: a real SDK client -> the real proxy -> a TLS stub of the Messages API, with
the runtime's writer storing every exchange; then the stored records are checked."""

from __future__ import annotations

import json

import anthropic
import pytest
from capture.fixtures import SECRET_KEY

from inspector.config import Config
from inspector.demo.stub_api import StubAPI
from inspector.runtime.local import Runtime
from inspector.store import Filter, Store, get_exchange, list_requests

MODEL = "claude-sonnet-4-5-20250929"


def _no_nulls(value):
    """The SDK fills fields the API left out with None; compare without them."""
    if isinstance(value, dict):
        return {k: _no_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_no_nulls(v) for v in value]
    return value


@pytest.fixture
def running(tmp_path, home):
    with StubAPI(tls=True, cert_dir=tmp_path / "stub") as stub:
        config = Config.load(home, listen="127.0.0.1:0", upstream_ca=stub.ca_file,
                             resolve=[f"api.anthropic.com:443:127.0.0.1:{stub.port}"])
        runtime = Runtime(config)
        runtime.start()
        assert runtime.proxy_error is None
        host, port = runtime.proxy_address
        client = anthropic.Anthropic(
            api_key=SECRET_KEY, max_retries=0,
            http_client=anthropic.DefaultHttpxClient(proxy=f"http://{host}:{port}",
                                                     verify=str(config.ca_path)))
        try:
            yield config, runtime, client
        finally:
            runtime.stop()


def test_stored_records_match_what_the_sdk_saw(running):
    config, runtime, client = running
    messages = [{"role": "user", "content": "Hello there"}]
    with client.messages.stream(model=MODEL, max_tokens=64, messages=messages) as stream:
        final = stream.get_final_message()
    plain = client.messages.create(model=MODEL, max_tokens=64, messages=messages,
                                   extra_headers={"x-stub-encoding": "gzip"})
    brotli_reply = client.messages.create(model=MODEL, max_tokens=64, messages=messages,
                                          extra_headers={"x-stub-encoding": "br"})
    with pytest.raises(Exception, match="incomplete|closed|peer"):  # httpx2 error types
        with client.messages.stream(model=MODEL, max_tokens=64, messages=messages,
                                    extra_headers={"x-stub-cut-after-events": "4"}) as stream:
            stream.get_final_message()
    runtime.stop()  # drains the writer

    store = Store(config.db_path)
    try:
        rows = list_requests(store, Filter())
        assert len(rows) == 4
        cut, br, gz, streamed = rows  # newest first
        ex = get_exchange(store, streamed["id"])
        assert _no_nulls(ex["response"]["body"]) == _no_nulls(final.to_dict(mode="json"))
        assert ex["response"]["stream_complete"] is True and streamed["stream"] is True
        assert streamed["input_tokens"] == final.usage.input_tokens
        assert streamed["output_tokens"] == final.usage.output_tokens
        for row, reply in ((gz, plain), (br, brotli_reply)):
            stored = get_exchange(store, row["id"])["response"]
            assert _no_nulls(stored["body"]) == _no_nulls(reply.to_dict(mode="json"))
            assert stored["note"] is None  # decoded cleanly
        assert gz["input_tokens"] == plain.usage.input_tokens
        assert cut["stream_complete"] is False and cut["error"]
        assert get_exchange(store, cut["id"])["response"]["body"]["id"] == final.id
        headers = {k.lower(): v for k, v in ex["request"]["headers"]}
        key_header = headers.get("x-api-key") or headers["authorization"]
        assert SECRET_KEY not in json.dumps(headers) and SECRET_KEY[-4:] in key_header
        assert "[sha256:" in key_header
    finally:
        store.close()
    for path in config.home.rglob("*"):
        if path.is_file():
            assert SECRET_KEY.encode() not in path.read_bytes(), path


def test_500_exchanges_from_32_clients_none_lost(running):
    """Every relayed exchange is stored once the runtime stops right after the last reply."""
    import threading

    import httpx2

    config, runtime, _client = running
    host, port = runtime.proxy_address
    body = json.dumps({"model": MODEL, "max_tokens": 16, "stream": True,
                       "messages": [{"role": "user", "content": "hi"}]})
    errors: list[BaseException] = []

    def client_thread(count: int) -> None:
        try:
            with httpx2.Client(proxy=f"http://{host}:{port}", verify=str(config.ca_path),
                               timeout=30) as http:
                for _ in range(count):
                    r = http.post("https://api.anthropic.com/v1/messages", content=body,
                                  headers={"x-api-key": SECRET_KEY,
                                           "content-type": "application/json"})
                    assert r.status_code == 200 and "message_stop" in r.text
        except BaseException as e:  # reported below
            errors.append(e)

    counts = [500 // 32 + (1 if i < 500 % 32 else 0) for i in range(32)]
    threads = [threading.Thread(target=client_thread, args=(n,)) for n in counts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    runtime.stop()
    store = Store(config.db_path)
    try:
        assert store.execute("SELECT count(*) FROM requests").fetchone()[0] == 500
        assert store.execute("SELECT count(*) FROM responses WHERE stream_complete = 1"
                             ).fetchone()[0] == 500
    finally:
        store.close()
