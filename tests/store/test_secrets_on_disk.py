"""No secret reaches the disk: not the database, its WAL, the exports or the logs."""

from __future__ import annotations

import json
import logging

from capture.fixtures import SECRET_KEY, make_exchange, request_body, stream_bytes
from click.testing import CliRunner

from inspector.capture import build_capture
from inspector.cli import cli
from inspector.store import Record, Store, Writer
from inspector.store.exchanges import exchange_dicts

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


# Secrets a real exchange carries in ways that redacting each piece alone would miss.
SPLIT_KEY = "sk-ant-api03-" + "Hv8Rk2Lq7Wn4Tz9Bc6Md1Fp3Xs5Gj0Ya" + "-u7e2PP"
GH_TOKEN = "ghp_" + "R8mK2vQ9tL4wX7bN1cZ5pH3jD6fS0gYa2Ue4"
AWS_ID = "AKIA" + "Q7W3E9R2T5Y8U1I4"
ESCAPED_KEY = "sk-ant-api03-" + "Pw4Nc8Vx2Bz6Lm1Kq9Hj3Gf7Dt5Rs0Ey" + "-z9y8OO"
SPLIT_SECRETS = (SPLIT_KEY, GH_TOKEN, AWS_ID, ESCAPED_KEY)


def _needles(secrets):
    """Each secret, its JSON-escaped form, and every 8 characters of its body except the
    last 4 (which the fingerprint shows): a key streamed in pieces must not survive even
    as its pieces."""
    out = set()
    for s in secrets:
        out.add(s)
        out.add(s.replace("-", "\\u002d"))
        head = {"sk-": 13, "ghp": 4, "AKI": 4}[s[:3]]
        out.update(s[i:i + 8] for i in range(head, len(s) - 4 - 8 + 1))
    return sorted(out)


def _split_reply(request):
    """A reply whose text and tool input carry secrets: the stub streams both in
    12-character deltas, so no event holds one whole."""
    return {
        "id": "msg_split01", "type": "message", "role": "assistant",
        "model": request.get("model", "claude-stub"),
        "content": [
            {"type": "text", "text": f"Your key is {SPLIT_KEY} and your AWS id {AWS_ID}."},
            {"type": "tool_use", "id": "toolu_split", "name": "Bash",
             "input": {"command": f"gh auth login --with-token {GH_TOKEN}",
                       "description": "log in"}},
        ],
        "stop_reason": "tool_use", "stop_sequence": None,
        "usage": {"input_tokens": 40, "output_tokens": 30, "cache_read_input_tokens": 0,
                  "cache_creation_input_tokens": 0},
    }


def test_secrets_split_escaped_or_new_shapes_reach_no_file(tmp_path, home):
    import httpx

    from inspector.config import Config
    from inspector.demo.stub_api import StubAPI
    from inspector.runtime import Runtime

    with StubAPI(tls=True, cert_dir=tmp_path / "stub", responder=_split_reply) as stub:
        config = Config.load(home, listen="127.0.0.1:0", upstream_ca=stub.ca_file,
                             resolve=[f"api.anthropic.com:443:127.0.0.1:{stub.port}"])
        runtime = Runtime(config)
        runtime.start()
        try:
            host, port = runtime.proxy_address
            prompt = f"use {GH_TOKEN} and {AWS_ID}, and this one: {ESCAPED_KEY}"
            with httpx.Client(proxy=f"http://{host}:{port}", verify=str(config.ca_path),
                              timeout=30) as http:
                for stream in (True, False):
                    body = json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 64,
                                       "stream": stream,
                                       "messages": [{"role": "user", "content": prompt}]})
                    # the key as a client may write it: JSON escapes for its dashes
                    body = body.replace(ESCAPED_KEY, ESCAPED_KEY.replace("-", "\\u002d"))
                    assert "\\u002d" in body
                    r = http.post("https://api.anthropic.com/v1/messages", content=body,
                                  headers={"content-type": "application/json"})
                    assert r.status_code == 200
                    # the client got every secret as sent: redaction is for the copy only
                    assert SPLIT_KEY in r.text or stream
        finally:
            runtime.stop()
    assert len(stub.requests) == 2 and "\\u002d" in stub.requests[0]["body"].decode()

    needles = _needles(SPLIT_SECRETS)
    assert _grep_tree(home, needles) == []
    store = Store(config.db_path)
    try:
        rows = store.query("SELECT id FROM requests ORDER BY ts")
        assert len(rows) == 2
        # read through the store: stored text may be compressed
        streamed = [ex["response"] for ex in exchange_dicts(store, [r["id"] for r in rows])
                    if ex["response"]["raw_sse"] is not None]
    finally:
        store.close()
    # what was redacted is marked, not silently dropped
    raw_sse, reply = streamed[0]["raw_sse"], streamed[0]["body"]
    assert "*" in raw_sse and "message_stop" in raw_sse
    assert "[sha256:" in reply["content"][0]["text"] and SPLIT_KEY[-4:] in reply["content"][0]["text"]
    assert "[sha256:" in reply["content"][1]["input"]["command"]
    assert reply["content"][1]["input"]["description"] == "log in"

    runner = CliRunner()
    outputs = []
    for fmt in ("jsonl", "json", "csv", "har"):
        result = runner.invoke(cli, ["--home", str(home), "export", "--format", fmt,
                                     "-o", str(tmp_path / f"out.{fmt}")])
        assert result.exit_code == 0, result.output
        outputs.append((tmp_path / f"out.{fmt}").read_text())
    for row in rows:
        for args in (["show", row["id"]], ["show", "--json", row["id"]], ["tree", row["id"]]):
            result = runner.invoke(cli, ["--home", str(home), *args])
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
    assert "[sha256:" in outputs[0]
    leaks = [(n, i) for i, text in enumerate(outputs) for n in needles if n in text]
    assert leaks == []
