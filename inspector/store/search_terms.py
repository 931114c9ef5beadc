"""From a search pattern to the compiled regex and the FTS5 query that narrows its
candidates.

The index (`search_index.py`) holds trigrams without positions, so the query is the
trigrams of the literal runs every match must contain, ANDed (an alternation ORs its
branches). It finds a superset of the matching documents; the regex decides. A pattern
with no literal run of 3 characters or more that every match needs (`\\d+`, `a.b`) has no
query: search then reads every candidate's text.
"""

from __future__ import annotations

import re
from typing import Union

try:  # Python 3.11+
    from re import _constants as _c, _parser as _p  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

#: a pattern without any of these is plain text (a bare word, or a few): it is found
#: case-insensitively, anywhere
_SPECIAL = re.compile(r"[.^$*+?{}\[\]\\|()]")
#: at most this many trigrams of one literal run go into the query (spread over it)
MAX_TRIGRAMS = 12

#: what a match must contain: a literal, all of a list ("and"), or one of ("or")
Need = Union[str, tuple[str, list["Need"]], None]


def compile_text(pattern: str) -> re.Pattern[str]:
    """The regex for a `--text` pattern: plain text (no regex syntax: a bare word, or
    words) matches case-insensitively as a substring; anything else is a Python regex as
    written (add `(?i)` to ignore case). ValueError with a one-line reason if it does not
    compile."""
    if not _SPECIAL.search(pattern):
        return re.compile(re.escape(pattern), re.IGNORECASE)
    try:
        return re.compile(pattern)
    except re.error as e:
        raise ValueError(f"not a valid regex: {pattern!r} ({e})") from None


def required(regex: re.Pattern[str]) -> Need:
    """What every match of `regex` contains, as far as plain parsing tells."""
    try:
        parsed = _p.parse(regex.pattern, regex.flags & ~re.UNICODE)
    except Exception:  # pragma: no cover - it compiled, so it parses
        return None
    return _sequence(list(parsed))


def _sequence(items: list) -> Need:
    needs: list[Need] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            needs.append("".join(run))
            run.clear()

    for op, arg in items:
        if op is _c.LITERAL:
            run.append(chr(arg))
        elif op is _c.AT:
            continue  # an anchor is zero-width: the run goes on
        elif op is _c.SUBPATTERN:
            flush()
            needs.append(_sequence(list(arg[-1])))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and arg[0] >= 1:
            flush()
            needs.append(_sequence(list(arg[2])))
        elif op is _c.BRANCH:
            flush()
            needs.append(("or", [_sequence(list(b)) for b in arg[1]]))
        else:
            flush()
    flush()
    return ("and", needs)


def _trigrams(literal: str) -> list[str]:
    grams = list(dict.fromkeys(literal[i:i + 3] for i in range(len(literal) - 2)))
    if len(grams) > MAX_TRIGRAMS:  # spread, keeping the first and the last
        step = (len(grams) - 1) / (MAX_TRIGRAMS - 1)
        grams = [grams[round(i * step)] for i in range(MAX_TRIGRAMS)]
    return grams


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts_query(need: Need) -> str | None:
    """The FTS5 MATCH expression for `need`; None when it cannot narrow anything."""
    if need is None:
        return None
    if isinstance(need, str):
        grams = _trigrams(need)
        if not grams:
            return None
        return _quote(grams[0]) if len(grams) == 1 else \
            "(" + " AND ".join(map(_quote, grams)) + ")"
    kind, parts = need
    queries = [fts_query(p) for p in parts]
    if kind == "or":
        if not queries or any(q is None for q in queries):
            return None  # a branch that needs nothing lets anything through
        return "(" + " OR ".join(queries) + ")"  # type: ignore[arg-type]
    found = [q for q in queries if q is not None]
    if not found:
        return None
    return found[0] if len(found) == 1 else "(" + " AND ".join(found) + ")"


def piece_query(need: Need, span: int) -> str | None:
    """A looser FTS5 query that one piece of a document matches whenever the whole
    document matches `fts_query(need)`, for documents indexed in pieces overlapping by
    `span` characters: a literal of up to `span` characters is whole in some piece
    (a longer one: its first `span`), but two literals may be in different pieces, so
    of "all of" it keeps the one child that narrows most (the longest query)."""
    if need is None:
        return None
    if isinstance(need, str):
        return fts_query(need[:span])
    kind, parts = need
    queries = [piece_query(p, span) for p in parts]
    if kind == "or":
        if not queries or any(q is None for q in queries):
            return None
        return "(" + " OR ".join(queries) + ")"  # type: ignore[arg-type]
    found = [q for q in queries if q is not None]
    return max(found, key=len) if found else None


def query_for(pattern: str) -> tuple[re.Pattern[str], str | None]:
    """The compiled regex and its FTS5 query (or None)."""
    regex = compile_text(pattern)
    return regex, fts_query(required(regex))
