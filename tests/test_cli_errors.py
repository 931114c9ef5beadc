"""Bad input gives one line and exit code 1, at once: never a traceback or a hang."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True,
                          text=True, timeout=30)


@pytest.mark.parametrize("args, says", [
    (["proxy", "--listen", "127.0.0.1:0", "--resolve", "bad"], "--resolve 'bad'"),
    (["proxy", "--listen", "127.0.0.1:0", "--upstream", "ftp://x"], "--upstream 'ftp://x'"),
    (["run", "--listen", "127.0.0.1:0", "--resolve", "bad", "--", "true"], "--resolve 'bad'"),
])
def test_bad_proxy_settings_fail_before_anything_starts(home, args, says):
    out = run(*args)
    assert out.returncode == 1, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and says in lines[0]


def test_a_file_that_is_no_database_is_one_line(home):
    home.mkdir()
    (home / "captures.db").write_bytes(b"garbage, not sqlite" * 100)
    for args in (["list"], ["list", "--json"], ["stats"], ["export"]):
        out = run(*args)
        assert out.returncode == 1, (args, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot be read" in lines[0], (args, out.stderr)
