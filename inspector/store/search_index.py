"""The full-text index over every stored part of a capture (`search.py` queries it).

What is indexed, as "documents" of one FTS5 table:

* each shared body part (a row of `blobs`: system prompt, tools, a large message, a link
  of a history chain), once, however many requests name it;
* each request's own text: path, model, the body as stored (markers of shared parts
  dropped) or a body that is text but not JSON;
* each response's text: its body (the final message) or text body, and the error.

Documents are keyed by content: a shared part by its hash, a request's or response's text
by the sha256 of that text as stored, so identical texts (retries, copies) are indexed once.
`search_links` maps the second kind to the requests they belong to; shared parts reach
their requests through `request_blobs` and `blob_refs`, as the bodies themselves do.

The index text is the JSON text with its string escapes undone (`searchable`): a newline
in a prompt is a newline, `"` a quote, so a search reads what a person reads. Long runs of
base64 characters (`BASE64_RUN`, 512, or more of `A-Za-z0-9+/=`: an image, a PDF) are
not text anyone searches for and are left out of the index (each run becomes a space), so
a 32 MB base64 document adds almost nothing to it. The text around a run is indexed; a
regex that only text inside a run matches is found when search scans (no literal, or
many candidates), not through the index. The FTS5 table uses the trigram tokenizer (any
substring of 3 characters or more, case-insensitive) with `detail=none` (no positions:
the smallest index; `search.py` ANDs trigrams itself and verifies every candidate with
the regex) and keeps no copy of the text (`content=''`): the store already holds it,
compressed.

A document is indexed in pieces of `PIECE` characters, each overlapping the one before
by `OVERLAP` (a word across a boundary is whole in one of them), as FTS rows numbered
from the document's id on: ids leave room for the pieces, so rowids stay dense, which
keeps the index small (with `detail=none` it is mostly rowid deltas). A stored value
bigger than `STREAM_ABOVE` (or packed small but holding more text than that) is read a
slice at a time (`compact.stream_bytes`, `compact.stream_unpacked`), cleaned, cut and
indexed as it is read, and its key hashed the same way, so the writer never holds a big
part or reply whole. Deleting from a contentless table needs the exact text that was
indexed: the pieces are made again from the stored rows the same way, so documents are
taken out (`forget_purged`) while the rows they come from are still there.

Captures stored before the index existed are indexed lazily, a batch at a time: see
`search_backlog.py`.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from typing import Iterable, Iterator, Union

from inspector.store.compact import (decoded, stream_bytes, stream_unpacked, unpack,
                                     unpacked_size, utf8)

SCHEMA = """
CREATE TABLE search_docs (
    id INTEGER PRIMARY KEY,                -- its pieces' search_fts rowids: id, id + 1, ...
    key TEXT NOT NULL UNIQUE,              -- a blob's hash, or sha256 of the text
    kind TEXT NOT NULL,                    -- 'b' shared part, 'q' request, 's' response
    pieces INTEGER NOT NULL DEFAULT 0      -- its rows in search_fts
);
CREATE TABLE search_links (
    request_id TEXT NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (request_id, doc)
) WITHOUT ROWID;
CREATE INDEX search_links_doc ON search_links (doc);
-- from a part to the history chain parts that name it (search walks up to requests)
CREATE INDEX IF NOT EXISTS blob_refs_child ON blob_refs (child);
CREATE VIRTUAL TABLE search_fts USING fts5(
    text, tokenize = 'trigram', detail = none, content = ''
);
-- one row while captures stored before the index are left to index: those with a
-- requests rowid at most `upto` (see `search_backlog.py`)
CREATE TABLE search_backlog (upto INTEGER NOT NULL);
"""

#: characters of one indexed piece of a document, and of it repeated at the start of the
#: next (a word of up to OVERLAP characters across a boundary is whole in one piece)
PIECE = 1 << 20
OVERLAP = 256
#: stored values longer than this (bytes, or characters of a text value) are streamed
STREAM_ABOVE = 1 << 20
#: bytes read at a time from a streamed value
SLICE = 256 << 10
#: a run of at least this many base64 characters is left out of the index
BASE64_RUN = 512

_MARKER = re.compile("\x01[0-9a-f]{64}\x01")
_ESCAPE = re.compile(r'\\(["\\/bfnrt]|u[0-9a-fA-F]{4})')
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
           "t": "\t"}
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_BASE64 = re.compile(f"[A-Za-z0-9+/=]{{{BASE64_RUN},}}")


def _unescape(m: re.Match) -> str:
    code = m.group(1)
    if len(code) == 1:
        return _SIMPLE[code]
    point = int(code[1:], 16)
    # a surrogate half stays written as it was: alone it is no character
    return m.group(0) if 0xD800 <= point <= 0xDFFF else chr(point)


def searchable(text: str) -> str:
    """What search reads of stored JSON text: markers of shared parts become a newline
    and string escapes are undone. Not JSON any more; never parsed."""
    if "\x01" in text:
        text = _MARKER.sub("\n", text)
    if "\\" in text:
        text = _ESCAPE.sub(_unescape, text)
    return text


def _bindable(text: str) -> str:
    """`text` as SQLite can take it (a lone surrogate cannot be encoded)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def _join(*pieces: str | None) -> str:
    return "\n".join(p for p in pieces if p)


