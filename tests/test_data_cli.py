"""The headless data commands through click's CliRunner: list, show, export, purge."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from store.helpers import as_schema_6, record

from inspector.cli import cli
from inspector.store import Store
from inspector.store.queries import LIST_FIELDS


@pytest.fixture
def populated(home):
    store = Store(home / "captures.db")
    recs = [record(ago=60, sources={"mcp:github": 40, "tool:Bash": 10}),
            record(ago=30, model="claude-opus-4-1-20250805", session="s-two", status=529),
            record(ago=10 * 86400, user_text="old one")]
    store.write(recs)
    store.close()
    return recs


def run(home, *args):
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    return result


def test_list_json(home, populated):
    result = run(home, "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == [populated[1].capture.id, populated[0].capture.id,
                                       populated[2].capture.id]
    # the list fields, then the agent threading (see the findings' threads)
    assert all(list(r) == [*LIST_FIELDS, "agent_id", "parent_id", "side_call"] for r in rows)
    assert rows[1]["input_tokens"] == 472 and rows[1]["top_source"] == "mcp:github"
    assert rows[1]["stream"] is True and rows[1]["status"] == 200
    assert len(json.loads(run(home, "list", "--json", "--since", "1h").output)) == 2
    assert len(json.loads(run(home, "list", "--json", "--until", "1d").output)) == 1
    assert [r["status"] for r in json.loads(run(home, "list", "--json", "--status", "529").output)] == [529]
    assert len(json.loads(run(home, "list", "--json", "--model", "claude-opus-4-1-20250805").output)) == 1
    assert len(json.loads(run(home, "list", "--json", "--session", "s-two").output)) == 1
    assert len(json.loads(run(home, "list", "--json", "--source", "mcp:github").output)) == 1
    page = json.loads(run(home, "list", "--json", "--limit", "1", "--offset", "1").output)
    assert [r["id"] for r in page] == [populated[0].capture.id]
    # options after the subcommand work too
    assert run(home, "list", "--json", "--home", str(home)).exit_code == 0


def test_list_for_people(home, populated):
    result = run(home, "list")
    assert result.exit_code == 0
    assert populated[0].capture.id[:12] in result.output and "of 3" in result.output


def test_bad_since_is_a_usage_error(home, populated):
    result = run(home, "list", "--since", "yesterday-ish")
    assert result.exit_code == 2 and "duration" in result.output


def test_show_json_and_text(home, populated):
    rec = populated[0]
    result = run(home, "show", "--json", rec.capture.id[:14])
    assert result.exit_code == 0, result.output
    ex = json.loads(result.output)
    assert {"request", "response", "usage", "timings", "attribution", "feedback"} <= set(ex)
    assert ex["request"]["body"]["messages"][0]["role"] == "user"
    assert ex["response"]["body"]["content"][2]["input"]["location"] == "Paris, France"
    assert ex["attribution"]["children"][0]["children"][0]["meta"]["source"] == "mcp:github"
    # why it cost what it did: each kind of token at its rate, adding up to its price
    from inspector.attribution.pricing import cost
    from inspector.model import Usage

    lines = {line["kind"]: line for line in ex["cost_lines"]}
    assert sum(line["usd"] for line in ex["cost_lines"]) == pytest.approx(
        cost(ex["request"]["model"], Usage.from_stored(ex["usage"])))
    assert lines["output"]["tokens"] == ex["usage"]["output_tokens"]
    assert ex["cache_saved_usd"] is not None and ex["cache_write_extra_usd"] is not None
    text = run(home, "show", rec.capture.id[:14])
    assert text.exit_code == 0 and "Let me check the weather" in text.output
    assert "x-api-key" in text.output
    out = " ".join(text.output.split())
    assert f"output {ex['usage']['output_tokens']:,} × $" in out


def test_unknown_and_ambiguous_ids(home, populated):
    missing = run(home, "show", "zzzzzz")
    assert missing.exit_code == 1 and missing.output.strip() == "error: no capture with id 'zzzzzz'"
    ambiguous = run(home, "show", "0")
    assert ambiguous.exit_code == 1 and "ambiguous" in ambiguous.output
    assert len(ambiguous.output.strip().splitlines()) == 1


def test_missing_database_is_one_friendly_line(home):
    listed = run(home, "list")
    assert listed.exit_code == 0 and "no captures yet" in listed.output
    assert json.loads(run(home, "list", "--json").stdout) == []
    shown = run(home, "show", "abc")
    assert shown.exit_code == 1 and "no captures yet" in shown.output
    assert "Traceback" not in shown.output


@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["stats"], ["stats", "--json"],
                                  ["stats", "--by", "model"], ["export"],
                                  ["export", "--format", "json"], ["purge", "--older-than", "1d"]])
def test_a_home_without_captures_is_exit_0_and_one_line(home, args):
    """Every listing command says the same of an empty home: one "no captures" line on
    stderr, an empty result on stdout for scripts, exit code 0."""
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output + result.stderr
    assert "Traceback" not in result.stderr
    if args[0] != "purge":
        assert result.stderr.strip().splitlines() == [
            f"no captures yet in {home}: run `claude-inspect run -- claude`"]
    if "--json" in args or "json" in args:
        data = json.loads(result.stdout)
        assert data == [] or data["total"]["requests"] == 0


def test_an_existing_empty_database_is_exit_0_too(home):
    Store(home / "captures.db").close()
    for args in (["list"], ["stats"], ["export"]):
        result = run(home, *args)
        assert result.exit_code == 0, (args, result.output)
        assert "no captures" in result.output or result.output == "", (args, result.output)


@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["show", "abc"], ["tree", "abc"],
                                  ["stats"], ["export"], ["diff", "abc"], ["rate", "abc", "good"]])
def test_a_missing_db_file_is_named_and_exit_1(home, tmp_path, args):
    missing = tmp_path / "missing.db"
    result = CliRunner().invoke(cli, [*args, "--db", str(missing)])
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {missing} does not exist (--db names the database file to read)"]
    assert not missing.exists()


def test_export_jsonl_and_json(home, populated):
    lines = run(home, "export").output.splitlines()
    assert len(lines) == 3
    first = json.loads(lines[0])
    assert first["id"] == populated[2].capture.id  # oldest first
    assert first["request"]["body"]["messages"][0]["content"][0]["text"] == "old one"
    assert first["request"]["body"]["system"][1]["text"].startswith("Instructions.")
    arr = json.loads(run(home, "export", "--format", "json", "--since", "1h").output)
    assert [e["id"] for e in arr] == [populated[0].capture.id, populated[1].capture.id]
    assert json.loads(run(home, "export", "--format", "json", "--since", "1s").output) == []


def test_export_csv(home, populated, tmp_path):
    out = tmp_path / "x.csv"
    result = run(home, "export", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0 and "exported 3" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0]) == list(LIST_FIELDS) and len(rows) == 3
    assert rows[1]["top_source"] == "mcp:github" and rows[1]["input_tokens"] == "472"


def test_export_har_is_valid_har_1_2(home, populated, tmp_path):
    out = tmp_path / "x.har"
    assert run(home, "export", "--format", "har", "-o", str(out)).exit_code == 0
    har = json.loads(out.read_text())
    log = har["log"]
    assert log["version"] == "1.2"
    assert log["creator"]["name"] == "claude-inspect" and log["creator"]["version"]
    assert len(log["entries"]) == 3
    for entry in log["entries"]:
        for key in ("startedDateTime", "time", "request", "response", "cache", "timings"):
            assert key in entry
        req, resp, t = entry["request"], entry["response"], entry["timings"]
        for key in ("method", "url", "httpVersion", "cookies", "headers", "queryString",
                    "headersSize", "bodySize"):
            assert key in req
        for key in ("status", "statusText", "httpVersion", "cookies", "headers", "content",
                    "redirectURL", "headersSize", "bodySize"):
            assert key in resp
        assert {"size", "mimeType"} <= set(resp["content"])
        for key in ("send", "wait", "receive"):
            assert isinstance(t[key], (int, float)) and t[key] >= 0
        assert entry["time"] == pytest.approx(sum(v for v in t.values() if v > 0))
        assert all({"name", "value"} == set(h) for h in req["headers"] + resp["headers"])
        assert entry["startedDateTime"].endswith("Z")
        assert req["url"].startswith("https://api.anthropic.com/v1/messages")
        # the reassembled SSE message is the response text
        message = json.loads(resp["content"]["text"])
        assert message["type"] == "message" and message["stop_reason"] == "tool_use"
        assert json.loads(req["postData"]["text"])["model"]
    assert log["entries"][1]["timings"]["wait"] == pytest.approx(348, abs=0.01)
    first = log["entries"][0]
    assert first["response"]["_rawSSE"].startswith("event: message_start")
    # the request text is exactly what the client sent, shared parts spliced back in
    assert first["request"]["postData"]["text"] == populated[2].capture.request_text


def test_purge(home, populated):
    result = run(home, "purge", "--older-than", "7d")
    assert result.exit_code == 0 and "purged 1 capture" in result.output
    assert len(json.loads(run(home, "list", "--json").output)) == 2
    assert run(home, "purge").exit_code == 2


def test_the_quick_start_reads_the_demo(home):
    """`demo` then `stats --by source` (the Quick start's order) shows the sample and says
    where it comes from, until the first capture of one's own is recorded."""
    import subprocess
    import sys

    def cli_run(*args):
        return subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True,
                              text=True, timeout=120)

    assert "HOME/demo.db" in cli_run("demo", "--help").stdout
    demo = cli_run("demo", "--headless", "--sessions", "1")
    assert demo.returncode == 0, demo.stderr
    stats = cli_run("stats", "--by", "source")
    assert stats.returncode == 0, stats.stderr
    assert "mcp:github" in stats.stdout and "no captures yet" not in stats.stdout + stats.stderr
    assert f"showing the demo's sample in {home / 'demo.db'}" in stats.stderr
    listed = json.loads(cli_run("list", "--json").stdout)
    assert len(listed) == 6
    tree = cli_run("tree", listed[0]["id"][:10])
    assert tree.returncode == 0 and "System tools" in tree.stdout
    purged = cli_run("purge", "--older-than", "0s")
    assert purged.returncode == 0 and "purged 0 captures" in purged.stdout  # not the sample
    assert len(json.loads(cli_run("list", "--json").stdout)) == 6
    # one's own captures take over
    store = Store(home / "captures.db")
    store.write([record()])
    store.close()
    mine = json.loads(cli_run("list", "--json").stdout)
    assert len(mine) == 1


