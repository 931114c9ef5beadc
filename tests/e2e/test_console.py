"""The console of `claude-inspect proxy` and `run` as a user meets it: a Ctrl-C at any
moment of the start, a closed stdout, a home that cannot be created."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from .conftest import cli
from .faults import ProxyProcess, client, post, stored


def test_ctrl_c_right_after_start_prints_no_traceback(home):
    # the terminal's Ctrl-C reaches the whole process group: the proxy, and its recorder
    # child at whatever point of its own start it is
    for delay in (0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8):
        # a process that hangs is made to print where each of its threads waits
        env = dict(os.environ, PYTHONFAULTHANDLER="1")
        proc = subprocess.Popen([sys.executable, "-m", "inspector", "proxy", "--listen",
                                 "127.0.0.1:0"], stdout=subprocess.PIPE, env=env,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        assert "listening on" in proc.stdout.readline()
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGABRT)
            out, err = proc.communicate(timeout=10)
            raise AssertionError(f"no end 30 s after Ctrl-C at {delay} s:\n{out}\n{err}")
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, (delay, err)
        assert proc.returncode == 0 and "proxy stopped" in out, (delay, proc.returncode, err)


def test_a_closed_stdout_ends_neither_the_proxy_nor_forwarding(home, stub, proxy_args):
    p = ProxyProcess(*proxy_args, head=3)  # as `claude-inspect proxy | head -3`
    try:
        time.sleep(0.3)
        with client(p.port, home) as http:
            for _ in range(3):
                assert post(http) == 200
                time.sleep(0.2)  # each exchange line meets the closed pipe
        assert p.proc.poll() is None
        line = p.wait_line("stdout is closed", stream="err")
        assert line.startswith("note: ")
    finally:
        p.stop(signal.SIGTERM)
    assert p.proc.returncode == 0, p.err
    assert "Traceback" not in "".join(p.err) and "BrokenPipe" not in "".join(p.err)
    assert stored(home / "captures.db") == 3


def test_run_with_a_home_it_cannot_create_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = cli("run", "--home", str(blocker / "home"), "--", sys.executable, "-c", "pass")
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert lines[0].startswith("error: cannot create the home folder")
    assert str(blocker / "home") in lines[0]


def test_run_says_after_the_command_that_recording_failed(home, stub, proxy_args):
    home.mkdir(parents=True)
    (home / "captures.db").write_bytes(b"this is not a database" * 1000)
    script = ("import httpx, os\n"
              "with httpx.Client(proxy=os.environ['HTTPS_PROXY'],"
              " verify=os.environ['SSL_CERT_FILE']) as c:\n"
              "    print(c.post('https://api.anthropic.com/v1/messages', json={}).status_code)\n")
    out = cli("run", *proxy_args, "--", sys.executable, "-c", script)
    assert out.stdout.strip() == "200"  # forwarded all the same
    assert out.returncode == 0, out.stderr  # the command's own exit code
    warnings = [line for line in out.stderr.splitlines() if "warning:" in line]
    assert any("captures.db is not a database" in line for line in warnings), out.stderr
    assert "Traceback" not in out.stderr


def test_sigint_stops_the_proxy_even_when_started_with_sigint_ignored(home, stub, proxy_args):
    """A shell without job control starts background commands with SIGINT ignored (a
    suite run with `&` from a script does); `kill -INT` must still stop the proxy."""
    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    p = ProxyProcess(*proxy_args, preexec_fn=ignore_sigint)
    try:
        with client(p.port, home) as http:
            assert post(http) == 200
        p.stop(signal.SIGINT, timeout=20)
    finally:
        p.kill()
    assert p.proc.returncode == 0, p.err
    assert "proxy stopped" in "".join(p.out)
    assert stored(home / "captures.db") == 1
