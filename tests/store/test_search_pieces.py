"""Big documents are indexed in overlapping pieces, read a slice at a time, with long
base64 runs left out; search and purge see every piece."""

from __future__ import annotations

import base64
import json
import random
import time

import pytest
from capture.fixtures import make_exchange

from inspector.capture import build_capture
from inspector.store import Filter, Record, Store, list_requests, search_index
from inspector.store.search import TextSearch

FILLER = "lorem ipsum dolor sit amet, "
JSON = [("content-type", "application/json")]


def _record(system: str = "You are Claude Code.", reply: str = "ok", extra: list | None = None,
            ago: float = 0.0) -> Record:
    content = [{"type": "text", "text": "hello"}] + (extra or [])
    body = {"model": "claude-sonnet-4-5-20250929", "max_tokens": 10, "system": system,
            "messages": [{"role": "user", "content": content}]}
    answer = {"type": "message", "role": "assistant",
              "content": [{"type": "text", "text": reply}]}
    ex = make_exchange(json.dumps(body).encode(), json.dumps(answer).encode(),
                       req_headers=JSON, resp_headers=JSON, started_wall=time.time() - ago)
    return Record(capture=build_capture(ex))


def _ids(store, text: str) -> list[str]:
    return [r["id"] for r in list_requests(store, Filter(text=text, limit=0))]


def _pieces(store) -> dict[str, int]:
    return dict(store.execute("SELECT kind, max(pieces) FROM search_docs GROUP BY kind"))


def _terms(store) -> set[str]:
    """The trigrams the index holds."""
    store.conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.v"
                       " USING fts5vocab(main, search_fts, 'row')")
    return {r[0] for r in store.execute("SELECT term FROM temp.v")}


@pytest.fixture
def small_pieces(monkeypatch):
    """Pieces of 4,000 characters, values past 200 bytes streamed in 700-byte reads:
    the same paths as megabytes take, on kilobytes."""
    monkeypatch.setattr(search_index, "PIECE", 4000)
    monkeypatch.setattr(search_index, "STREAM_ABOVE", 200)
    monkeypatch.setattr(search_index, "SLICE", 700)


def test_slices_are_cleaned_as_the_whole(small_pieces):
    """Escapes and markers split between slices read as in the whole text."""
    rng = random.Random(5)
    bits = ["word ", '\\"', "\\\\", "\\\\u0041", "\\u00e9", "\\ud83d", "\\n", "\x01" + "ab" * 32 +
            "\x01", "\\", "Q" * 600, "= ", "é"]
    text = "".join(rng.choice(bits) for _ in range(4000))
    whole = search_index.searchable(text)
    for step in (1, 3, 7, 64, 65, 66, 1000):
        slices = [text[i:i + step] for i in range(0, len(text), step)]
        assert "".join(search_index._cleaned(slices)) == whole, step
        cleaned = [whole[i:i + step] for i in range(0, len(whole), step)]
        assert "".join(search_index._without_base64(cleaned)) == \
            search_index._BASE64.sub(" ", whole), step


def test_a_term_across_a_piece_boundary_is_found(store, small_pieces):
    # "boundaryword" straddles the end of the first piece (4,000 characters of the
    # reply's JSON text, which starts with this)
    before = len('{"type":"message","role":"assistant","content":[{"type":"text","text":"')
    reply = ("x " * 2000)[:4000 - 6 - before] + "boundaryword " + "y " * 3000
    rec = _record(reply=reply)
    store.write([rec])
    assert _pieces(store)["s"] > 1
    assert _ids(store, "boundaryword") == [rec.capture.id]
    assert TextSearch(store, "boundaryword").indexed_ids() == {rec.capture.id}


def test_literals_in_different_pieces_are_found_by_a_regex(store, small_pieces):
    rec = _record(reply="alphaword " + "z " * 5000 + "omegaword")
    store.write([rec])
    search = TextSearch(store, "alphaword.*omegaword")
    assert search.piece_query is not None  # no one piece holds both words
    assert search.indexed_ids() == {rec.capture.id}
    assert TextSearch(store, "alphaword.*nosuchword").indexed_ids() == set()