def request_text(path: str | None, model: str | None, body: str | None,
                 body_text: str | None) -> str:
    """The searchable text of a request's own row (shared parts are documents of
    their own), whole: what search verifies a candidate with."""
    return searchable(_join(path, model, body, unpack(body_text)))


def response_text(body: str | bytes | None, body_text: str | bytes | None,
                  error: str | None) -> str:
    return searchable(_join(unpack(body), unpack(body_text), error))


_ROW_TEXTS = """
    SELECT r.id, r.path, r.model, r.body, r.body_text, s.body, s.body_text, s.error
    FROM requests r LEFT JOIN responses s ON s.request_id = r.id
    WHERE r.id IN (SELECT value FROM json_each(?))"""


def row_text(row: tuple, kind: str) -> str:
    """The text of one document ("q" request, "s" response) of a `_ROW_TEXTS` row."""
    _, path, model, body, body_text, s_body, s_text, error = row
    if kind == "q":
        return request_text(path, model, body, body_text)
    return response_text(s_body, s_text, error)


# -- documents as sources, read a slice at a time -----------------------------------------

#: a big stored value, named rather than read: (table, column, rowid)
Stored = tuple[str, str, int]
#: what a document's text is made of, joined by newlines: texts in hand, packed values in
#: hand whose text is big (unpacked a slice at a time), and big stored values
Sources = list[Union[str, bytes, Stored]]


def _small(column: str) -> str:
    """SQL for a column's value when small as stored (else NULL), and whether it is big.
    SQLite reads the length of a BLOB value without loading it."""
    return (f"CASE WHEN length({column}) > {STREAM_ABOVE} THEN NULL ELSE {column} END, "
            f"length({column}) > {STREAM_ABOVE}")


def _source(value: str | bytes | None, big: int | None, stored: Stored
            ) -> str | bytes | Stored | None:
    """What a `_small` pair of columns is as a source: small as stored but packed, a
    value may still hold a big text (a long reply compresses well)."""
    if big:
        return stored
    if isinstance(value, (bytes, bytearray)) and not 0 <= unpacked_size(value) <= STREAM_ABOVE:
        return bytes(value)
    return unpack(value)


_ROW_SOURCES = f"""
    SELECT r.id, r.path, r.model, {_small("r.body")}, {_small("r.body_text")}, r.rowid,
           {_small("s.body")}, {_small("s.body_text")}, s.error, s.rowid
    FROM requests r LEFT JOIN responses s ON s.request_id = r.id
    WHERE r.id IN (SELECT value FROM json_each(?))"""


def _row_sources(row: tuple) -> list[tuple[str, Sources]]:
    """(kind, sources) of the documents of one `_ROW_SOURCES` row."""
    (_, path, model, body, body_big, text, text_big, rowid,
     s_body, s_body_big, s_text, s_text_big, error, s_rowid) = row
    q = [path, model, _source(body, body_big, ("requests", "body", rowid)),
         _source(text, text_big, ("requests", "body_text", rowid))]
    s = [_source(s_body, s_body_big, ("responses", "body", s_rowid)),
         _source(s_text, s_text_big, ("responses", "body_text", s_rowid)), error]
    return [("q", [x for x in q if x]), ("s", [x for x in s if x])]


def _utf8_chunks(conn: sqlite3.Connection, sources: Sources) -> Iterator[bytes]:
    """A document's text as stored, as UTF-8 in chunks (a big value `SLICE` at a time)."""
    for i, source in enumerate(sources):
        if i:
            yield b"\n"
        if isinstance(source, str):
            yield utf8(source)
        elif isinstance(source, bytes):
            yield from stream_unpacked(source, SLICE)
        else:
            yield from stream_bytes(conn, *source, step=SLICE)


