"""Fixtures for the proxy tests: a real TLS stub of the Messages API on loopback, a real
proxy in front of it (its own thread and loop, as the app runs it), and a sink that
records what the proxy reports."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from inspector.demo.stub_api import StubAPI
from inspector.model import ProxySettings
from inspector.proxy.thread import ProxyThread
from proxy_helpers import RawUpstream, RecordingSink

API = "https://api.anthropic.com"


class RunningProxy:
    def __init__(self, thread: ProxyThread, sink, settings: ProxySettings) -> None:
        self.thread, self.sink, self.settings = thread, sink, settings
        self.host, self.port = thread.address
        self.url = f"http://{self.host}:{self.port}"
        self.ca_file = str(Path(settings.ca_dir) / "ca.pem")

    def client(self, **kwargs) -> httpx.Client:
        """An httpx client using the proxy (CONNECT) and trusting our CA."""
        kwargs.setdefault("timeout", 10)
        return httpx.Client(proxy=self.url, verify=self.ca_file, **kwargs)

    def connect_tunnel(self, host: str = "api.anthropic.com", port: int = 443,
                       extra: bytes = b"") -> socket.socket:
        """A raw socket through which CONNECT succeeded (`extra` sent in the same packet)."""
        sock = socket.create_connection((self.host, self.port), timeout=10)
        sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode() + extra)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1)
            assert chunk, head
            head += chunk
        assert head.startswith(b"HTTP/1.1 200"), head
        return sock


@pytest.fixture
def stub(tmp_path):
    with StubAPI(tls=True, cert_dir=tmp_path / "stub-ca") as api:
        yield api


@pytest.fixture
def start_proxy(tmp_path, stub):
    """Start a proxy pointed at `stub` (as api.anthropic.com via --resolve); kwargs
    override ProxySettings fields."""
    running: list[ProxyThread] = []

    def start(sink=None, timeouts=None, **overrides) -> RunningProxy:
        sink = sink if sink is not None else RecordingSink()
        fields = dict(
            listen_host="127.0.0.1", listen_port=0,
            resolve={("api.anthropic.com", 443): ("127.0.0.1", stub.port)},
            upstream_ca=stub.ca_file, upstream_url=stub.url, ca_dir=str(tmp_path / "home"),
        )
        fields.update(overrides)
        settings = ProxySettings(**fields)
        thread = ProxyThread(settings, sink, **({"timeouts": timeouts} if timeouts else {}))
        thread.start()
        running.append(thread)
        return RunningProxy(thread, sink, settings)

    yield start
    for thread in running:
        thread.stop()


@pytest.fixture
def proxy(start_proxy) -> RunningProxy:
    return start_proxy()


@pytest.fixture
def raw_upstream(tmp_path, stub):
    """Start `RawUpstream(handler)` serving TLS as api.anthropic.com (trusted through the
    stub's CA); point a proxy at it with `resolve=upstream_route(raw)`."""
    servers: list[RawUpstream] = []

    def start(handler) -> RawUpstream:
        server = RawUpstream(handler, leaf=str(tmp_path / "stub-ca" / "stub-leaf.pem"))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def upstream_route(server) -> dict:
    return {("api.anthropic.com", 443): ("127.0.0.1", server.port)}
