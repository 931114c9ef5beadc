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


@pytest.fixture
def read_only(tmp_path):
    """Makes a file or folder read-only for this process (the immutable flag as root,
    whom file modes do not stop), and undoes it afterwards."""
    import os
    import shutil

    made = []

    def make(path):
        if os.geteuid() == 0:
            if not shutil.which("chattr") or subprocess.run(
                    ["chattr", "+i", str(path)], capture_output=True).returncode:
                pytest.skip("cannot make a file read-only for root here")
        else:
            path.chmod(0o555 if path.is_dir() else 0o444)
        made.append(path)

    yield make
    for path in reversed(made):
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        else:
            path.chmod(0o755 if path.is_dir() else 0o644)


def test_a_read_only_database_can_be_browsed(home, read_only):
    """A database in a folder the user may not write (an archive, someone else's home)
    is read: list, show, tree and stats work; only writing commands refuse, in one line."""
    from store.helpers import record

    from inspector.store import Store

    rec = record(sources={"mcp:github": 40})
    with Store(home / "captures.db") as store:
        store.write([rec])
    read_only(home / "captures.db")
    read_only(home)
    listed = run("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["id"] for r in __import__("json").loads(listed.stdout)] == [rec.capture.id]
    for args in (["list"], ["show", rec.capture.id], ["tree", rec.capture.id], ["stats"]):
        out = run(*args)
        assert out.returncode == 0, (args, out.stderr)
    rated = run("rate", rec.capture.id, "good")
    assert rated.returncode == 1 and len(rated.stderr.strip().splitlines()) == 1
    assert "read-only" in rated.stderr
