"""Reading captures: one `Filter` shared by the CLI, the app and stats.

Listing reads only the narrow columns of `requests` and `responses` through the `ts`
index, newest first, so a page comes back in milliseconds on 100k captures. Full
exchanges (bodies, headers, attribution) are read by `exchanges.py`, sessions by
`sessions.py`; both take the same `Filter`.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from typing import Any, Iterator

from inspector.store import search
from inspector.store.db import AmbiguousId, Store
from inspector.store.rows import RequestRow
from inspector.timeparse import iso_utc

#: Keys of a listed capture, in order (stable for `--json` and CSV).
LIST_FIELDS = (
    "id", "ts", "method", "host", "path", "model", "stream", "status", "session_id",
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens",
    "ttfb_ms", "total_ms", "cost_usd", "top_source", "error", "stream_complete",
)

_LIST_SELECT = (
    "SELECT r.id, r.ts, r.method, r.host, r.path, r.model, r.stream, s.status, r.session_id,"
    " s.input_tokens, s.output_tokens, s.cache_read_tokens, s.cache_creation_tokens,"
    " s.ttfb_ms, s.total_ms, r.cost_usd, r.top_source, s.error, s.stream_complete"
    " FROM requests r LEFT JOIN responses s ON s.request_id = r.id"
)
#: the same with the row's place in the change feed last
_TYPED_SELECT = _LIST_SELECT.replace(", s.stream_complete FROM", ", s.stream_complete, r.rowid FROM")
assert _TYPED_SELECT != _LIST_SELECT


class NotFound(LookupError):
    """No capture has this id (or prefix)."""


@dataclass
class Filter:
    """Which captures to read. Times are epoch seconds; None means no bound."""

    since: float | None = None
    until: float | None = None
    model: str | None = None
    session: str | None = None
    status: int | None = None
    #: attribution source: a full name ("mcp:github"), a category ("mcp"), a name after
    #: the category ("github"), or a prefix ending in ":" ("mcp:")
    source: str | None = None
    #: a regex (plain text: any case) searched in every stored byte of the request,
    #: shared parts included, and of its response (see `search.py`); not part of
    #: `where()`, which needs no store: the functions here add it
    text: str | None = None
    limit: int = 20
    offset: int = 0
    #: keyset paging for `list_requests` (newest first): only captures listed after
    #: (older than) this id, or before (newer than) this id. Unlike a deep `offset`, a page
    #: costs the same anywhere in the list. Ignored by counts, totals and exports.
    before_id: str | None = None
    after_id: str | None = None
    #: only captures with these ids (what a text search found)
    among: list[str] | None = None
    #: only captures of no session
    sessionless: bool = False

    def where(self) -> tuple[str, list[Any]]:
        """SQL condition over `requests r` / `responses s`, and its parameters (all but
        `text`: see `_where`)."""
        cond: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            cond.append("r.ts >= ?")
            params.append(iso_utc(self.since))
        if self.until is not None:
            cond.append("r.ts < ?")
            params.append(iso_utc(self.until))
        if self.model:
            if "%" in self.model or "*" in self.model:
                cond.append("r.model LIKE ?")
                params.append(self.model.replace("*", "%"))
            else:
                cond.append("r.model = ?")
                params.append(self.model)
        if self.session:
            # a prefix as a range, so the (session_id, ts) index serves it
            cond.append("r.session_id >= ? AND r.session_id < ?")
            params += [self.session, self.session + "\U0010ffff"]
        if self.status is not None:
            # "+" keeps the planner on the time index: one status is rarely selective
            cond.append("+s.status = ?")
            params.append(self.status)
        if self.source:
            sub = "EXISTS (SELECT 1 FROM request_sources x WHERE x.request_id = r.id AND "
            if self.source.endswith(":"):
                cond.append(sub + "x.source >= ? AND x.source < ?)")
                params += [self.source, self.source + "\U0010ffff"]
            elif ":" in self.source:
                cond.append(sub + "x.source = ?)")
                params.append(self.source)
            else:
                # a category ("mcp": every server), a name ("github": mcp:github,
                # "Bash": tool:Bash and tool_result:Bash) or a whole name ("memory")
                cond.append(sub + "(lower(x.source) = ? OR lower(x.source) LIKE ? ESCAPE '\\'"
                            " OR lower(substr(x.source, instr(x.source, ':') + 1)) = ?))")
                word = self.source.lower()
                like = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                params += [word, like + ":%", word]
        if self.sessionless:
            cond.append("r.session_id IS NULL")
        if self.among is not None:
            cond.append("r.id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(self.among))
        return (" WHERE " + " AND ".join(cond)) if cond else "", params


def _where(store: Store, f: Filter) -> tuple[str, list[Any]]:
    """`f.where()` with its text search resolved to the ids that match."""
    if not f.text:
        return f.where()
    return replace(f, text=None, among=search.all_matching_ids(store, f)).where()


def _list_row(row: tuple) -> dict[str, Any]:
    return _typed_row(row).as_dict()


def _typed_row(row: tuple) -> RequestRow:
    """A `_LIST_SELECT` row (the rowid last, when selected) as a RequestRow."""
    values = list(row[:len(LIST_FIELDS)])
    values[6] = bool(values[6])  # stream
    if values[18] is not None:
        values[18] = bool(values[18])  # stream_complete
    seq = row[len(LIST_FIELDS)] if len(row) > len(LIST_FIELDS) else 0
    return RequestRow(*values, seq=seq)


def list_requests(store: Store, f: Filter) -> list[dict[str, Any]]:
    """A page of captures, newest first, as dicts with the `LIST_FIELDS` keys (for
    `--json`); `request_rows` gives the same as typed rows."""
    return [r.as_dict() for r in request_rows(store, f)]


def request_rows(store: Store, f: Filter) -> list[RequestRow]:
    """A page of completed captures, newest first.

    Paging: `offset` skips rows (each skipped row is still read, so deep pages get slow);
    `before_id` starts right after the capture with that id (the next page down: pass
    the last id of the page shown) and `after_id` gives the `limit` captures just above
    it (the page up: pass the first id shown), both still newest first and both at the
    cost of a first page. NotFound if the anchor id is not (or no longer) stored.
    """
    if f.text:
        return _list_text(store, f)
    where, params = f.where()
    order = "DESC"
    for anchor_id, op in ((f.before_id, "<"), (f.after_id, ">")):
        if anchor_id is None:
            continue
        anchor = store.execute("SELECT ts, id FROM requests WHERE id = ?",
                               (anchor_id,)).fetchone()
        if anchor is None:
            raise NotFound(f"no capture with id {anchor_id!r}")
        where = (where + " AND" if where else " WHERE") + f" (r.ts, r.id) {op} (?, ?)"
        params = [*params, *anchor]
    if f.after_id is not None and f.before_id is None:
        order = "ASC"  # the rows closest above the anchor, turned newest first below
    sql = (f"{_TYPED_SELECT}{where} ORDER BY r.ts {order}, r.id {order} LIMIT ? OFFSET ?")
    limit = f.limit if f.limit and f.limit > 0 else -1  # 0 or None: no limit
    cur = store.execute(sql, [*params, limit, max(f.offset, 0)])
    rows = [_typed_row(r) for r in cur]
    if order == "ASC":
        rows.reverse()
    return rows


#: rows read at a time when a text search scans the list (see `_list_text`)
SCAN_PAGE = 500


def _list_text(store: Store, f: Filter) -> list[RequestRow]:
    """`list_requests` with a text search. Few candidates in the index: their ids join
    the query. Otherwise the rows matching the rest of the filter are read a page at a
    time in list order (down from `before_id`, or up from `after_id`) and checked, until
    the page asked for is full: a common word fills it from the newest rows at once."""
    matcher = search.TextSearch(store, f.text or "")
    want = f.limit if f.limit and f.limit > 0 else None
    found = None
    if not (f.before_id and f.after_id):
        # Verifying C candidates costs about C; a scan to fill a page about
        # limit * N / C rows, each about twice a candidate (a request and its reply,
        # measured in bench_search.py): take the index while C < 2 * sqrt(limit * N)
        budget = search.MAX_CANDIDATES
        if want is not None:
            n = store.execute("SELECT count(*) FROM requests").fetchone()[0]
            budget = min(budget, max(200, int(2 * ((want + max(f.offset, 0)) * n) ** 0.5)))
        found = matcher.indexed_ids(budget, f.where())
    if found is None and f.before_id and f.after_id:
        found = set(search.all_matching_ids(store, f))
    if found is not None:
        return request_rows(store, replace(f, text=None, among=sorted(found)))
    skip = max(f.offset, 0)
    up = f.after_id is not None
    anchor = f.after_id if up else f.before_id
    out: list[RequestRow] = []
    while want is None or len(out) < want:
        page = request_rows(store, replace(
            f, text=None, limit=SCAN_PAGE, offset=0,
            before_id=None if up else anchor, after_id=anchor if up else None))
        if not page:
            break
        ordered = list(reversed(page)) if up else page  # nearest the anchor first
        hits = set(matcher.matching([r.id for r in ordered]))
        for row in ordered:
            if row.id not in hits:
                continue
            if skip:
                skip -= 1
                continue
            out.append(row)
            if want is not None and len(out) >= want:
                break
        if len(page) < SCAN_PAGE:
            break
        anchor = ordered[-1].id
    if up:
        out.reverse()  # newest first, as every list
    return out


# -- the change feed: what readers that stay open (the app) fetch as the store grows ---


def last_seq(store: Store) -> int:
    """Where the change feed stands: every completed capture has a `seq` (its rowid) at
    most this. A capture written later, or rewritten, gets a higher one."""
    return store.execute("SELECT coalesce(max(rowid), 0) FROM requests").fetchone()[0]


def rows_after(store: Store, f: Filter, seq: int, limit: int = 1000) -> list[RequestRow]:
    """Completed captures matching `f` written after `seq`, oldest first: a seek on the
    rowid, so it costs the same on 10 stored captures as on 100k."""
    where, params = f.where()  # all but the text search, checked on the new rows alone
    where = (where + " AND" if where else " WHERE") + " r.rowid > ?"
    sql = f"{_TYPED_SELECT}{where} ORDER BY r.rowid LIMIT ?"
    rows = [_typed_row(r) for r in store.execute(sql, [*params, seq, limit])]
    if f.text and rows:
        keep = set(search.TextSearch(store, f.text).matching([r.id for r in rows]))
        rows = [r for r in rows if r.id in keep]
    return rows


def count_after(store: Store, seq: int, upto: int | None = None) -> int:
    """How many captures were written after `seq` (up to `upto`), whatever the filter."""
    if upto is None:
        return store.execute("SELECT count(*) FROM requests WHERE rowid > ?",
                             (seq,)).fetchone()[0]
    return store.execute("SELECT count(*) FROM requests WHERE rowid > ? AND rowid <= ?",
                         (seq, upto)).fetchone()[0]


def pending_rows(store: Store, f: Filter | None = None) -> list[RequestRow]:
    """Requests in flight, newest first. Only their head is known, so a filter on
    anything but time (model, session, source, status, text) matches none of them."""
    f = f or Filter()
    if f.model or f.session or f.status is not None or f.source or f.text:
        return []
    # the time bounds as every list has them, over this table named `r` too
    where, params = Filter(since=f.since, until=f.until).where()
    try:
        cur = store.execute("SELECT r.id, r.ts, r.method, r.host, r.path FROM pending_requests r"
                            f"{where} ORDER BY r.ts DESC, r.id DESC", params)
    except sqlite3.OperationalError:  # a database older than the table (read-only)
        return []
    return [RequestRow(id=i, ts=ts, method=m, host=h, path=p, pending=True)
            for i, ts, m, h, p in cur]


def count_requests(store: Store, f: Filter) -> int:
    where, params = _where(store, f)
    join = " LEFT JOIN responses s ON s.request_id = r.id" if "s." in where else ""
    sql = (f"SELECT count(*) FROM requests r{join}{where}")
    return store.execute(sql, params).fetchone()[0]


def totals(store: Store, f: Filter) -> dict[str, Any]:
    """Sums over the matching captures (limit/offset ignored): requests, tokens, cost.
    `cost_usd` is None when no matching capture has a known cost."""
    where, params = _where(store, f)
    row = store.execute(
        "SELECT count(*), coalesce(sum(s.input_tokens), 0), coalesce(sum(s.output_tokens), 0),"
        " coalesce(sum(s.cache_read_tokens), 0), coalesce(sum(s.cache_creation_tokens), 0),"
        " sum(r.cost_usd)"
        f" FROM requests r LEFT JOIN responses s ON s.request_id = r.id{(where)}",
        params).fetchone()
    n, inp, out, cread, ccreate, cost = row
    return {"requests": n, "input_tokens": inp, "output_tokens": out,
            "cache_read_tokens": cread, "cache_creation_tokens": ccreate,
            "prompt_tokens": inp + cread + ccreate, "cost_usd": cost}


def _pages(store: Store, f: Filter, select: str, batch: int) -> Iterator[list[tuple]]:
    """Rows of `select` (columns r.id, r.ts first; it ends with its FROM part) matching
    `f`, oldest first, `batch` at a time by keyset paging on (ts, id): memory stays flat
    and the thousandth page costs what the first does. limit/offset are ignored."""
    where, params = _where(store, f)
    last: tuple[str, str] | None = None
    while True:
        cond = where
        page_params = list(params)
        if last is not None:
            cond = (cond + " AND" if cond else " WHERE") + " (r.ts, r.id) > (?, ?)"
            page_params += list(last)
        page = store.execute(f"{select}{cond} ORDER BY r.ts, r.id LIMIT ?",
                             [*page_params, batch]).fetchall()
        if page:
            yield page
        if len(page) < batch:
            return
        last = (page[-1][1], page[-1][0])


def iter_list_rows(store: Store, f: Filter, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Every matching capture's list fields, oldest first (see `_pages`)."""
    for page in _pages(store, f, _LIST_SELECT, batch):
        yield from (_list_row(r) for r in page)


__all__ = [
    "AmbiguousId", "Filter", "LIST_FIELDS", "NotFound", "count_requests", "iter_list_rows",
    "list_requests", "totals", "RequestRow", "request_rows", "rows_after", "last_seq",
    "count_after", "pending_rows",
]