def _searchable(conn: sqlite3.Connection, sources: Sources) -> Iterator[str]:
    """`searchable` of a document's text, in slices."""
    if all(isinstance(s, str) for s in sources):  # small: whole
        yield searchable("\n".join(sources))  # type: ignore[arg-type]
    else:
        yield from _cleaned(decoded(_utf8_chunks(conn, sources)))


def _key(conn: sqlite3.Connection, sources: Sources) -> str:
    """sha256 of a document's text as stored (its UTF-8), read a slice at a time."""
    digest = hashlib.sha256()
    for chunk in _utf8_chunks(conn, sources):
        digest.update(chunk)
    return digest.hexdigest()


def _safe_cut(text: str, cut: int) -> int:
    """`cut`, or an earlier offset, such that no escape (at most 6 characters, and a
    run of backslashes pairs from its start) and no marker (66) spans it."""
    cut = max(cut, 0)
    while cut > 0:
        at = max(text.rfind("\\", max(cut - 5, 0), cut),
                 text.rfind("\x01", max(cut - 65, 0), cut))
        if at < 0:
            break
        cut = at
    return cut


def _cleaned(slices: Iterable[str]) -> Iterator[str]:
    """`searchable` over a text given in slices: each slice is cleaned up to a point no
    escape or marker spans, the rest waits for the next."""
    rest = ""
    for piece in slices:
        text = rest + piece
        cut = _safe_cut(text, len(text) - 80)
        if cut:
            yield searchable(text[:cut])
        rest = text[cut:]
    if rest:
        yield searchable(rest)


def _without_base64(chunks: Iterable[str]) -> Iterator[str]:
    """The text with each run of `BASE64_RUN` or more base64 characters made one space.
    A run at the end of a chunk is held back while it is short, and dropped as it goes
    on once long."""
    held = ""  # a run of base64 characters that ended a chunk, too short yet to tell
    dropping = False  # inside a long run, already replaced by a space
    for chunk in chunks:
        if dropping:
            chunk = chunk.lstrip(_B64)
            if not chunk:
                continue
            dropping = False
        text = held + chunk
        rest = text.rstrip(_B64)
        tail = len(text) - len(rest)
        held = text[len(rest):] if tail < BASE64_RUN else ""
        dropping = tail >= BASE64_RUN
        if len(rest) >= BASE64_RUN:  # else it cannot hold a long run
            rest = _BASE64.sub(" ", rest)
        yield rest + " " if dropping else rest
    if held:
        yield held


def _pieces(chunks: Iterable[str]) -> Iterator[str]:
    """The text in pieces of `PIECE` characters, each starting `OVERLAP` before the end of
    the one before; none if the text is empty."""
    buf, fresh = "", 0  # fresh: characters of buf in no piece yet
    for chunk in chunks:
        buf += chunk
        fresh += len(chunk)
        while len(buf) >= PIECE:
            yield buf[:PIECE]
            buf = buf[PIECE - OVERLAP:]
            fresh = len(buf) - OVERLAP
    if fresh > 0:
        yield buf


def pieces(conn: sqlite3.Connection, sources: Sources) -> Iterator[tuple[int, str]]:
    """(number, text) of each indexed piece of a document, made as they are read."""
    made = _pieces(_without_base64(_searchable(conn, sources)))
    for n, piece in enumerate(made):
        yield n, _bindable(piece)


def _add(conn: sqlite3.Connection, key: str, kind: str, sources: Sources) -> int:
    """The document with this key, indexed now if it is new; its id."""
    found = conn.execute("SELECT id FROM search_docs WHERE key = ?", (key,)).fetchone()
    if found is not None:
        return found[0]
    # the id after the last document's pieces (a document without text takes one too)
    last = conn.execute("SELECT id + max(pieces, 1) FROM search_docs ORDER BY id DESC LIMIT 1"
                        ).fetchone()
    first = last[0] if last else 1
    if all(isinstance(s, str) for s in sources):  # small: its pieces (one) known first
        made = list(pieces(conn, sources))
        conn.execute("INSERT INTO search_docs (id, key, kind, pieces) VALUES (?, ?, ?, ?)",
                     (first, key, kind, len(made)))
        made_now: Iterable[tuple[int, str]] = made
    else:
        conn.execute("INSERT INTO search_docs (id, key, kind) VALUES (?, ?, ?)",
                     (first, key, kind))
        made_now = pieces(conn, sources)
    count = 0
    for n, text in made_now:
        conn.execute("INSERT INTO search_fts (rowid, text) VALUES (?, ?)", (first + n, text))
        count = n + 1
    if count and not isinstance(made_now, list):
        conn.execute("UPDATE search_docs SET pieces = ? WHERE id = ?", (count, first))
    return first


