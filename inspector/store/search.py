"""Regex search over every stored byte of a capture: its request (the shared system
prompt, tools and large messages included), its response and its error.

Two ways to find the requests that match, both ending with the regex on the real text:

* through the index (`search_index.py`): the FTS5 query of the pattern's literals
  (`search_terms.py`) gives candidate documents; each is verified once, however many
  requests share it, then mapped to its requests (a shared part up the history chains
  that name it). Used when the candidates are few: a rare word on 100k captures. A big
  document is indexed in pieces, so one whose literals sit in different pieces is found
  by a looser query (`search_terms.piece_query`) over the documents of several pieces.
  Text inside long base64 runs is not indexed: a regex only such a run matches is found
  by scanning, not through the index.
  Captures stored before the index existed and not indexed yet (its backlog, see
  `search_backlog.py`) are scanned with the regex instead and added; they count as
  candidates, so a big backlog makes search scan the list as below.
* by scanning requests in list order: each request's own texts, then its shared parts,
  whose verdicts are kept, so a session's system prompt and history are read once.
  Used when the pattern has no literal, the database has no index (opened read-only
  before migration 7), or a common word makes the candidates many: a page of 50 then
  stops after the first 50 matching requests.

`find_hits` lists where one request matches, for the app to open and highlight.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

from inspector.store import search_backlog, search_index
from inspector.store.bodies import _DECODER, _ws
from inspector.store.compact import unpack
from inspector.store.search_index import _MARKER, searchable
from inspector.store.search_terms import piece_query, query_for, required

#: the FTS path verifies at most this many candidate documents; past it, scan instead
MAX_CANDIDATES = 5000


@dataclass(frozen=True)
class TextHit:
    """One match inside one request.

    `part` is where: a top-level key of the request body ("system", "tools", "messages",
    "model", "metadata", ...), "path", "body" (a body that is not JSON), "response" (the
    reply: `index` is its content block) or "response.<key>" (another key of the reply),
    or "error". `index` is the element of a list part (system block, tool, message,
    content block), else None. `start`/`end` are offsets of the match in that element's
    searchable text (JSON with its string escapes undone); `match` is the text matched,
    `snippet` the match with some text each side, on one line."""

    request_id: str
    part: str
    index: int | None
    start: int
    end: int
    match: str
    snippet: str


class TextSearch:
    """One pattern over one store: finds matching requests, remembering verdicts."""

    def __init__(self, store: Any, pattern: str) -> None:
        self.store = store
        self.regex, self.query = query_for(pattern)
        # a document in several pieces may hold the pattern's literals in different
        # pieces: those are found with a looser query (when it differs)
        loose = piece_query(required(self.regex), search_index.OVERLAP)
        self.piece_query = loose if loose != self.query else None
        self.indexed = search_index.has_index(store.conn)
        #: requests with a rowid at most this are not indexed yet: scanned (None: none)
        self.backlog = search_backlog.backlog_upto(store.conn) if self.indexed else None
        #: shared part hash -> whether it or a part it names matches
        self._parts: dict[str, bool] = {}

    def _matches(self, text: str | None) -> bool:
        return bool(text) and self.regex.search(text) is not None

    # -- through the index ---------------------------------------------------------------

    def indexed_ids(self, max_docs: int | None = MAX_CANDIDATES,
                    where: tuple[str, list[Any]] = ("", [])) -> set[str] | None:
        """Every matching request id, through the index and a scan of its backlog; None
        when the index cannot be used (none, no literal) or more than `max_docs`
        documents and backlog requests are candidates. `where` (`Filter.where()`) may
        narrow the backlog scan; requests found through the index are not filtered."""
        if not self.indexed or self.query is None:
            return None
        left = 0
        if self.backlog is not None and max_docs is not None:
            left = self.store.execute("SELECT count(*) FROM requests WHERE rowid <= ?",
                                      (self.backlog,)).fetchone()[0]
            if left > max_docs:
                return None
            max_docs -= left
        cap = -1 if max_docs is None else max_docs + 1
        # a piece's rowid is its document's id or after it, before the next document's
        find = ("SELECT DISTINCT d.id, d.key, d.kind FROM search_fts f JOIN search_docs d"
                " ON d.id = (SELECT max(id) FROM search_docs WHERE id <= f.rowid)"
                " WHERE search_fts MATCH ?")
        docs = self.store.execute(find + " LIMIT ?", (self.query, cap)).fetchall()
        if self.piece_query is not None:
            docs = list(dict.fromkeys(docs + self.store.execute(
                find + " AND d.pieces > 1 LIMIT ?", (self.piece_query, cap)).fetchall()))
        if max_docs is not None and len(docs) > max_docs:
            return None
        parts = [key for _, key, kind in docs if kind == "b"]
        texts = self.store.blob_texts(parts) if parts else {}
        hit_parts = [h for h in parts if self._matches(searchable(texts.get(h) or ""))]
        ids: set[str] = set()
        ex = self.store.execute
        if hit_parts:
            ids.update(r[0] for r in ex(
                """WITH RECURSIVE up (hash) AS (
                       SELECT value FROM json_each(?)
                       UNION SELECT r.parent FROM blob_refs r JOIN up ON r.child = up.hash)
                   SELECT DISTINCT b.request_id FROM up
                   JOIN request_blobs b ON b.hash = up.hash""", (json.dumps(hit_parts),)))
        own = {doc: kind for doc, _, kind in docs if kind != "b"}
        if own:
            owners: dict[int, list[str]] = {}
            for doc, request_id in ex("SELECT doc, request_id FROM search_links WHERE doc IN"
                                      " (SELECT value FROM json_each(?))", (json.dumps(list(own)),)):
                owners.setdefault(doc, []).append(request_id)
            # a document whose requests all match already (a shared part matched: the
            # system prompt, say) is not read
            todo = {doc: owners[doc] for doc in owners if not ids.issuperset(owners[doc])}
            for doc in self._verify_own(todo, own):
                ids.update(todo[doc])
        if self.backlog is not None:
            ids.update(self._backlog_matching(*where))
        return ids

    def _backlog_matching(self, where: str, params: list[Any]) -> list[str]:
        """Requests of the backlog (matching `where`) whose text matches, by scanning."""
        join = " LEFT JOIN responses s ON s.request_id = r.id" if "s." in where else ""
        where = (where + " AND" if where else " WHERE") + " r.rowid <= ?"
        ids = [r[0] for r in self.store.execute(f"SELECT r.id FROM requests r{join}{where}",
                                                [*params, self.backlog])]
        out: list[str] = []
        for i in range(0, len(ids), 500):
            out += self.matching(ids[i:i + 500])
        return out

    def _verify_own(self, owners: dict[int, list[str]], kinds: dict[int, str]) -> list[int]:
        """The request and response documents (`owners`: doc -> requests linking it)
        whose text matches, read from the first request of each."""
        if not owners:
            return []
        first = {doc: requests[0] for doc, requests in owners.items()}
        rows = {r[0]: r for r in self.store.execute(
            search_index._ROW_TEXTS, (json.dumps(sorted(set(first.values()))),))}
        hits = []
        for doc, request_id in first.items():
            row = rows.get(request_id)
            if row is not None and self._matches(search_index.row_text(row, kinds[doc])):
                hits.append(doc)
        return hits

    # -- by scanning ---------------------------------------------------------------------

    def matching(self, ids: list[str]) -> list[str]:
        """Those of `ids` whose request or response matches, in the given order."""
        if not ids:
            return []
        rows = {r[0]: r for r in self.store.execute(search_index._ROW_TEXTS,
                                                    (json.dumps(ids),))}
        out = []
        for id_ in ids:
            row = rows.get(id_)
            if row is not None and self._row_matches(row):
                out.append(id_)
        return out

    def _row_matches(self, row: tuple) -> bool:
        if any(self._matches(search_index.row_text(row, kind)) for kind in "qs"):
            return True
        body = row[3]
        return bool(body) and any(self._part_matches(h) for h in _parts_named(body))

    def _part_matches(self, digest: str) -> bool:
        """Whether a shared part, or any part it names (a history chain), matches. Read a
        level at a time; a verdict is kept for every part read when none matches, and for
        the part asked about when one does."""
        known = self._parts
        if digest in known:
            return known[digest]
        seen: set[str] = set()
        level = {digest}
        while level:
            seen |= level
            texts = self.store.blob_texts(level)
            following: set[str] = set()
            for h in level:
                text = texts.get(h) or ""
                if self._matches(searchable(text)):
                    known[digest] = True
                    return True
                for child in _parts_named(text):
                    if known.get(child):
                        known[digest] = True
                        return True
                    if child not in known and child not in seen:
                        following.add(child)
            level = following
        known.update(dict.fromkeys(seen, False))
        return False


def _parts_named(text: str) -> Iterable[str]:
    """Hashes of the shared parts a stored text names."""
    if "\x01" not in text:
        return ()
    return (m.group()[1:-1] for m in _MARKER.finditer(text))


def all_matching_ids(store: Any, f: Any) -> list[str]:
    """Ids of every request matching filter `f` (its text included)."""
    search = TextSearch(store, f.text)
    found = search.indexed_ids(max_docs=None, where=f.where())
    if found is not None:
        return list(found)
    where, params = f.where()
    join = " LEFT JOIN responses s ON s.request_id = r.id" if "s." in where else ""
    ids = [r[0] for r in store.execute(f"SELECT r.id FROM requests r{join}{where}", params)]
    out: list[str] = []
    for i in range(0, len(ids), 500):
        out += search.matching(ids[i:i + 500])
    return out


def index_progress(store: Any) -> tuple[int, int]:
    """(indexed, stored): how many of the stored captures the search index covers; the
    rest are scanned by every search until the recorder has indexed them."""
    total = store.execute("SELECT count(*) FROM requests").fetchone()[0]
    if not search_index.has_index(store.conn):
        return 0, total
    return total - search_backlog.backlog_count(store.conn), total


# -- hits in one request ------------------------------------------------------------------

#: characters of context on each side of a hit's snippet
SNIPPET = 40


def _top_values(text: str, lists: tuple[str, ...]) -> list[tuple[str, int | None, int, int]]:
    """(key, element or None, start, end) of each top-level value of a JSON object, each
    element apart for the keys in `lists` whose value is an array; [] if not an object."""
    scan = _DECODER.scan_once
    out: list[tuple[str, int | None, int, int]] = []
    try:
        i = _ws(text, 0)
        if text[i] != "{":
            return []
        i = _ws(text, i + 1)
        while text[i] != "}":
            key, i = json.decoder.scanstring(text, i + 1)
            i = _ws(text, _ws(text, i) + 1)  # past the colon
            if key in lists and text[i] == "[":
                j, n = _ws(text, i + 1), 0
                while text[j] != "]":
                    _, end = scan(text, j)
                    out.append((key, n, j, end))
                    n += 1
                    j = _ws(text, end)
                    j = _ws(text, j + 1) if text[j] == "," else j
                end = j + 1
            else:
                _, end = scan(text, i)
                out.append((key, None, i, end))
            i = _ws(text, end)
            i = _ws(text, i + 1) if text[i] == "," else i
    except (StopIteration, IndexError, ValueError, RecursionError):
        return []
    return out


def _hits(request_id: str, regex: re.Pattern[str], part: str, index: int | None,
          text: str, out: list[TextHit], limit: int) -> None:
    for m in regex.finditer(text):
        if len(out) >= limit:
            return
        if m.end() == m.start():
            continue  # an empty match shows nothing
        before = text[max(m.start() - SNIPPET, 0):m.start()]
        after = text[m.end():m.end() + SNIPPET]
        snippet = " ".join((before + m.group() + after).split())
        out.append(TextHit(request_id, part, index, m.start(), m.end(), m.group(), snippet))


def find_hits(store: Any, request_id: str, pattern: str, limit: int = 1000) -> list[TextHit]:
    """Where `pattern` (see `search_terms.compile_text`) matches in one capture, in
    order: path, request body parts, response, error. At most `limit` hits.
    ValueError for a pattern that is not a valid regex; [] for an unknown id."""
    regex, _ = query_for(pattern)
    row = store.execute(
        "SELECT r.path, r.body, r.body_text, s.body, s.body_text, s.error FROM requests r"
        " LEFT JOIN responses s ON s.request_id = r.id WHERE r.id = ?",
        (request_id,)).fetchone()
    if row is None:
        return []
    path, body, body_text, s_body, s_text, error = row
    out: list[TextHit] = []
    _hits(request_id, regex, "path", None, path or "", out, limit)
    sections: list[tuple[str, str, tuple[str, ...], str]] = []
    if body is not None:
        sections.append(("", store.body_text(body), ("system", "tools", "messages"), "body"))
    elif body_text is not None:
        _hits(request_id, regex, "body", None, unpack(body_text) or "", out, limit)
    reply = unpack(s_body)
    if reply is not None:
        sections.append(("response.", reply, ("content",), "response"))
    for prefix, text, lists, whole in sections:
        if not text:
            continue
        values = _top_values(text, lists)
        if not values:  # not an object: the text as one part
            _hits(request_id, regex, whole, None, searchable(text), out, limit)
            continue
        for key, index, start, end in values:
            part = "response" if prefix and key == "content" else prefix + key
            _hits(request_id, regex, part, index, searchable(text[start:end]), out, limit)
    if s_text is not None:
        _hits(request_id, regex, "response", None, unpack(s_text) or "", out, limit)
    _hits(request_id, regex, "error", None, error or "", out, limit)
    return out