def test_a_word_after_3_mb_of_a_big_part_and_a_big_reply_is_found(store, run_cli):
    """At real sizes: a 3.5 MB system prompt (a shared part) and a 3.5 MB reply."""
    filler = FILLER * (3_500_000 // len(FILLER))
    rec = _record(system=filler + "systemtail-marmot " + FILLER,
                  reply=filler + "replytail-pangolin " + FILLER)
    other = _record()
    store.write([rec, other])
    assert min(_pieces(store).values()) == 1 and _pieces(store)["b"] >= 3
    assert _pieces(store)["s"] >= 3
    for word in ("systemtail-marmot", "replytail-pangolin"):
        assert _ids(store, word) == [rec.capture.id], word
        assert TextSearch(store, word).indexed_ids() == {rec.capture.id}, word
    out = run_cli("list", "--text", "replytail-pangolin", "--json")
    assert [r["id"] for r in json.loads(out.output)] == [rec.capture.id]


def test_a_base64_run_is_left_out_but_the_text_around_it_is_indexed(store):
    data = base64.b64encode(random.Random(7).randbytes(3 << 20)).decode()
    doc = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                          "data": data}}
    rec = _record(extra=[doc, {"type": "text", "text": "after-the-pdf capybara"}],
                  system="before the pdf: tapir " + FILLER * 100)
    store.write([rec])
    assert TextSearch(store, "capybara").indexed_ids() == {rec.capture.id}
    assert TextSearch(store, "tapir").indexed_ids() == {rec.capture.id}
    inside = data[2_000_000:2_000_040]
    assert TextSearch(store, inside).indexed_ids() == set()  # not in the index
    # the index holds hardly anything of 4 MB of base64: the trigrams of a few words
    assert len(_terms(store)) < 3000


def test_purge_takes_every_piece_out(store, small_pieces):
    old = _record(system="purgeable-part " + "sloth " * 3000 + " lastpart-okapi",
                  reply="purgeable-reply " + "koala " * 3000 + " lastreply-dingo",
                  ago=40 * 86400)
    keep = _record(ago=10)
    store.write([old, keep])
    assert _pieces(store)["b"] > 1 and _pieces(store)["s"] > 1
    assert store.purge(time.time() - 86400) == 1
    # the terms left are those the kept capture alone makes
    fresh = Store(store.path.parent / "fresh.db")
    try:
        fresh.write([keep])
        assert _terms(store) == _terms(fresh)
    finally:
        fresh.close()
    assert "kap" not in _terms(store)  # of "okapi", at the end of the purged part
    assert store.execute("SELECT count(*) FROM search_docs WHERE pieces > 1").fetchone()[0] == 0
    assert _ids(store, "hello") == [keep.capture.id]


def test_a_big_text_body_stored_as_text_is_streamed_too(store, small_pieces):
    """A body that is not JSON is kept as TEXT, not packed: read through the blob handle
    as UTF-8, a character split between two reads included."""
    ex = make_exchange(("é plain body " * 800 + "textbody-tamarin").encode(),
                       b"not json: " + "ü".encode() * 3000 + b" textreply-gibbon",
                       resp_headers=[("content-type", "text/plain")])
    rec = Record(capture=build_capture(ex))
    store.write([rec])
    assert store.execute("SELECT typeof(body_text) FROM requests").fetchone()[0] == "text"
    assert _pieces(store)["q"] > 1
    for word in ("textbody-tamarin", "textreply-gibbon"):
        assert TextSearch(store, word).indexed_ids() == {rec.capture.id}, word
    assert store.purge(time.time() + 60) == 1
    assert store.execute("SELECT count(*) FROM search_docs").fetchone()[0] == 0
    assert _terms(store) == set()


def test_each_piece_maps_to_its_own_document(store, small_pieces):
    """Pieces take the rowids after their document's id: a word in the last piece of
    one document is not taken for the next document's."""
    recs = [_record(system=f"system{i} " + "w " * 3000 + f"endofsystem{i}",
                    reply=f"reply{i} " + "v " * (1000 + 3000 * i) + f"endofreply{i}")
            for i in range(3)]
    for rec in recs:
        store.write([rec])
    assert store.execute("SELECT count(*) FROM search_docs WHERE pieces > 1").fetchone()[0] >= 5
    for i, rec in enumerate(recs):
        for word in (f"endofsystem{i}", f"endofreply{i}"):
            assert TextSearch(store, word).indexed_ids() == {rec.capture.id}, word
