"""`claude-inspect proxy --exact`, as a user runs it: counts arrive in the stored tree."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx

from inspector.demo import token_model as tm
from inspector.demo.traffic import demo_session
from inspector.store import Store, get_exchange

from .conftest import KEY


def test_proxy_command_with_exact_counts_what_it_records(home, stub):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("count_per_minute = 100000\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "proxy", "--exact", "--listen", "127.0.0.1:0",
         "--resolve", f"api.anthropic.com:443:127.0.0.1:{stub.port}", "--upstream-ca", stub.ca_file],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        port = int(re.search(r"127\.0\.0\.1:(\d+)", proc.stdout.readline()).group(1))
        request = dict(demo_session(seed=2, turns=1)[0].request, stream=False)
        with httpx.Client(proxy=f"http://127.0.0.1:{port}", verify=str(home / "ca.pem"),
                          timeout=20) as client:
            reply = client.post("https://api.anthropic.com/v1/messages", json=request,
                                headers={"x-api-key": KEY})
        assert reply.status_code == 200
        deadline = time.monotonic() + 60
        while True:
            root = None
            if (home / "captures.db").exists():
                with Store(home / "captures.db") as store:
                    ids = [r[0] for r in store.execute("SELECT id FROM requests")]
                    root = get_exchange(store, ids[0])["attribution"] if ids else None
            if root and "exact" in root["meta"]:
                break
            assert time.monotonic() < deadline, "not counted"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    overhead = [c for c in root["children"] if c["kind"] == "overhead"]
    assert overhead and overhead[0]["tokens"] == tm.overhead(request)
    assert KEY not in out + err
    log = home / "claude-inspect.log"
    assert not log.exists() or KEY not in log.read_text(errors="replace")
