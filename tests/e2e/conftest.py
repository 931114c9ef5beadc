"""End-to-end fixtures: a real TLS stand-in API on loopback, and the real CLI in a
subprocess, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from inspector.demo.stub_api import StubAPI


@pytest.fixture
def stub(tmp_path):
    with StubAPI(tls=True, cert_dir=tmp_path / "stub-ca") as api:
        yield api


@pytest.fixture
def proxy_args(stub):
    """Proxy options that send api.anthropic.com to the stand-in, verified by its CA."""
    return ["--resolve", f"api.anthropic.com:443:127.0.0.1:{stub.port}",
            "--upstream-ca", stub.ca_file]


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60,
        **kwargs) -> subprocess.CompletedProcess:
    """Run `claude-inspect ARGS` as a subprocess with the test's environment."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "inspector", *args], env=full_env,
                          capture_output=True, text=True, timeout=timeout, **kwargs)
