"""`import FILE.har`: an exported session comes back with the same tree and stats, and
another tool's HAR (raw events as text, encoding headers, other hosts) reads too."""

from __future__ import annotations

import json

from click.testing import CliRunner

from inspector.cli import cli
from inspector.demo.stub_api import sse_events

from .test_otlp import SESSION, record_turns, stub  # noqa: F401 - fixture


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_session_exported_to_har_and_imported_elsewhere_is_the_same(home, tmp_path, stub):
    record_turns(home, stub, 5)  # streamed and plain replies, one session
    har = tmp_path / "session.har"
    run("export", "--session", SESSION, "--format", "har", "-o", str(har))
    listed = json.loads(run("list", "--json", "--limit", "100"))
    stats = _figures(run("stats", "--since", "30d", "--by", "source", "--json"))
    trees = {r["id"]: json.loads(run("tree", r["id"], "--json")) for r in listed}
    shows = {r["id"]: json.loads(run("show", r["id"], "--json")) for r in listed}

    other = tmp_path / "other-home"
    out = run("--home", str(other), "import", str(har))
    assert f"imported {len(listed)} exchanges" in out
    again = json.loads(run("--home", str(other), "list", "--json", "--limit", "100"))
    assert [r["id"] for r in again] == [r["id"] for r in listed]
    assert again == listed  # usage, cost, session, status, timings as listed
    assert _figures(run("--home", str(other), "stats", "--since", "30d", "--by", "source",
                        "--json")) == stats
    for id_, tree in trees.items():
        assert json.loads(run("--home", str(other), "tree", id_, "--json")) == tree
        shown = json.loads(run("--home", str(other), "show", id_, "--json"))
        assert shown["response"]["body"] == shows[id_]["response"]["body"]
        assert shown["request"]["body"] == shows[id_]["request"]["body"]
    # importing the same file again replaces, never duplicates
    run("--home", str(other), "import", str(har))
    assert len(json.loads(run("--home", str(other), "list", "--json", "--limit", "100"))) \
        == len(listed)


def _figures(stats_json: str) -> dict:
    """The figures of `stats --json`, without the period's bounds (read off the clock)."""
    data = json.loads(stats_json)
    return {k: v for k, v in data.items() if k not in ("since", "until")}


def _sse_text(message: dict) -> str:
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n"
                   for name, data in sse_events(message))


def test_another_tools_har_with_raw_events_and_other_hosts(home, tmp_path):
    message = {"id": "msg_01", "type": "message", "role": "assistant",
               "model": "claude-sonnet-4-5-20250929",
               "content": [{"type": "text", "text": "Hello from the stream"}],
               "stop_reason": "end_turn", "stop_sequence": None,
               "usage": {"input_tokens": 120, "output_tokens": 7,
                         "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}
    request = {"model": "claude-sonnet-4-5-20250929", "max_tokens": 100, "stream": True,
               "system": "You are terse.",
               "messages": [{"role": "user", "content": "Say hello"}]}
    har = {"log": {"version": "1.2", "creator": {"name": "another-tool", "version": "1"},
                   "entries": [
        {"startedDateTime": "2026-11-30T10:00:00.000Z", "time": 40,
         "request": {"method": "POST", "url": "https://api.anthropic.com/v1/messages",
                     "headers": [{"name": "content-type", "value": "application/json"},
                                 {"name": "x-api-key", "value": "sk-ant-api03-" + "x" * 40}],
                     "postData": {"mimeType": "application/json", "text": json.dumps(request)}},
         "response": {"status": 200, "statusText": "OK",
                      "headers": [{"name": "content-type", "value": "text/event-stream"},
                                  {"name": "content-encoding", "value": "gzip"}],
                      "content": {"mimeType": "text/event-stream", "text": _sse_text(message)}},
         "timings": {"send": 1, "wait": 30, "receive": 9}},
        {"startedDateTime": "2026-11-30T10:00:01.000Z", "time": 5,
         "request": {"method": "GET", "url": "https://example.org/", "headers": []},
         "response": {"status": 200, "headers": [], "content": {"text": "hi"}},
         "timings": {"send": 1, "wait": 2, "receive": 2}},
    ]}}
    path = tmp_path / "other.har"
    path.write_text(json.dumps(har))
    out = run("import", str(path))
    assert "imported 1 exchanges" in out and "1 entries of other hosts skipped" in out
    listed = json.loads(run("list", "--json"))
    assert len(listed) == 1
    shown = json.loads(run("show", listed[0]["id"], "--json"))
    assert shown["response"]["body"]["content"][0]["text"] == "Hello from the stream"
    assert shown["usage"]["input_tokens"] == 120 and shown["usage"]["output_tokens"] == 7
    assert "x" * 40 not in json.dumps(shown)  # the key is redacted on the way in
    assert shown["timings"]["total_ms"] == 40


def test_a_file_that_is_not_har_is_one_line(home, tmp_path):
    path = tmp_path / "x.har"
    path.write_text("{}")
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "not a HAR" in result.output