def test_control_characters_never_reach_the_terminal(home):
    """A model name or source label carrying terminal escapes (set the title, clear the
    screen, a bidi override) is printed escaped by the commands for people; --json keeps
    the stored text exactly."""
    evil_model = "claude-\x1b]0;pwned\x07\x1b[2J\u202eopus"
    store = Store(home / "captures.db")
    rec = record(model=evil_model, sources={"mcp:\x1b[31mevil": 40, "tool:Bash": 10},
                 user_text="hi \x1b[5m")
    store.write([rec])
    store.close()
    for args in (["list"], ["stats", "--by", "model"], ["stats", "--by", "source"],
                 ["show", rec.capture.id], ["tree", rec.capture.id], ["list", "--model", "*opus"]):
        result = run(home, *args)
        assert result.exit_code == 0, (args, result.output)
        assert "\x1b" not in result.output and "\u202e" not in result.output, args
        assert "\x07" not in result.output, args
    assert "\\x1b]0;pwned" in run(home, "show", rec.capture.id).output
    assert "mcp:\\x1b[31mevil" in run(home, "tree", rec.capture.id).output
    listed = json.loads(run(home, "list", "--json").stdout)
    assert listed[0]["model"] == evil_model


def test_source_filter_takes_a_category_a_name_or_both(home, populated):
    def ids(*args):
        result = run(home, "list", "--json", *args)
        assert result.exit_code == 0, result.output
        return [r["id"] for r in json.loads(result.stdout)]

    github = [populated[0].capture.id]
    for source in ("mcp:github", "mcp", "github", "MCP", "mcp:", "Bash", "tool"):
        assert ids("--source", source) == github, source
    for source in ("mcp:bash", "git", "github:mcp", "cp"):
        assert ids("--source", source) == [], source


