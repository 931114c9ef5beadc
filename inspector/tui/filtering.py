"""The filter box's little language: free text plus `model:`, `status:`, `source:`,
`session:`, `since:` and `text:REGEX` terms, turned into the keyword arguments of the
store's Filter.

While the user is still typing (`typing=True`), what cannot be meant yet is left out
instead of starting a slow query: a term with no value (`model:`), a last word that may
still become a term (`mo`, `sess`), and free words under `MIN_WORD` characters (a search
for `a` reads every body). Enter applies the text as it stands.

Pure so it can be tested alone; the app passes the result to the backend.
"""

from __future__ import annotations

import re

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
    "text": "text",
}

#: free words shorter than this do not search while the user types
MIN_WORD = 3


class FilterSyntaxError(ValueError):
    """The filter text cannot be understood; the message says why."""


def parse_filter(text: str, *, typing: bool = False) -> dict[str, Any]:
    """"model:opus status:200 github" -> {"model": "opus", "status": 200, "text": "github"}.

    Unknown `word:value` pairs stay in the free text (a colon is common in prompts). A
    `text:REGEX` term is the text search itself; backslashes in it are kept as typed.
    With `typing`, unfinished parts are left out (see the module's doc).
    """
    words = split_words(text)
    out: dict[str, Any] = {}
    free: list[str] = []
    for i, word in enumerate(words):
        key, sep, value = word.partition(":")
        field = TERMS.get(key.lower()) if sep else None
        last = i == len(words) - 1 and not text[-1:].isspace()
        if field is not None and not value:
            continue  # `model:` names no model yet
        if field is None:
            if typing and (len(word) < MIN_WORD or (last and _term_prefix(word))):
                continue
            free.append(word)
            continue
        if field == "status":
            try:
                out[field] = int(value)
            except ValueError:
                if typing:
                    continue
                raise FilterSyntaxError(f"status:{value} is not a number") from None
        elif field in ("since", "until"):
            try:
                out[field] = _time(value)
            except FilterSyntaxError:
                if typing:  # `since:1` on the way to `since:1h`
                    continue
                raise
        elif field == "text":
            try:
                re.compile(value)
            except re.error as e:
                if typing:  # `text:foo(` on the way to `text:foo(bar)`
                    continue
                raise FilterSyntaxError(f"text:{value} is not a regular expression: {e}") \
                    from None
            out[field] = value
        else:
            out[field] = value
    if free:
        if "text" in out:
            if typing:
                return out  # the regex stands; the words are on their way somewhere
            raise FilterSyntaxError("search either with text:REGEX or with free words, "
                                    "not both")
        out["text"] = " ".join(free)
    return out


def split_words(text: str) -> list[str]:
    """Words as a shell splits them (quotes group), but backslashes stay: they belong to
    regular expressions here, not to quoting."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.escape = ""
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # an unclosed quote, still being typed
        return text.split()


def _term_prefix(word: str) -> bool:
    """`mo`, `model`: the start of a term being typed."""
    word = word.lower()
    return any(key.startswith(word) for key in TERMS)


def _time(value: str) -> float:
    """A duration ("1h" = an hour ago) or ISO time, as epoch seconds."""
    from inspector.timeparse import parse_time

    try:
        return parse_time(value)
    except ValueError as e:
        raise FilterSyntaxError(str(e)) from None
