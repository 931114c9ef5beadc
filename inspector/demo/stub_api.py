"""A stand-in for the Messages API on loopback, for tests, benchmarks and the demo.

`StubAPI` serves HTTP/1.1 with h11 on its own event loop in a background thread, over TLS
(a leaf for api.anthropic.com, localhost and 127.0.0.1 from a private CA it writes to
`cert_dir`) or plain HTTP. `POST /v1/messages` answers from `responder(request_json)`;
with `"stream": true` it answers Server-Sent Events in the API's own sequence. Request
headers steer it, so a test can ask for what it needs:

* `x-stub-event-delay-ms: 50`   spacing between SSE events
* `x-stub-cut-after-events: 3`  hang up mid-stream after that many events
* `x-stub-body-bytes: N`        a body of N bytes, sent in 64 KiB chunks
* `x-stub-chunked: 1`           chunked framing instead of Content-Length
* `x-stub-encoding: gzip|br|zstd|deflate`  compress the JSON reply
* `x-stub-close: 1`             close the connection after this reply (JSON replies)
* `x-stub-status: 429`          answer with that status and an API-shaped error
* `x-stub-stamp: 1`             precede each SSE event with a comment line `: sent T`,
                                T from time.monotonic() (comparable across processes)
* `x-stub-text-chars: N`        a text reply of N characters (a stream of N/12 deltas)
* `x-stub-reply-headers: JSON`  extra reply headers, a JSON object (e.g. quota headers)

With a `PromptCache` (`prompt_cache.py`), the usage of each reply says what a prompt
cache would have read and written for the request.

`POST /v1/messages/count_tokens` answers `{"input_tokens": N}` from the token model
(`token_model.py`), the same model the default reply's usage comes from. Both endpoints
refuse invalid requests with a 400, as the real API does (`validate.py`).

Run `python -m inspector.demo.stub_api --port 0 --cert-dir DIR` to serve from a process;
it prints the port.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import ssl
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any, Callable

import h11

from inspector.demo import token_model, validate
from inspector.proxy.certs import CertificateAuthority, write_private_file
from inspector.proxy.thread import new_event_loop

Responder = Callable[[dict[str, Any]], dict[str, Any]]
CHUNK = 64 * 1024


def default_responder(request: dict[str, Any]) -> dict[str, Any]:
    """A short text reply whose usage is the request's size in the token model."""
    return {
        "id": "msg_stub0001", "type": "message", "role": "assistant",
        "model": request.get("model", "claude-stub"),
        "content": [{"type": "text", "text": "Hello from the stub API. All is well."}],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": max(1, token_model.count_request(request)), "output_tokens": 9,
                  "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0},
    }


