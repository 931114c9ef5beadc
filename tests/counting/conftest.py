"""A stub API (the token model is the truth) and a recording proxy with `--exact` on."""

from __future__ import annotations

import time

import httpx
import pytest

from inspector.config import Config
from inspector.demo.stub_api import StubAPI
from inspector.runtime import Runtime
from inspector.store import Store, get_exchange

KEY = "sk-ant-test-0000-exact-counting-key"


@pytest.fixture
def stub(tmp_path):
    with StubAPI(tls=True, cert_dir=tmp_path / "stub-ca") as api:
        yield api


class Proxy:
    def __init__(self, runtime: Runtime, config: Config, stub: StubAPI) -> None:
        self.runtime, self.config, self.stub = runtime, config, stub
        host, port = runtime.proxy_address
        self.client = httpx.Client(proxy=f"http://{host}:{port}",
                                   verify=str(config.home / "ca.pem"), timeout=20)
        self.stored: list[str] = []
        runtime.add_listener(lambda event, data: event == "stored" and self.stored.extend(data))

    def send(self, body: dict, path: str = "/v1/messages", key: str = KEY) -> httpx.Response:
        return self.client.post(f"https://api.anthropic.com{path}", json=body,
                                headers={"x-api-key": key, "anthropic-version": "2023-06-01"})

    def count_calls(self) -> int:
        return sum(1 for r in self.stub.requests if r["target"].startswith("/v1/messages/count_tokens"))

    def tree(self, request_id: str, counted: bool = True, timeout: float = 60) -> dict:
        """The stored tree of a request, once the counter has replaced it."""
        deadline = time.monotonic() + timeout
        while True:
            if request_id in self.stored:
                with Store(self.config.db_path) as store:
                    root = get_exchange(store, request_id)["attribution"]
                if not counted or "exact" in root.get("meta", {}):
                    return root
            assert time.monotonic() < deadline, "the request was not counted in time"
            time.sleep(0.05)


@pytest.fixture
def exact_proxy(home, stub):
    config = Config.load(home, listen="127.0.0.1:0", exact=True, count_per_minute=100000,
                         resolve=[f"api.anthropic.com:443:127.0.0.1:{stub.port}"],
                         upstream_ca=stub.ca_file)
    runtime = Runtime(config)
    runtime.start()
    assert runtime.proxy_error is None, runtime.proxy_error
    proxy = Proxy(runtime, config, stub)
    try:
        yield proxy
    finally:
        proxy.client.close()
        runtime.stop()
