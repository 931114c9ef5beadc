"""CSV export of the list fields (one row per exchange, no bodies)."""

from __future__ import annotations

import csv
from typing import Any, Iterable, TextIO

from inspector.store.queries import LIST_FIELDS


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """`rows` carry the `LIST_FIELDS` keys (list rows or full exchanges' summaries)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LIST_FIELDS)
    n = 0
    for row in rows:
        writer.writerow(["" if row.get(k) is None else row.get(k) for k in LIST_FIELDS])
        n += 1
    return n