def sse_events(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The event sequence the API streams for `message`."""
    usage = dict(message.get("usage") or {})
    start = dict(message, content=[], stop_reason=None, stop_sequence=None,
                 usage=dict(usage, output_tokens=1))
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start}),
        ("ping", {"type": "ping"}),
    ]
    for i, block in enumerate(message.get("content") or []):
        kind = block.get("type")
        if kind == "text":
            first, deltas = dict(block, text=""), [
                {"type": "text_delta", "text": piece} for piece in _pieces(block["text"])]
        elif kind == "tool_use":
            first = dict(block, input={})
            deltas = [{"type": "input_json_delta", "partial_json": piece}
                      for piece in _pieces(json.dumps(block.get("input", {})))]
        elif kind == "thinking":
            first = dict(block, thinking="", signature="")
            deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(block["thinking"])]
            deltas.append({"type": "signature_delta", "signature": block.get("signature", "c2ln")})
        else:
            first, deltas = block, []
        events.append(("content_block_start",
                       {"type": "content_block_start", "index": i, "content_block": first}))
        events += [("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d})
                   for d in deltas]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    events.append(("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": message.get("stop_reason"), "stop_sequence": message.get("stop_sequence")},
        "usage": {"output_tokens": usage.get("output_tokens", 0)},
    }))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _pieces(text: str, size: int = 12) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def compress(data: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(data)
    if encoding == "deflate":
        return zlib.compress(data)
    if encoding == "br":
        import brotli
        return brotli.compress(data)
    if encoding == "zstd":
        import zstandard
        return zstandard.ZstdCompressor().compress(data)
    raise ValueError(f"unknown encoding {encoding!r}")


class StubAPI:
    """The stub server in a background thread: `with StubAPI() as api: api.url`."""

    def __init__(self, tls: bool = True, cert_dir: str | os.PathLike[str] | None = None,
                 responder: Responder | None = None, host: str = "127.0.0.1", port: int = 0,
                 record: bool = True, prompt_cache: Any = None) -> None:
        self.tls = tls
        self.prompt_cache = prompt_cache
        self.host = host
        self.port = port
        self.responder = responder or default_responder
        self.record = record
        #: what it received: dicts with method, target, headers (lower-cased), body (bytes)
        self.requests: list[dict[str, Any]] = []
        self.connections = 0
        #: when set, count_tokens answers this status (e.g. 429) instead of a count
        self.count_status: int | None = None
        self.ca_file: str | None = None
        self._ssl: ssl.SSLContext | None = None
        if tls:
            folder = Path(cert_dir or tempfile.mkdtemp(prefix="claude-inspect-stub-"))
            ca = CertificateAuthority.load_or_create(folder)
            cert_pem, key_pem = ca.issue(["api.anthropic.com", "localhost", "127.0.0.1"])
            leaf = folder / "stub-leaf.pem"
            write_private_file(leaf, cert_pem + key_pem, 0o600)
            self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ssl.load_cert_chain(leaf)
            self._ssl.set_alpn_protocols(["http/1.1"])
            self.ca_file = str(ca.cert_path)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def __enter__(self) -> StubAPI:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = self._loop = new_event_loop()
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, self.host, self.port, ssl=self._ssl))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="stub-api", daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        if self._loop is None:
            return

        async def close() -> None:
            self._server.close()
            for w in list(self._writers):
                w.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop = None

    # ------------------------------------------------------------ serving
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                req, body = await self._read_request(conn, reader)
                if req is None:
                    return
                await self._respond(conn, writer, req, body)
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, ssl.SSLError, _HangUp):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _read_request(self, conn: h11.Connection, reader: asyncio.StreamReader):
        req, parts = None, []
        while True:
            ev = conn.next_event()
            if ev is h11.NEED_DATA:
                conn.receive_data(await reader.read(CHUNK))
            elif type(ev) is h11.Request:
                req = ev
            elif type(ev) is h11.Data:
                parts.append(ev.data)
            elif type(ev) is h11.EndOfMessage:
                return req, b"".join(parts)
            else:
                return None, b""

    async def _respond(self, conn: h11.Connection, writer: asyncio.StreamWriter,
                       req: h11.Request, body: bytes) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in req.headers}
        if self.record:
            self.requests.append({"method": req.method.decode(), "target": req.target.decode(),
                                  "headers": headers, "body": body})

        async def send(*events: Any) -> None:
            writer.write(b"".join(conn.send(e) for e in events))
            await writer.drain()

        if req.method == b"HEAD":
            await send(h11.Response(status_code=200, headers=[("content-length", "0")]), h11.EndOfMessage())
            return
        path = req.target.split(b"?")[0]
        if path not in (b"/v1/messages", b"/v1/messages/count_tokens") or req.method != b"POST":
            await send(*_error(conn, 404, "not_found_error", "not found"))
            return
        if "x-stub-status" in headers:
            status = int(headers["x-stub-status"])
            err = json.dumps({"type": "error", "error": {"type": "api_error", "message": f"stub status {status}"}})
            await send(h11.Response(status_code=status, headers=[("content-type", "application/json"),
                                                                  ("content-length", str(len(err)))]),
                       h11.Data(data=err.encode()), h11.EndOfMessage())
            return
        chunked = headers.get("x-stub-chunked") not in (None, "", "0")
        if "x-stub-body-bytes" in headers:
            await self._send_bytes(conn, writer, int(headers["x-stub-body-bytes"]), chunked)
            return
        try:
            request_json = json.loads(body or b"{}")
        except ValueError:
            request_json = {}
        counting = path == b"/v1/messages/count_tokens"
        if counting or (isinstance(request_json, dict) and "messages" in request_json):
            why = validate.problem(request_json, count_tokens=counting)
            if why:
                await send(*_error(conn, 400, "invalid_request_error", why))
                return
        if counting and self.count_status:
            await send(*_error(conn, self.count_status, "rate_limit_error"
                               if self.count_status == 429 else "api_error", "stub count status"))
            return
        if counting:
            data = json.dumps({"input_tokens": token_model.count_request(request_json)}).encode()
            await send(h11.Response(status_code=200, headers=[
                ("content-type", "application/json"), ("content-length", str(len(data)))]),
                h11.Data(data=data), h11.EndOfMessage())
            return
        message = self.responder(request_json)
        if self.prompt_cache is not None:
            message = self.prompt_cache.apply(request_json, message)
        extra = json.loads(headers.get("x-stub-reply-headers") or "{}")
        if headers.get("x-stub-text-chars"):
            words = ("lorem ipsum dolor sit amet " * (int(headers["x-stub-text-chars"]) // 27 + 1))
            message = dict(message, content=[{"type": "text", "text": words[:int(headers["x-stub-text-chars"])]}])
        if request_json.get("stream"):
            await self._send_sse(conn, writer, message, headers, list(extra.items()))
            return
        data = json.dumps(message).encode()
        out = [("content-type", "application/json"), ("request-id", "req_stub"), *extra.items()]
        if headers.get("x-stub-close"):
            out.append(("connection", "close"))
        if headers.get("x-stub-encoding"):
            data = compress(data, headers["x-stub-encoding"])
            out.append(("content-encoding", headers["x-stub-encoding"]))
        out.append(("transfer-encoding", "chunked") if chunked else ("content-length", str(len(data))))
        await send(h11.Response(status_code=200, headers=out), h11.Data(data=data), h11.EndOfMessage())

    async def _send_bytes(self, conn: h11.Connection, writer: asyncio.StreamWriter, size: int,
                          chunked: bool) -> None:
        framing = ("transfer-encoding", "chunked") if chunked else ("content-length", str(size))
        writer.write(conn.send(h11.Response(status_code=200, headers=[
            ("content-type", "application/octet-stream"), framing])))
        block = b"x" * CHUNK
        left = size
        while left > 0:
            n = min(left, CHUNK)
            writer.write(conn.send(h11.Data(data=block[:n])))
            left -= n
            await writer.drain()
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()

    async def _send_sse(self, conn: h11.Connection, writer: asyncio.StreamWriter,
                        message: dict[str, Any], headers: dict[str, str],
                        extra: list[tuple[str, str]] = ()) -> None:
        delay = float(headers.get("x-stub-event-delay-ms", "0")) / 1000.0
        cut = int(headers.get("x-stub-cut-after-events", "0") or 0)
        stamped = bool(headers.get("x-stub-stamp"))
        writer.write(conn.send(h11.Response(status_code=200, headers=[
            ("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache"),
            ("request-id", "req_stub"), ("transfer-encoding", "chunked"), *extra])))
        for n, (name, data) in enumerate(sse_events(message), start=1):
            if delay:
                await asyncio.sleep(delay)
            stamp = f": sent {time.monotonic():.6f}\n" if stamped else ""
            writer.write(conn.send(h11.Data(data=f"{stamp}event: {name}\ndata: {json.dumps(data)}\n\n".encode())))
            await writer.drain()
            if cut and n >= cut:
                writer.transport.abort()
                raise _HangUp()
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()


def _error(conn: h11.Connection, status: int, kind: str, message: str) -> tuple[Any, ...]:
    data = json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()
    return (h11.Response(status_code=status, headers=[("content-type", "application/json"),
                                                      ("content-length", str(len(data)))]),
            h11.Data(data=data), h11.EndOfMessage())


class _HangUp(Exception):
    """Raised to end a connection on purpose (x-stub-cut-after-events)."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a stand-in Messages API on loopback.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert-dir", default=None, help="where to write the stub's CA (default: a temporary folder)")
    parser.add_argument("--plain", action="store_true", help="plain HTTP instead of TLS")
    args = parser.parse_args(argv)
    stub = StubAPI(tls=not args.plain, cert_dir=args.cert_dir, port=args.port, record=False)
    stub.start()
    print(stub.port, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        stub.stop()


if __name__ == "__main__":
    sys.exit(main())
