"""No secret reaches the disk: not the database, its WAL, the exports or the logs."""

from __future__ import annotations

import json
import logging

from capture.fixtures import SECRET_KEY, make_exchange, request_body, stream_bytes
from click.testing import CliRunner

from inspector.capture import build_capture
from inspector.cli import cli
from inspector.store import Record, Store, Writer

BEARER = "oat01-" + "Qm7" * 12
COOKIE_VALUE = "sess-" + "Zx4Yw2" * 5


def _grep_tree(root, needles):
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in needles:
                if needle.encode() in data:
                    found.append((path.name, needle[:12]))
    return found


def test_secrets_absent_from_every_file_and_log(home, caplog):
    db = home / "captures.db"
    body = request_body()
    body["messages"][0]["content"][0]["text"] = f"my key is {SECRET_KEY}, keep it safe"
    req_headers = [("host", "api.anthropic.com"), ("x-api-key", SECRET_KEY),
                   ("authorization", f"Bearer {BEARER}"), ("cookie", f"sessionKey={COOKIE_VALUE}"),
                   ("x-claude-code-session-id", "sid-1"), ("content-type", "application/json")]
    resp_headers = [("content-type", "text/event-stream"),
                    ("set-cookie", f"sessionKey={COOKIE_VALUE}; Path=/; HttpOnly")]
    reader = Store(db)  # keeps the WAL file around while the writer works
    writer = Writer(db, prepare=lambda ex: Record(build_capture(ex)))
    writer.start()
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            writer.submit(make_exchange(json.dumps(body).encode(), stream_bytes(),
                                        req_headers=req_headers, resp_headers=resp_headers,
                                        target=f"/v1/messages?beta=true&key={SECRET_KEY}"))
        assert writer.close(timeout=30)
    assert writer.written == 3
    secrets = [SECRET_KEY, BEARER, COOKIE_VALUE]
    assert any(p.name.endswith("-wal") for p in home.iterdir())
    assert _grep_tree(home, secrets) == []

    runner = CliRunner()
    for fmt in ("jsonl", "json", "csv", "har"):
        result = runner.invoke(cli, ["--home", str(home), "export", "--format", fmt,
                                     "-o", str(home / f"out.{fmt}")])
        assert result.exit_code == 0, result.output
        assert (home / f"out.{fmt}").stat().st_size > 100
        out = runner.invoke(cli, ["--home", str(home), "export", "--format", fmt])
        assert not any(s in out.output for s in secrets)
    shown = runner.invoke(cli, ["--home", str(home), "show", "--json",
                                reader.query("SELECT id FROM requests LIMIT 1")[0]["id"]])
    assert shown.exit_code == 0 and "sessionKey=" in shown.output
    assert not any(s in shown.output for s in secrets)
    assert not any(s in caplog.text for s in secrets)
    reader.close()
    assert _grep_tree(home, secrets) == []
    # the fingerprints are there, so two keys can still be told apart
    assert SECRET_KEY[-4:].encode() in (home / "out.jsonl").read_bytes()
