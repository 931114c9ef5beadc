"""The full-text index over every stored part of a capture (`search.py` queries it).

What is indexed, as "documents" of one FTS5 table:

* each shared body part (a row of `blobs`: system prompt, tools, a large message, a link
  of a history chain), once, however many requests name it;
* each request's own text: path, model, the body as stored (markers of shared parts
  dropped) or a body that is text but not JSON;
* each response's text: its body (the final message) or text body, and the error.

Documents are keyed by content: a shared part by its hash, a request's or response's text
by the sha256 of that text, so identical texts (retries, copies) are indexed once.
`search_links` maps the second kind to the requests they belong to; shared parts reach
their requests through `request_blobs` and `blob_refs`, as the bodies themselves do.

The index text is the JSON text with its string escapes undone (`searchable`): a newline
in a prompt is a newline, `"` a quote, so a search reads what a person reads. The FTS5
table uses the trigram tokenizer (any substring of 3 characters or more, case-insensitive)
with `detail=none` (no positions: the smallest index; `search.py` ANDs trigrams itself
and verifies every candidate with the regex) and keeps no copy of the text
(`content=''`): the store already holds it, compressed. Deleting from such a table needs
the text that was indexed, so documents are taken out (`forget_purged`) while the rows
they come from are still there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import time
from typing import Iterable

from inspector.store.compact import unpack, utf8

SCHEMA = """
CREATE TABLE search_docs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- the rowid in search_fts
    key TEXT NOT NULL UNIQUE,              -- a blob's hash, or sha256 of the text
    kind TEXT NOT NULL                     -- 'b' shared part, 'q' request, 's' response
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
"""

log = logging.getLogger(__name__)

_MARKER = re.compile("\x01[0-9a-f]{64}\x01")
_ESCAPE = re.compile(r'\\(["\\/bfnrt]|u[0-9a-fA-F]{4})')
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
           "t": "\t"}


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
    their own)."""
    return searchable(_join(path, model, body, unpack(body_text)))


def response_text(body: str | bytes | None, body_text: str | bytes | None,
                  error: str | None) -> str:
    return searchable(_join(unpack(body), unpack(body_text), error))


def _key(text: str) -> str:
    return hashlib.sha256(utf8(text)).hexdigest()


_ROW_TEXTS = """
    SELECT r.id, r.path, r.model, r.body, r.body_text, s.body, s.body_text, s.error
    FROM requests r LEFT JOIN responses s ON s.request_id = r.id
    WHERE r.id IN (SELECT value FROM json_each(?))"""


def _row_docs(row: tuple) -> list[tuple[str, str]]:
    """(kind, text) of the documents of one `_ROW_TEXTS` row."""
    return [("q", row_text(row, "q")), ("s", row_text(row, "s"))]


def row_text(row: tuple, kind: str) -> str:
    """The text of one document ("q" request, "s" response) of a `_ROW_TEXTS` row."""
    _, path, model, body, body_text, s_body, s_text, error = row
    if kind == "q":
        return request_text(path, model, body, body_text)
    return response_text(s_body, s_text, error)


def _add(conn: sqlite3.Connection, key: str, kind: str, text: str) -> int:
    """The document with this key, indexed now if it is new; its id."""
    found = conn.execute("SELECT id FROM search_docs WHERE key = ?", (key,)).fetchone()
    if found is not None:
        return found[0]
    doc = conn.execute("INSERT INTO search_docs (key, kind) VALUES (?, ?)",
                       (key, kind)).lastrowid
    conn.execute("INSERT INTO search_fts (rowid, text) VALUES (?, ?)", (doc, _bindable(text)))
    return doc


