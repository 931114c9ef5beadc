"""Fixtures shared by every test: each test gets its own home folder, so nothing a test
does touches the user's real ~/.claude-inspect."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A fresh CLAUDE_INSPECT_HOME for every test."""
    path = tmp_path / "home"
    monkeypatch.setenv("CLAUDE_INSPECT_HOME", str(path))
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                "all_proxy", "ANTHROPIC_BASE_URL", "CLAUDE_INSPECT_LISTEN", "CLAUDE_INSPECT_DB"):
        monkeypatch.delenv(var, raising=False)
    return path
