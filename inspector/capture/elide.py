"""Parsing a huge JSON body without a second copy of its huge strings.

A 32 MB request is mostly one base64 document; a 50 MB reply, one long text. The body's
text is kept (it is what is stored); its parse is needed only for its structure: the
model, the usage, the attribution tree. `parse_elided` parses the text with each string
of at least `min_chars` characters left out, and puts in its place an `Elided` stand-in:
a short `str` (the string's first characters) whose `len()` is the full length. The
attribution of an image or document reads only the head of its data and its length, so
it comes out the same; `restore_sizes` then gives the tree's nodes their full character
counts. Long strings that are not base64 media data are decoded in full when `keep_text`
asks for it (the attribution of a text needs its content).
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from inspector.model import Node

#: bodies at least this long (in characters) are parsed this way
ELIDE_BODIES_ABOVE = 4 << 20
#: strings at least this long are elided
ELIDE_STRINGS_ABOVE = 1 << 20
_HEAD = 256

# A JSON string token. Outside strings, JSON text holds no quote, so matching tokens one
# after another from the start finds exactly the strings. The quantifiers are possessive:
# a backtracking repeat would keep a state per escape (200 MB for a 12 MB text).
_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"')


class Elided(str):
    """Stands for a long string of a parsed body: its first characters as the text, its
    full length as `len()`."""

    length: int
    head_chars: int
    pointer: str

    def __new__(cls, head: str, length: int, pointer: str) -> Elided:
        self = super().__new__(cls, head)
        self.length, self.head_chars, self.pointer = length, len(head), pointer
        return self

    def __len__(self) -> int:
        return self.length


def _head(text: str, start: int, end: int) -> str:
    """The first characters of the string token text[start:end], decoded."""
    chunk = text[start + 1:min(end - 1, start + 1 + _HEAD)]
    cut = chunk.rfind("\\", max(len(chunk) - 6, 0))
    if cut >= 0:
        chunk = chunk[:cut]  # do not end inside an escape
    try:
        return json.loads('"' + chunk + '"')
    except ValueError:
        return ""


def _decoded_length(text: str, start: int, end: int) -> int:
    """The length of the string token text[start:end] once decoded, counted without
    decoding it: an escape is one character (a doubled backslash is one, `u` and four
    hex digits after a backslash too). A surrogate pair counts as two: the length of a
    reply's text is only shown."""
    backslashes = text.count("\\", start, end)
    pairs = text.count("\\\\", start, end)
    units = text.count("\\u", start, end) - text.count("\\\\u", start, end)
    return end - start - 2 - (backslashes - pairs) - 4 * units


def parse_elided(text: str, min_chars: int = ELIDE_STRINGS_ABOVE,
                 keep_text: bool = True) -> Any:
    """`json.loads(text)`, with strings of `min_chars` or more as `Elided` stand-ins;
    with `keep_text`, only those that are base64 media data (`source.data` beside
    `"type": "base64"`): the others are decoded in full. Raises ValueError as
    json.loads does."""
    pieces: list[str] = []
    spans: list[tuple[int, int]] = []
    last = 0
    for m in _STRING.finditer(text):
        if m.end() - m.start() < min_chars:
            continue
        pieces.append(text[last:m.start()])
        pieces.append(f'"\\u0000{len(spans)}\\u0000"')
        spans.append(m.span())
        last = m.end()
    if not spans:
        return json.loads(text)
    pieces.append(text[last:])
    skeleton = json.loads("".join(pieces))
    del pieces
    # a placeholder can also be a member's name (a very long key): keep those whole
    if _has_elided_keys(skeleton, len(spans)):
        return json.loads(text)
    return _StandIns(text, spans, keep_text).walk(skeleton, "")


def _placeholder(value: Any, count: int) -> int | None:
    """The index of the long string a placeholder of the skeleton stands for."""
    if type(value) is str and len(value) > 2 and value[0] == "\0" == value[-1]:
        inner = value[1:-1]
        if inner.isdigit() and int(inner) < count:
            return int(inner)
    return None


class _StandIns:
    """Puts the long strings (or their stand-ins) back into a parsed skeleton. A class,
    not nested functions: a recursive closure is a reference cycle, and it would keep
    the body's text alive until the garbage collector next runs."""

    def __init__(self, text: str, spans: list[tuple[int, int]], keep_text: bool) -> None:
        self.text, self.spans, self.keep_text = text, spans, keep_text

    def stand_in(self, index: int, pointer: str, media: bool) -> str:
        text, (start, end) = self.text, self.spans[index]
        if text.find("\\", start, end) < 0 and (media or not self.keep_text):
            return Elided(_head(text, start, end), end - start - 2, pointer)
        if not self.keep_text:
            return Elided(_head(text, start, end), _decoded_length(text, start, end), pointer)
        return json.loads(text[start:end])

    def walk(self, node: Any, pointer: str) -> Any:
        count = len(self.spans)
        if isinstance(node, dict):
            media = node.get("type") == "base64"
            for key, value in node.items():
                where = f"{pointer}/{key}"
                index = _placeholder(value, count)
                if index is not None:
                    node[key] = self.stand_in(index, where, media and key == "data")
                elif isinstance(value, (dict, list)):
                    self.walk(value, where)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                index = _placeholder(value, count)
                if index is not None:
                    node[i] = self.stand_in(index, f"{pointer}/{i}", False)
                elif isinstance(value, (dict, list)):
                    self.walk(value, f"{pointer}/{i}")
        return node


def _has_elided_keys(node: Any, count: int) -> bool:
    if isinstance(node, dict):
        return any(_placeholder(k, count) is not None or _has_elided_keys(v, count)
                   for k, v in node.items())
    if isinstance(node, list):
        return any(_has_elided_keys(v, count) for v in node)
    return False


def elided_strings(node: Any) -> Iterator[Elided]:
    """The `Elided` stand-ins in a parsed body."""
    if isinstance(node, Elided):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from elided_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from elided_strings(value)


def restore_sizes(root: Node, body: Any) -> None:
    """Give the attribution tree of `body` the character counts it would have had with
    the elided strings in full: the node of each media block that holds one grows by
    the characters left out, and so do the nodes above it."""
    missing: dict[str, int] = {}
    for e in elided_strings(body):
        block = e.pointer.rsplit("/source/data", 1)[0] if e.pointer.endswith("/source/data") \
            else e.pointer
        missing[block] = missing.get(block, 0) + e.length - e.head_chars
    if not missing:
        return

    def grow(node: Node) -> int:
        if not node.children:
            added = missing.pop(node.path, 0) if node.path in missing else 0
            node.chars = (node.chars or 0) + added
            return added
        added = sum(grow(child) for child in node.children)
        node.chars = (node.chars or 0) + added
        return added

    grow(root)