def _store_request_text(home, text: str) -> str:
    """Record a request whose body is `text`, through capture and attribution as the
    recorder does; returns its id."""
    import time

    from capture.fixtures import make_exchange, stream_bytes

    from inspector.runtime.pipeline import prepare_record

    ex = make_exchange(text.encode(), stream_bytes(), status=200, started_wall=time.time())
    rec = prepare_record(ex)
    with Store(home / "captures.db") as store:
        store.write([rec])
    return rec.capture.id


def test_a_lone_surrogate_escape_is_valid_json_out(home):
    from capture.fixtures import request_body

    body = request_body(session="s", big=10, model="claude-sonnet-4-5-20250929")
    body["messages"][0]["content"][0]["text"] = "half a pair: \ud800!"
    text = json.dumps(body)
    assert "\\ud800" in text
    cid = _store_request_text(home, text)
    out = run(home, "show", "--json", cid)
    assert out.exit_code == 0, out.output
    out.stdout.encode("utf-8")  # valid UTF-8
    shown = json.loads(out.stdout)
    assert shown["request"]["body"]["messages"][0]["content"][0]["text"] == "half a pair: \ud800!"
    assert run(home, "show", cid).exit_code == 0
    assert run(home, "list", "--json").exit_code == 0


def test_a_body_nested_3000_deep_is_stored_and_attributed(home):
    from capture.fixtures import request_body

    body = request_body(session="s", big=10, model="claude-sonnet-4-5-20250929")
    deep = "[" * 3000 + '"bottom"' + "]" * 3000
    text = json.dumps(body)[:-1] + ', "metadata_extra": ' + deep + "}"
    cid = _store_request_text(home, text)
    shown = run(home, "show", "--json", cid)
    assert shown.exit_code == 0, shown.output
    ex = json.loads(shown.stdout)
    assert ex["request"]["body_bytes"] == len(text)
    assert ex["request"]["body"]["messages"] == body["messages"]
    assert ex["attribution"] is not None and ex["attribution"]["tokens"] > 0
    # the stored text is exactly what was sent, all 3000 levels of it
    with Store(home / "captures.db") as store:
        from inspector.store.exchanges import iter_exchanges
        from inspector.store.queries import Filter

        stored = next(iter(iter_exchanges(store, Filter(limit=0), parse_bodies=False)))
    assert str(stored["request"]["body"]) == text
    assert run(home, "tree", cid).exit_code == 0


