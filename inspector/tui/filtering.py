"""The filter box's little language: free text plus `model:`, `status:`, `source:`,
`session:` and `since:` terms, turned into the keyword arguments of the store's Filter.

Pure so it can be tested alone; the app passes the result to the backend.
"""

from __future__ import annotations

import shlex
from typing import Any

#: term prefix -> Filter field
TERMS = {
    "model": "model",
    "status": "status",
    "source": "source",
    "session": "session",
    "since": "since",
    "until": "until",
}


class FilterSyntaxError(ValueError):
    """The filter text cannot be understood; the message says why."""


def parse_filter(text: str) -> dict[str, Any]:
    """"model:opus status:200 github" -> {"model": "opus", "status": 200, "text": "github"}.

    Unknown `word:value` pairs stay in the free text (a colon is common in prompts).
    """
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    out: dict[str, Any] = {}
    free: list[str] = []
    for word in words:
        key, sep, value = word.partition(":")
        field = TERMS.get(key.lower()) if sep else None
        if field is None or not value:
            free.append(word)
            continue
        if field == "status":
            try:
                out[field] = int(value)
            except ValueError:
                raise FilterSyntaxError(f"status:{value} is not a number") from None
        elif field in ("since", "until"):
            out[field] = _time(value)
        else:
            out[field] = value
    if free:
        out["text"] = " ".join(free)
    return out


def _time(value: str) -> float:
    """A duration ("1h" = an hour ago) or ISO time, as epoch seconds."""
    from inspector.timeparse import parse_time

    try:
        return parse_time(value)
    except ValueError as e:
        raise FilterSyntaxError(str(e)) from None
