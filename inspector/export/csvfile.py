"""CSV export of the list fields (one row per exchange, no bodies)."""

from __future__ import annotations

import csv
from typing import Any, Iterable, TextIO

from inspector.store.queries import LIST_FIELDS

# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and
# carriage return, strips them and then may): a model name or an error message is text
# that came over the network, so it must never run as one.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would take for a formula, prefixed with a quote
    (the usual defence: the cell then shows as text); numbers and other text unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """`rows` carry the `LIST_FIELDS` keys (list rows or full exchanges' summaries)."""
    # CRLF rows, as RFC 4180 has them: the writer then also quotes a field holding a
    # lone CR, which with LF rows it would leave bare (and a reader would split the row)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LIST_FIELDS)
    n = 0
    for row in rows:
        writer.writerow(["" if row.get(k) is None else neutralise(row.get(k))
                         for k in LIST_FIELDS])
        n += 1
    return n
