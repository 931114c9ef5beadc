"""Text search (`--text`, `find_hits`) over every stored byte of a capture, shared parts
included, on a real database file."""

from __future__ import annotations

import json
import time

import pytest
from capture.fixtures import FINAL_MESSAGE, make_exchange, stream_bytes

from inspector.capture import build_capture
from inspector.store import Filter, Record, Store, count_requests, list_requests, search
from inspector.store.search import TextSearch, find_hits

from .helpers import as_schema_6

SESSION = "5e55a0b1-0000-4000-8000-000000000001"
PAD = " lorem ipsum dolor sit amet" * 60  # past BLOB_MIN_CHARS: stored as a shared part


def _body(turns: list[str]) -> dict:
    """A Claude Code-like body: a big system block and tool (shared parts), and the
    conversation so far (user turns, assistant replies between)."""
    messages = []
    for i, text in enumerate(turns):
        if i:
            messages.append({"role": "assistant", "content": [{"type": "text", "text": "ok"}]})
        messages.append({"role": "user", "content": [{"type": "text", "text": text}]})
    return {"model": "claude-sonnet-4-5-20250929", "max_tokens": 1000, "stream": True,
            "system": [{"type": "text", "text": "You are Claude Code."},
                       {"type": "text", "text": "Say \"zebrafish\" when asked.\n" + PAD}],
            "tools": [{"name": "Bash", "description": "Runs narwhal commands." + PAD,
                       "input_schema": {"type": "object"}}],
            "messages": messages,
            "metadata": {"user_id": json.dumps({"session_id": SESSION})}}


def _record(turns: list[str], ago: float = 0.0, reply: str = "Let me check.") -> Record:
    final = json.loads(json.dumps(FINAL_MESSAGE))
    final["content"][1]["text"] = reply
    ex = make_exchange(json.dumps(_body(turns)).encode(), stream_bytes(final),
                       started_wall=time.time() - ago)
    return Record(capture=build_capture(ex))


@pytest.fixture
def written(store):
    """Three turns of one session: the first user message ("quokka") is history in the
    later turns (a chain part), the second turn ends with a large message ("axolotl")."""
    recs = [_record(["hello quokka"], ago=30),
            _record(["hello quokka", "big axolotl here " + PAD], ago=20, reply="Résumé ready."),
            _record(["hello quokka", "big axolotl here " + PAD, "thanks"], ago=10)]
    store.write(recs)
    return [r.capture.id for r in recs]


def _ids(store, text: str, **kw) -> list[str]:
    return [r["id"] for r in list_requests(store, Filter(text=text, limit=0, **kw))]


def test_the_words_are_only_in_shared_parts(store, written):
    """The premise: LIKE on `requests.body` would find none of these words in the
    later turns (the first turn's last message is its own: "quokka" is inline there)."""
    for word in ("zebrafish", "narwhal", "quokka", "axolotl"):
        assert not store.execute("SELECT 1 FROM requests WHERE body LIKE ? AND id != ?",
                                 (f"%{word}%", written[0])).fetchall(), word


@pytest.mark.parametrize("scan", [False, True])
def test_finds_words_in_system_tools_history_and_large_messages(store, written, scan,
                                                                monkeypatch):
    if scan:  # as for a common word: too many candidates, scan the list instead
        monkeypatch.setattr(search, "MAX_CANDIDATES", 0)
    first, second, third = written
    newest_first = [third, second, first]
    assert _ids(store, "zebrafish") == newest_first
    assert _ids(store, "NARWHAL") == newest_first  # a bare word ignores case
    assert _ids(store, "quokka") == newest_first  # in the history chain of 2 and 3
    assert _ids(store, "axolotl") == [third, second]
    assert _ids(store, "résumé") == [second]  # the response, case-folded beyond ASCII
    assert _ids(store, "thanks") == [third]  # the request's own last message
    assert _ids(store, "no-such-word") == []
    assert count_requests(store, Filter(text="axolotl")) == 2
    page = list_requests(store, Filter(text="quokka", limit=1, offset=1))
    assert [r["id"] for r in page] == [second]


def test_turns_written_one_at_a_time_are_indexed(store):
    """Each write indexes only the parts that are new (the chain grows by a link a
    turn); what earlier turns indexed still maps to the later ones."""
    recs = [_record(["hello quokka"], ago=30),
            _record(["hello quokka", "big axolotl here " + PAD], ago=20),
            _record(["hello quokka", "big axolotl here " + PAD, "thanks"], ago=10)]
    for rec in recs:
        store.write([rec])
    ids = [r.capture.id for r in recs]
    assert TextSearch(store, "quokka").indexed_ids() == set(ids)
    assert TextSearch(store, "axolotl").indexed_ids() == set(ids[1:])
    # every shared part is indexed once, as many requests as name it
    parts = store.execute("SELECT count(*) FROM blobs").fetchone()[0]
    assert store.execute("SELECT count(*) FROM search_docs WHERE kind = 'b'").fetchone()[0] \
        == parts


def test_regex_verifies_what_the_index_suggests(store, written):
    search_ = TextSearch(store, r"zebrafish\d")
    assert search_.query is not None
    # the index offers candidates (every trigram is there) but the regex rejects them
    assert store.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH ?",
                         (search_.query,)).fetchone()[0] > 0
    assert _ids(store, r"zebrafish\d") == []
    assert len(_ids(store, r'z\w+sh" when')) == 3
    assert len(_ids(store, "Zebrafish")) == 3  # a bare word: any case
    assert len(_ids(store, 'ZEBRAFISH" WHEN')) == 3  # plain text too
    assert len(_ids(store, r"(?-i:Zebra)|zebra")) == 3
    assert _ids(store, r"Zebr[a]") == []  # a regex is case-sensitive as written
    # quotes and newlines read as text, not as their JSON escapes
    assert len(_ids(store, r'"zebrafish" when asked\.\n')) == 3


