"""JSON Lines and JSON array exports: one full exchange per line / element.

Exchanges arrive with their big request bodies as pre-serialized JSON text (`RawJSON`,
from `iter_exchanges(..., parse_bodies=False)`); they are spliced into the output as is,
so exporting does not parse and re-serialize ~80 KB per exchange.
"""

from __future__ import annotations

import json
import secrets
from typing import Any, Iterable, TextIO

from inspector.store.queries import RawJSON

_TOKEN = secrets.token_hex(6)


def dumps_exchange(ex: dict[str, Any]) -> str:
    """One exchange as compact JSON, with any RawJSON body spliced in unparsed."""
    raws: list[tuple[str, str]] = []
    parts = {}
    for part in ("request", "response"):
        sub = ex.get(part)
        if isinstance(sub, dict) and isinstance(sub.get("body"), RawJSON):
            marker = f"\x00{_TOKEN}-{part}\x00"
            raws.append((json.dumps(marker), str(sub["body"])))
            parts[part] = dict(sub, body=marker)
    text = json.dumps(dict(ex, **parts) if parts else ex, ensure_ascii=False,
                      separators=(",", ":"), default=str)
    for quoted, raw in raws:
        text = text.replace(quoted, raw, 1)
    return text


def write_jsonl(exchanges: Iterable[dict[str, Any]], out: TextIO) -> int:
    n = 0
    for ex in exchanges:
        out.write(dumps_exchange(ex))
        out.write("\n")
        n += 1
    return n


def write_json(exchanges: Iterable[dict[str, Any]], out: TextIO) -> int:
    """A JSON array, written element by element."""
    n = 0
    out.write("[")
    for ex in exchanges:
        out.write(",\n" if n else "\n")
        out.write(dumps_exchange(ex))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n
