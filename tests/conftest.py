"""Fixtures shared by every test: each test gets its own home folder, so nothing a test
does touches the user's real ~/.claude-inspect."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from inspector.cli import cli
from inspector.store import Store


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A fresh CLAUDE_INSPECT_HOME for every test."""
    path = tmp_path / "home"
    monkeypatch.setenv("CLAUDE_INSPECT_HOME", str(path))
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                "all_proxy", "ANTHROPIC_BASE_URL", "CLAUDE_INSPECT_LISTEN", "CLAUDE_INSPECT_DB"):
        monkeypatch.delenv(var, raising=False)
    return path


@pytest.fixture
def store(home):
    """A store in the test's home (it keeps the stats rollups as it writes)."""
    home.mkdir(parents=True, exist_ok=True)
    s = Store(home / "captures.db")
    yield s
    s.close()


@pytest.fixture
def run_cli(home):
    """Invoke the CLI with --home set to the test's folder; returns the click Result."""
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(cli, ["--home", str(home), *args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture
def utc(monkeypatch):
    """Local time is UTC for the test (snapshots draw times)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
