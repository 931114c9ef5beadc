"""JSON Lines and JSON array exports: one full exchange per line / element.

Exchanges arrive with their JSON columns (bodies, headers) as pre-serialized text
(`RawJSON`, from `iter_exchanges(..., parse_bodies=False)`). They are written into the
output as they are, between the pieces of the small remainder that `json.dumps` renders,
so exporting never parses and re-serializes the ~80 KB of a Claude Code request.
"""

from __future__ import annotations

import json
import secrets
from typing import Any, Iterable, TextIO

from inspector.store.exchanges import RawJSON

_TOKEN = secrets.token_hex(6)
# a placeholder string as json.dumps renders it: "\u0000<token>-<n>\u0000"
_OPEN = '"\\u0000' + _TOKEN + "-"
_CLOSE = '\\u0000"'
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def placeholder(n: int) -> str:
    """A string to put where the `n`th raw JSON piece goes (see `splice`)."""
    return f"\x00{_TOKEN}-{n}\x00"


def splice(text: str, raws: list[str]) -> list[str]:
    """Pieces of `text` (JSON with placeholders) with each placeholder, quotes included,
    replaced by its raw JSON, to be written in order."""
    chunks = text.split(_OPEN)
    pieces = [chunks[0]]
    for chunk in chunks[1:]:
        index, _, rest = chunk.partition(_CLOSE)
        pieces.append(raws[int(index)])
        pieces.append(rest)
    return pieces


def encode(obj: Any) -> str:
    return _encode(obj)


def exchange_pieces(ex: dict[str, Any]) -> list[str]:
    """The compact JSON of one exchange as a list of strings to write in order."""
    raws: list[str] = []
    swapped = {}
    for part in ("request", "response"):
        sub = ex.get(part)
        if not isinstance(sub, dict):
            continue
        changed = None
        for key, value in sub.items():
            if isinstance(value, RawJSON):
                if changed is None:
                    changed = dict(sub)
                changed[key] = placeholder(len(raws))
                raws.append(value)
        if changed is not None:
            swapped[part] = changed
    text = _encode(dict(ex, **swapped) if swapped else ex)
    return splice(text, raws) if raws else [text]


def dumps_exchange(ex: dict[str, Any]) -> str:
    return "".join(exchange_pieces(ex))


def write_jsonl(exchanges: Iterable[dict[str, Any]], out: TextIO) -> int:
    n = 0
    for ex in exchanges:
        pieces = exchange_pieces(ex)
        pieces.append("\n")
        out.writelines(pieces)
        n += 1
    return n


def write_json(exchanges: Iterable[dict[str, Any]], out: TextIO) -> int:
    """A JSON array, written element by element."""
    n = 0
    out.write("[")
    for ex in exchanges:
        out.write(",\n" if n else "\n")
        out.writelines(exchange_pieces(ex))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n