def test_pattern_without_literal_scans(store, written):
    search_ = TextSearch(store, r"ax.l.tl")
    assert search_.query is None
    assert _ids(store, r"ax.l.tl") == written[:0:-1]


def test_other_filters_still_apply(store, written):
    assert _ids(store, "quokka", before_id=written[1]) == [written[0]]
    assert _ids(store, "quokka", after_id=written[0]) == [written[2], written[1]]
    assert _ids(store, "quokka", model="claude-opus-4-1") == []


def test_invalid_regex_is_a_value_error(store, written):
    with pytest.raises(ValueError, match="not a valid regex"):
        list_requests(store, Filter(text="(unclosed"))


def test_find_hits_names_the_part(store, written):
    hits = find_hits(store, written[2], "zebrafish|narwhal|quokka|axolotl|Let me")
    where = [(h.part, h.index, h.match) for h in hits]
    assert where == [("system", 1, "zebrafish"), ("tools", 0, "narwhal"),
                     ("messages", 0, "quokka"), ("messages", 2, "axolotl"),
                     ("response", 1, "Let me")]
    hit = hits[0]
    # offsets in the element's text with escapes undone: the quote is one character
    assert (hit.start, hit.end) == (len('{"type": "text", "text": "Say "'),
                                    len('{"type": "text", "text": "Say "zebrafish'))
    assert 'Say "zebrafish" when asked. lorem' in hit.snippet
    assert find_hits(store, "nope", "x") == []


def test_purge_takes_documents_out_of_the_index(store):
    old = _record(["purge-canary-word"] + ["unique shared text " + PAD], ago=40 * 86400)
    keep = _record(["hello"], ago=10)
    store.write([old, keep])
    found = TextSearch(store, "purge-canary-word")
    assert _ids(store, "purge-canary-word") == [old.capture.id]
    docs_before = store.execute("SELECT count(*) FROM search_docs").fetchone()[0]

    assert store.purge(time.time() - 86400) == 1

    assert store.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH ?",
                         (found.query,)).fetchone()[0] == 0
    assert store.execute("SELECT count(*) FROM search_links WHERE request_id = ?",
                         (old.capture.id,)).fetchone()[0] == 0
    # what is left is what the kept capture alone indexes
    fresh = Store(store.path.parent / "fresh.db")
    try:
        fresh.write([keep])
        left = {r[0] for r in store.execute("SELECT key FROM search_docs")}
        assert left == {r[0] for r in fresh.execute("SELECT key FROM search_docs")}
        assert len(left) < docs_before
    finally:
        fresh.close()
    assert _ids(store, "zebrafish") == [keep.capture.id]


def test_migration_leaves_an_older_database_to_index(tmp_path, written, store):
    """A database of schema 6 (no index) is searchable as soon as it is migrated (its
    captures scanned), and indexed once its backlog is worked off."""
    path = store.path
    store.close()
    as_schema_6(path)
    readonly = Store(path, readonly=True)  # a reader before the migration: scans
    try:
        assert _ids(readonly, "quokka") == written[::-1]
    finally:
        readonly.close()
    migrated = Store(path)
    try:
        assert migrated.version >= 7
        assert search.index_progress(migrated) == (0, 3)
        assert TextSearch(migrated, "quokka").indexed_ids() == set(written)
        assert _ids(migrated, "axolotl") == written[:0:-1]
        while migrated.index_backlog():
            pass
        assert search.index_progress(migrated) == (3, 3)
        assert TextSearch(migrated, "quokka").backlog is None
        assert TextSearch(migrated, "quokka").indexed_ids() == set(written)
        assert _ids(migrated, "axolotl") == written[:0:-1]
    finally:
        migrated.close()


def test_list_text_on_the_command_line(store, written, run_cli):
    out = run_cli("list", "--text", "axolotl", "--json")
    assert [r["id"] for r in json.loads(out.output)] == written[:0:-1]
    out = run_cli("list", "--text", "quokka")
    assert written[0][:12] in out.output and "1-3 of 3" in out.output
    out = run_cli("list", "--text", "quokka", "--limit", "2")
    assert "1-2 of more (--offset 2" in out.output
    bad = run_cli("list", "--text", "(", ok=False)
    assert bad.exit_code != 0 and "not a valid regex" in bad.output


def test_text_bodies_and_errors_are_searched(store):
    """A body that is not JSON, and an exchange's error, are stored bytes too."""
    ex = make_exchange(b"plain body: ocelot\n", b"not json either: margay",
                       resp_headers=[("content-type", "text/plain")],
                       error="upstream reset while serval", target="/v1/other")
    rec = Record(capture=build_capture(ex))
    store.write([rec])
    for word in ("ocelot", "margay", "serval", "v1/other"):
        assert _ids(store, word) == [rec.capture.id], word
    hits = find_hits(store, rec.capture.id, "ocelot|margay|serval|other")
    assert [(h.part, h.match) for h in hits] == [
        ("path", "other"), ("body", "ocelot"), ("response", "margay"), ("error", "serval")]
