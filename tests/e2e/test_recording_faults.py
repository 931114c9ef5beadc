"""Recording faults are said on the console, in one line naming the recorder or the
database, and never stop forwarding: a killed or stopped recorder, a database that is not
one, a disk that refuses writes. Shutdown stays bounded whatever the database's state."""

from __future__ import annotations

import os
import resource
import signal
import time

import pytest

from inspector.store import Store

from .faults import ProxyProcess, client, post, rss, stored

SECRET = b"sk-ant-api03-FAULTS-NOT-STORED"


@pytest.fixture
def proxy(stub, proxy_args):
    started: list[ProxyProcess] = []

    def start(*args: str, **kwargs) -> ProxyProcess:
        p = ProxyProcess(*proxy_args, *args, **kwargs)
        started.append(p)
        return p

    yield start
    for p in started:
        for pid in _descendants(p.proc.pid):
            _signal(pid, signal.SIGCONT)
        p.kill()


def _descendants(pid: int) -> list[int]:
    from .faults import children

    found = []
    for child in children(pid):
        found += [child, *_descendants(child)]
    return found


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def test_a_killed_recorder_is_said_restarted_and_records_again(home, proxy):
    p = proxy()
    with client(p.port, home) as http:
        assert [post(http) for _ in range(5)] == [200] * 5
        p.wait_line("200", stream="out")
        os.kill(p.recorder_pid(), signal.SIGKILL)
        line = p.wait_line("recorder stopped unexpectedly", timeout=15, stream="err")
        assert "killed by SIGKILL" in line and "restarted" in line and "lost" in line
        assert [post(http) for _ in range(5)] == [200] * 5  # forwarding never stopped
        deadline = time.monotonic() + 30
        while stored(home / "captures.db") < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
    lost = int(line.split("; ")[1].split()[0])
    p.stop(signal.SIGTERM)
    assert stored(home / "captures.db") == 10 - lost  # the new recorder stores the rest
    assert "Traceback" not in "".join(p.err)
    if lost:  # the exit says so too, and fails
        assert p.proc.returncode == 1 and any("not stored" in line for line in p.err)


def test_bodies_spooled_to_disk_do_not_outlive_a_killed_recorder(home, proxy, tmp_path):
    spool = tmp_path / "tmp"
    spool.mkdir()
    stale = spool / "claude-inspect-body-999999999-left"  # its process is long gone
    stale.write_bytes(SECRET)
    p = proxy(env={"TMPDIR": str(spool)})
    assert not stale.exists()  # removed when the proxy started
    recorder = p.recorder_pid()
    with client(p.port, home) as http:
        assert post(http) == 200
        os.kill(recorder, signal.SIGSTOP)  # it takes nothing more from the pipe...
        assert [post(http, pad=2 << 20) for _ in range(3)] == [200] * 3  # spooled bodies
        assert len(list(spool.iterdir())) == 3
        os.kill(recorder, signal.SIGKILL)  # ...and dies with them in the pipe
        p.wait_line("recorder stopped unexpectedly", timeout=15, stream="err")
        # the supervisor deletes them as it restarts the recorder: give it a moment
        deadline = time.monotonic() + 10
        while list(spool.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list(spool.iterdir()) == []
        assert post(http) == 200
    p.stop(signal.SIGTERM)
    assert [f.name for f in spool.iterdir()] == []


def test_a_garbage_database_is_said_at_once_and_shutdown_stays_bounded(home, proxy):
    home.mkdir(parents=True)
    (home / "captures.db").write_bytes(os.urandom(64 << 10))
    p = proxy()
    line = p.wait_line("captures.db is not a database", timeout=30, stream="err")
    assert line.startswith("warning: ") and "not recording" in line
    with client(p.port, home) as http:
        assert [post(http, pad=20_000) for _ in range(100)] == [200] * 100
    took = p.stop(signal.SIGTERM)
    assert took < 10, took
    assert p.proc.returncode == 1
    assert any("100 of 100 exchanges relayed were not stored" in line for line in p.err), p.err
    err = "".join(p.err)
    assert "Traceback" not in err and "Logging error" not in err
    assert not _descendants(p.proc.pid)  # no recorder left behind


def _limit_file_size(limit: int):
    def apply() -> None:  # in the proxy's process before exec; its children inherit it
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    return apply


def test_a_disk_that_refuses_writes_is_said_and_shutdown_stays_bounded(home, proxy):
    """A file-size limit makes every write past it fail, as a full disk does, for the
    database and for the log file alike."""
    home.mkdir(parents=True)
    Store(home / "captures.db").close()
    size = (home / "captures.db").stat().st_size
    p = proxy(preexec_fn=_limit_file_size(size + (256 << 10)))
    with client(p.port, home) as http:
        assert [post(http, pad=50_000) for _ in range(150)] == [200] * 150
        line = p.wait_line("warning: captures.db:", timeout=30, stream="err")
        assert "captures are not stored" in line and ("writing failed" in line or "full" in line)
        assert [post(http, pad=50_000) for _ in range(50)] == [200] * 50
    recorder = p.recorder_pid()
    assert rss(recorder) < 300 << 20
    took = p.stop(signal.SIGTERM)
    assert took < 10, took
    err = "".join(p.err)
    assert "Traceback" not in err and "Logging error" not in err
    assert sum("warning: captures.db:" in line for line in p.err) < 5  # said, not repeated
    assert p.proc.returncode == 1 and "not stored" in err
    assert not _descendants(p.proc.pid)


def test_a_stopped_recorder_costs_disk_not_memory_and_is_said(home, proxy):
    p = proxy()
    with client(p.port, home) as http:
        assert post(http) == 200
        deadline = time.monotonic() + 30
        while stored(home / "captures.db") < 1 and time.monotonic() < deadline:
            time.sleep(0.1)  # the recorder has started and stores
        recorder = p.recorder_pid()
        os.kill(recorder, signal.SIGSTOP)
        statuses = [post(http, pad=200_000) for _ in range(300)]  # 60 MB through the proxy
        assert statuses == [200] * 300
        p.wait_line("note: recorder is behind", timeout=15, stream="err")
        line = p.wait_line("recorder has stored nothing", timeout=30, stream="err")
        assert "is it stopped?" in line
        # the queue holds at most 32 MiB of bodies in memory, not the 60 MB relayed
        assert rss(p.proc.pid, "VmHWM") < 200 << 20
        os.kill(recorder, signal.SIGCONT)
        p.wait_line("recorder is storing again", timeout=30, stream="err")
        deadline = time.monotonic() + 60
        while stored(home / "captures.db") < 301 and time.monotonic() < deadline:
            time.sleep(0.5)
    p.stop(signal.SIGTERM)
    assert stored(home / "captures.db") == 301  # a slow recorder loses nothing
    assert p.proc.returncode == 0, p.err


def test_sigterm_with_a_stopped_recorder_ends_within_10_s_and_leaves_no_orphan(home, proxy):
    p = proxy()
    with client(p.port, home) as http:
        assert post(http) == 200
        recorder = p.recorder_pid()
        os.kill(recorder, signal.SIGSTOP)
        assert [post(http, pad=10_000) for _ in range(20)] == [200] * 20
    took = p.stop(signal.SIGTERM)
    assert took < 10, took
    assert any("made no progress at exit" in line for line in p.err), p.err
    assert not os.path.exists(f"/proc/{recorder}") or \
        open(f"/proc/{recorder}/stat").read().split()[2] == "Z"