def _blob_sources(rowid: int, data: str | bytes | None, big: int | None) -> Sources:
    text = _source(data, big, ("blobs", "data", rowid))
    return [text] if text else []


def index_requests(conn: sqlite3.Connection, ids: Iterable[str]) -> None:
    """Index what these (just written) requests hold and is not indexed yet. Runs in the
    caller's transaction. A shared part is new only when no request named it before; a
    part already indexed has its whole chain below it indexed too, so the walk stops
    there. A request written again with other text (the store replaces by id; the
    capture path never does) leaves its old text's document unlinked: never found,
    but its trigrams stay in the index."""
    ids = json.dumps(list(ids))
    new_parts = conn.execute(
        f"""WITH RECURSIVE todo (hash) AS (
               SELECT b.hash FROM request_blobs b
               WHERE b.request_id IN (SELECT value FROM json_each(?1))
                 AND NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.key = b.hash)
               UNION SELECT r.child FROM blob_refs r JOIN todo ON r.parent = todo.hash
               WHERE NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.key = r.child))
           SELECT b.hash, b.rowid, {_small("b.data")}
           FROM todo JOIN blobs b ON b.hash = todo.hash""", (ids,))
    for digest, rowid, data, big in new_parts.fetchall():
        _add(conn, digest, "b", _blob_sources(rowid, data, big))
    conn.execute("DELETE FROM search_links WHERE request_id IN (SELECT value FROM json_each(?))",
                 (ids,))
    links = []
    for row in conn.execute(_ROW_SOURCES, (ids,)).fetchall():
        for kind, sources in _row_sources(row):
            if sources:
                links.append((row[0], _add(conn, _key(conn, sources), kind, sources)))
    conn.executemany("INSERT OR IGNORE INTO search_links (request_id, doc) VALUES (?, ?)", links)


def has_index(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_fts'").fetchone() \
        is not None


def _delete(conn: sqlite3.Connection, doc: int, sources: Sources) -> None:
    """Take a document out: each piece, made again, deleted with its exact text."""
    for n, text in pieces(conn, sources):
        conn.execute("INSERT INTO search_fts (search_fts, rowid, text) VALUES ('delete', ?, ?)",
                     (doc + n, text))
    conn.execute("DELETE FROM search_docs WHERE id = ?", (doc,))


def forget_purged(conn: sqlite3.Connection) -> None:
    """Take out of the index what purging the requests in `temp.purge_ids` leaves no
    stored request with: run inside the purge's transaction, before any row goes (the
    texts are needed to delete them from the index, see the module's docstring)."""
    if not has_index(conn):
        return
    purged = "SELECT id FROM temp.purge_ids"
    # a request's own documents that no request kept links to
    own = conn.execute(
        f"""SELECT DISTINCT l.doc, d.kind, d.key FROM search_links l
            JOIN search_docs d ON d.id = l.doc
            WHERE l.request_id IN ({purged})
              AND NOT EXISTS (SELECT 1 FROM search_links k WHERE k.doc = l.doc
                              AND k.request_id NOT IN ({purged}))""").fetchall()
    for doc, kind, key in own:
        request_id = conn.execute("SELECT request_id FROM search_links WHERE doc = ? LIMIT 1",
                                  (doc,)).fetchone()[0]
        row = conn.execute(_ROW_SOURCES, (json.dumps([request_id]),)).fetchone()
        sources = dict(_row_sources(row))[kind] if row is not None else None
        if sources and _key(conn, sources) == key:
            _delete(conn, doc, sources)
    conn.execute(f"DELETE FROM search_links WHERE request_id IN ({purged})")
    # shared parts that no request left reaches (as `Store.purge` finds them after)
    gone = conn.execute(
        f"""WITH RECURSIVE reach (hash) AS (
                SELECT hash FROM request_blobs WHERE request_id NOT IN ({purged})
                UNION SELECT r.child FROM blob_refs r JOIN reach ON r.parent = reach.hash)
            SELECT d.id, b.rowid, {_small("b.data")} FROM search_docs d
            JOIN blobs b ON b.hash = d.key
            WHERE d.kind = 'b' AND d.key NOT IN (SELECT hash FROM reach)""")
    for doc, rowid, data, big in gone.fetchall():
        _delete(conn, doc, _blob_sources(rowid, data, big))
    # A delete is written as a marker beside the postings it cancels; merging every
    # segment into one drops both, so nothing of the purged text stays in the file.
    conn.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