def test_cutting_deep_json_skips_brackets_in_strings():
    from inspector import deepjson

    text = '{"a": ["[{", {"b": [[1, "]"]]}], "c": "}"}'
    assert json.loads(deepjson.cut_deep(text, 3)) == {
        "a": ["[{", {"b": deepjson.TOO_DEEP}], "c": "}"}
    assert json.loads(deepjson.cut_deep(text, 10)) == json.loads(text)


def test_tree_rows_are_aligned_and_unwrapped_in_a_pipe(home):
    """Piped (not a terminal, COLUMNS=80), `tree` writes one line per node, the token
    column lined up, however long a label is."""
    import os
    import re
    import subprocess
    import sys

    long_path = "memory:/home/someone/projects/a-rather-long-project-name/sub/dir/CLAUDE.md"
    rec = record(sources={long_path: 40, "tool:Bash": 1200, "mcp:github": 7})
    with Store(home / "captures.db") as store:
        store.write([rec])
    out = subprocess.run([sys.executable, "-m", "inspector", "tree", rec.capture.id],
                         capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, COLUMNS="80"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    node_lines = [line for line in lines if " tok" in line]
    assert len(node_lines) == 5  # the root, one group, three sources
    assert len({line.index(" tok") for line in node_lines}) == 1
    assert len({line.index("%") for line in node_lines}) == 1
    assert not [line for line in lines if re.fullmatch(r"\s*\$[\d.]+\s*", line)]
    assert any("a-rather-long-project-name" in line for line in node_lines)


def test_list_text_says_how_far_the_search_index_is(home, populated):
    """Captures stored before the index existed are searched by scanning: `list --text`
    says so on stderr until they are indexed, then says nothing."""
    path = home / "captures.db"
    as_schema_6(path)
    result = CliRunner().invoke(cli, ["--home", str(home), "list", "--text", "old one",
                                      "--json"])
    assert result.exit_code == 0, result.output
    assert "search index: 0 of 3 captures indexed; the rest are scanned" in result.stderr
    assert [r["id"] for r in json.loads(result.stdout)] == [populated[2].capture.id]
    store = Store(path)  # a writer: migrates, then the backlog is worked off
    try:
        while store.index_backlog(2):
            pass
    finally:
        store.close()
    result = CliRunner().invoke(cli, ["--home", str(home), "list", "--text", "old one"])
    assert result.exit_code == 0 and result.stderr == ""
    assert populated[2].capture.id[:12] in result.stdout
