"""Exports of stored captures: JSONL (default), JSON, CSV and HAR 1.2, all streamed."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, TextIO

from inspector.export.csvfile import write_csv
from inspector.export.har import har_entry, write_har
from inspector.export.jsonl import dumps_exchange, exchange_pieces, write_json, write_jsonl

FORMATS = ("jsonl", "json", "csv", "har")

#: format -> writer(items, out) -> count; csv takes list rows, the others full exchanges
WRITERS: dict[str, Callable[[Iterable[dict[str, Any]], TextIO], int]] = {
    "jsonl": write_jsonl, "json": write_json, "csv": write_csv, "har": write_har,
}


def counted(items: Iterable[Any], tick: Callable[[int], None], every: int = 200) -> Iterator[Any]:
    """Pass items through, calling `tick(n)` every `every` items (for a progress bar)."""
    n = 0
    for item in items:
        yield item
        n += 1
        if n % every == 0:
            tick(every)
    if n % every:
        tick(n % every)


__all__ = ["FORMATS", "WRITERS", "counted", "dumps_exchange", "har_entry", "write_csv",
           "write_har", "write_json", "write_jsonl"]
