"""Ratings of captures: a user says an answer was good or bad, with an optional note.

Stored in the store's `feedback` table as an integer so SQL can count them: good is 1,
bad is -1. A request may be rated several times; the latest rating counts.
"""

from __future__ import annotations

from typing import Any

GOOD = 1
BAD = -1
RATINGS = {"good": GOOD, "bad": BAD}


def rating_value(word: str) -> int:
    """'good' -> 1, 'bad' -> -1 (case-insensitive); ValueError otherwise."""
    try:
        return RATINGS[word.strip().lower()]
    except KeyError:
        raise ValueError(f"rating must be good or bad, not {word!r}") from None


def rating_word(value: Any) -> str | None:
    """1 -> 'good', -1 -> 'bad', anything else -> None."""
    for word, v in RATINGS.items():
        if value == v:
            return word
    return None


def rate(store: Any, request_id: str, word: str, note: str | None = None) -> dict[str, Any]:
    """Record a rating of an existing capture (full id); returns what was stored."""
    value = rating_value(word)
    row_id = store.add_feedback(request_id, value, note)
    return {"id": row_id, "request_id": request_id, "rating": word.strip().lower(),
            "note": note}
