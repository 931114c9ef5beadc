"""Parsing JSON that may be nested deeper than Python's recursion allows.

`json.loads` raises RecursionError on a document nested a few thousand levels deep
(valid JSON, and trivial for a client to send). Such a body is still stored exactly as
sent; what is parsed for analysis keeps the first `MAX_DEPTH` levels and replaces each
deeper value by a short string, so every ordinary part of the request is still read.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: how many levels of arrays and objects are parsed; deeper values become `TOO_DEEP`
MAX_DEPTH = 100
TOO_DEEP = "[nested too deep to show]"

# a JSON string (with its escapes) or one bracket: what a depth count must look at
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads`, except that values nested deeper than `max_depth` are replaced by
    `TOO_DEEP` instead of raising RecursionError. ValueError for text that is not JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        pass
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(cut_deep(text, max_depth))


def cut_deep(text: str, max_depth: int = MAX_DEPTH) -> str:
    """`text` with every array or object that opens below `max_depth` levels replaced by
    the JSON string `TOO_DEEP`. Strings are skipped whole, so brackets inside them do
    not count."""
    out: list[str] = []
    pos = 0
    depth = 0
    skip_from: int | None = None  # start of the value being cut, while inside it
    skip_depth = 0
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token[0] == '"':
            continue
        if token in "[{":
            depth += 1
            if skip_from is None and depth > max_depth:
                skip_from, skip_depth = m.start(), depth
        else:
            if skip_from is not None and depth == skip_depth:
                out.append(text[pos:skip_from])
                out.append(json.dumps(TOO_DEEP))
                pos = m.end()
                skip_from = None
            depth -= 1
    out.append(text[pos:])
    return "".join(out)