def index_requests(conn: sqlite3.Connection, ids: Iterable[str]) -> None:
    """Index what these (just written) requests hold and is not indexed yet. Runs in the
    caller's transaction. A shared part is new only when no request named it before; a
    part already indexed has its whole chain below it indexed too, so the walk stops
    there. A request written again with other text (the store replaces by id; the
    capture path never does) leaves its old text's document unlinked: never found,
    but its trigrams stay in the index."""
    ids = json.dumps(list(ids))
    new_parts = conn.execute(
        """WITH RECURSIVE todo (hash) AS (
               SELECT b.hash FROM request_blobs b
               WHERE b.request_id IN (SELECT value FROM json_each(?1))
                 AND NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.key = b.hash)
               UNION SELECT r.child FROM blob_refs r JOIN todo ON r.parent = todo.hash
               WHERE NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.key = r.child))
           SELECT b.hash, b.data FROM todo JOIN blobs b ON b.hash = todo.hash""", (ids,))
    for digest, data in new_parts.fetchall():
        _add(conn, digest, "b", searchable(unpack(data) or ""))
    conn.execute("DELETE FROM search_links WHERE request_id IN (SELECT value FROM json_each(?))",
                 (ids,))
    links = []
    for row in conn.execute(_ROW_TEXTS, (ids,)).fetchall():
        for kind, text in _row_docs(row):
            if text:
                links.append((row[0], _add(conn, _key(text), kind, text)))
    conn.executemany("INSERT OR IGNORE INTO search_links (request_id, doc) VALUES (?, ?)", links)


def backfill(conn: sqlite3.Connection, batch: int = 500) -> int:
    """Index every stored request (the migration that makes the index runs this);
    returns how many. Oldest first, a batch at a time, so memory stays flat."""
    ids = [r[0] for r in conn.execute("SELECT id FROM requests ORDER BY ts, id")]
    if ids:
        log.info("indexing %d stored captures for text search (once)", len(ids))
    shown = time.monotonic()
    for i in range(0, len(ids), batch):
        index_requests(conn, ids[i:i + batch])
        if time.monotonic() - shown > 5:  # about 2,500 captures a second: say how far
            shown = time.monotonic()
            log.info("indexed %d of %d captures", i + batch, len(ids))
    return len(ids)


def has_index(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_fts'").fetchone() \
        is not None


def _delete(conn: sqlite3.Connection, doc: int, text: str) -> None:
    conn.execute("INSERT INTO search_fts (search_fts, rowid, text) VALUES ('delete', ?, ?)",
                 (doc, _bindable(text)))
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
        f"""SELECT DISTINCT l.doc, d.kind FROM search_links l
            JOIN search_docs d ON d.id = l.doc
            WHERE l.request_id IN ({purged})
              AND NOT EXISTS (SELECT 1 FROM search_links k WHERE k.doc = l.doc
                              AND k.request_id NOT IN ({purged}))""").fetchall()
    for doc, kind in own:
        request_id = conn.execute("SELECT request_id FROM search_links WHERE doc = ? LIMIT 1",
                                  (doc,)).fetchone()[0]
        row = conn.execute(_ROW_TEXTS, (json.dumps([request_id]),)).fetchone()
        text = row_text(row, kind) if row is not None else None
        if text is not None and _key(text) == conn.execute(
                "SELECT key FROM search_docs WHERE id = ?", (doc,)).fetchone()[0]:
            _delete(conn, doc, text)
    conn.execute(f"DELETE FROM search_links WHERE request_id IN ({purged})")
    # shared parts that no request left reaches (as `Store.purge` finds them after)
    gone = conn.execute(
        f"""WITH RECURSIVE reach (hash) AS (
                SELECT hash FROM request_blobs WHERE request_id NOT IN ({purged})
                UNION SELECT r.child FROM blob_refs r JOIN reach ON r.parent = reach.hash)
            SELECT d.id, b.data FROM search_docs d JOIN blobs b ON b.hash = d.key
            WHERE d.kind = 'b' AND d.key NOT IN (SELECT hash FROM reach)""")
    for doc, data in gone.fetchall():
        _delete(conn, doc, searchable(unpack(data) or ""))
    # A delete is written as a marker beside the postings it cancels; merging every
    # segment into one drops both, so nothing of the purged text stays in the file.
    conn.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
