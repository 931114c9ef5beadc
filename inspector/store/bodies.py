"""Request bodies as stored: parts shared between requests, cut from the original text.

Claude Code sends the same ~80 KB of `system` and `tools` on every turn and repeats the
whole conversation so far, so a request body is stored as its JSON text with the parts
other requests share replaced by a marker `SOH <sha256> SOH` (SOH is U+0001) naming a row
of `blobs`. No control character appears raw in JSON text (they are escaped), so the
marker is unambiguous; it is not NUL because SQLite's text functions (LIKE, length) stop
at a NUL. A body is rebuilt by pure text splicing, without parsing, byte for byte what
the client sent.

Shared parts:

* `system` and `tools`, and any message, of `BLOB_MIN_CHARS` or more ("leaf" parts);
* the conversation before the last message, as a chain: part k holds the marker of part
  k-1, the separator, and message k (or its leaf marker). A turn extends the previous
  turn's chain by its two or three new messages, so a session's history is stored once
  in all, not once per turn, and a body holds one marker for its whole history. The last
  message stays in the body itself: it is the new one, and the one Claude Code marks for
  caching, which changes it on the next turn.

`blob_refs` records which parts a chain part names, so a purge can find which parts no
stored request reaches any more.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Callable

from inspector.store.compact import utf8

#: Parts smaller than this are cheaper inline than as a shared blob.
BLOB_MIN_CHARS = 1024
#: Leaf parts this big (a base64 document) are not copied out of the body: `Split.spans`
#: says where they are, and the store packs them from there a slice at a time.
BIG_PART_CHARS = 1 << 20

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


@dataclass
class Split:
    """A body cut into what `requests.body` stores and the shared parts it names."""

    text: str
    #: sha256 -> text of every part (leaf or chain) but the big ones
    parts: dict[str, str] = field(default_factory=dict)
    #: sha256 -> (start, end) in `source` of each leaf part of `BIG_PART_CHARS` or more
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: the body text the spans are in
    source: str = ""
    #: (chain part, part it names)
    refs: list[tuple[str, str]] = field(default_factory=list)
    #: parts the body text names itself
    direct: list[str] = field(default_factory=list)

    def all_parts(self) -> dict[str, str]:
        """Every part's text, the big ones too (copied out: for tests and small bodies)."""
        out = dict(self.parts)
        for digest, (start, end) in self.spans.items():
            out[digest] = self.source[start:end]
        return out


def _digest(text: str, start: int = 0, end: int | None = None, step: int = 1 << 20) -> str:
    """sha256 of the UTF-8 of text[start:end], encoded a slice at a time (a part may be
    megabytes, and is not copied out of its body for this)."""
    end = len(text) if end is None else end
    if start == 0 and end == len(text) and end <= step:
        return hashlib.sha256(utf8(text)).hexdigest()
    h = hashlib.sha256()
    for i in range(start, end, step):
        h.update(utf8(text[i:min(i + step, end)]))
    return h.hexdigest()


def _marker(digest: str) -> str:
    return f"\x01{digest}\x01"


def _ws(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]


def _value_spans(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]] | None:
    """Spans in the text of `system` and `tools`, and of each element of `messages`, at
    the top level. None if the text is not a JSON object.

    Uses the json module's own scanner, so it costs about one parse and needs no
    re-serialization."""
    scan = _DECODER.scan_once
    others: list[tuple[int, int]] = []
    messages: list[tuple[int, int]] = []
    try:
        i = _ws(text, 0)
        if text[i] != "{":
            return None
        i = _ws(text, i + 1)
        if text[i] == "}":
            return others, messages
        while True:
            if text[i] != '"':
                return None
            key, i = json.decoder.scanstring(text, i + 1)
            i = _ws(text, i)
            if text[i] != ":":
                return None
            i = _ws(text, i + 1)
            if key == "messages" and text[i] == "[":
                messages = []  # a repeated key: the last one counts, as for json.loads
                j = _ws(text, i + 1)
                while text[j] != "]":
                    _, end = scan(text, j)
                    messages.append((j, end))
                    j = _ws(text, end)
                    if text[j] == ",":
                        j = _ws(text, j + 1)
                    elif text[j] != "]":
                        return None
                end = j + 1
            else:
                _, end = scan(text, i)
                if key in ("system", "tools"):
                    others.append((i, end))
            i = _ws(text, end)
            if text[i] == ",":
                i = _ws(text, i + 1)
            elif text[i] == "}":
                return others, messages
            else:
                return None
    except (StopIteration, IndexError, ValueError):
        return None


# A JSON string token: outside strings JSON text holds no quote, so matching these one
# after another from the start finds exactly the strings (possessive: no backtracking).
_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"')
#: bodies this long are walked with their big strings left out (`_spans_without_big`)
_SKELETON_ABOVE = 4 << 20


def _spans_without_big(text: str) -> tuple[list[tuple[int, int]],
                                             list[tuple[int, int]]] | None:
    """`_value_spans` of a big body, without decoding its big strings: the scanner
    decodes every string it passes, and a 32 MB document would be copied (and then
    some) only to be thrown away. The body is walked with each string of
    `BIG_PART_CHARS` or more replaced by `""`, and the spans mapped back."""
    pieces: list[str] = []
    ends: list[int] = []  # where each `""` ends in the skeleton
    removed: list[int] = []  # characters left out up to and including it
    last = gone = 0
    for m in _STRING.finditer(text):
        start, end = m.span()
        if end - start < BIG_PART_CHARS:
            continue
        pieces += [text[last:start], '""']
        gone += end - start - 2
        ends.append(start + 2 - (gone - (end - start - 2)))
        removed.append(gone)
        last = end
    if not pieces:
        return _value_spans(text)
    pieces.append(text[last:])
    spans = _value_spans("".join(pieces))
    del pieces
    if spans is None:
        return None

    def original(i: int) -> int:
        k = bisect.bisect_right(ends, i)
        return i + (removed[k - 1] if k else 0)

    others, messages = spans
    return ([(original(a), original(b)) for a, b in others],
            [(original(a), original(b)) for a, b in messages])


def split_text(text: str) -> Split | None:
    """The stored form of a body's original JSON text (exact). None when the text cannot
    be walked (not a JSON object, or holding a raw SOH); store it as it is then."""
    walk = _spans_without_big if len(text) >= _SKELETON_ABOVE else _value_spans
    try:
        spans = walk(text) if "\x01" not in text else None
    except RecursionError:  # nested deeper than the scanner goes: store it whole, as sent
        return Split(text=text)
    if spans is None:
        return None
    others, messages = spans
    out = Split(text="", source=text)
    cuts: list[tuple[int, int, str]] = []

    def leaf(start: int, end: int) -> str | None:
        if end - start < BLOB_MIN_CHARS:
            return None
        if end - start >= BIG_PART_CHARS:
            digest = _digest(text, start, end)
            out.spans[digest] = (start, end)
            return digest
        piece = text[start:end]
        digest = _digest(piece)
        out.parts[digest] = piece
        return digest

    for start, end in others:
        digest = leaf(start, end)
        if digest is not None:
            cuts.append((start, end, _marker(digest)))
            out.direct.append(digest)
    if len(messages) >= 2:
        prev: str | None = None
        for k, (start, end) in enumerate(messages[:-1]):
            digest = leaf(start, end)
            if prev is None and digest is not None:
                prev = digest  # a chain of one big message is that message
                continue
            element = text[start:end] if digest is None else _marker(digest)
            names = [] if digest is None else [digest]
            if prev is not None:
                element = _marker(prev) + text[messages[k - 1][1]:start] + element
                names.insert(0, prev)
            prev = _digest(element)
            out.parts[prev] = element
            out.refs.extend((prev, name) for name in names)
        assert prev is not None
        cuts.append((messages[0][0], messages[-2][1], _marker(prev)))
        out.direct.append(prev)
    if messages:
        digest = leaf(*messages[-1])
        if digest is not None:
            cuts.append((*messages[-1], _marker(digest)))
            out.direct.append(digest)
    pieces, pos = [], 0
    for start, end, marker in sorted(cuts):
        pieces += [text[pos:start], marker]
        pos = end
    pieces.append(text[pos:])
    out.text = "".join(pieces)
    return out


def split_json(body: object) -> Split:
    """The stored form of a body known only as parsed JSON: its compact text, split."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return split_text(text) or Split(text=text)


def expand(stored: str, lookup: Callable[[list[str]], dict[str, str]],
           closure: Callable[[list[str]], dict[str, str]] | None = None,
           known: dict[str, str] | None = None) -> list[str]:
    """The stored body as pieces to concatenate: even items are text, odd items hashes of
    leaf parts (chain parts are resolved into what they hold). `lookup(hashes)` gives
    part texts (at least those asked for); a part it does not know reads as `null`.
    `closure(hashes)`, if given, gives those and every part they reach at once.
    `known`: the parts the caller holds already (its cache).

    Linear in the size of the body: a history of a thousand turns is a chain a thousand
    parts deep, fetched a level at a time while the levels are cached (the next request
    of a session adds a level or two to the last one's chain), all at once through
    `closure` from the second level missing (or from the first, when none of it is
    known: a cold read), and then walked once, its text gathered in a list and joined
    once."""
    top = stored.split("\x01")
    if len(top) == 1:
        return top
    chains: dict[str, list[str]] = {}
    frontier = set(top[1::2])
    known = {} if known is None else known
    missed = 0
    while frontier:
        missing = [h for h in frontier if h not in known]
        if missing:
            missed += 1 + (missed == 0 and len(missing) == len(frontier))
            known = (closure if closure is not None and missed > 1 else lookup)(missing)
        following: set[str] = set()
        for digest in frontier:
            text = known.get(digest)
            if text is not None and "\x01" in text:
                items = chains[digest] = text.split("\x01")
                following.update(h for h in items[1::2] if h not in chains)
        frontier = following
    return _Walk(chains).pieces(top)


class _Walk:
    """Emits a body's pieces in order, with chain parts (`chains`: hash -> its text split
    on SOH) replaced by what they hold. A history chain is followed down its spine of
    `previous part` markers first, then emitted from the oldest message up: one step per
    turn, without recursion as deep as the session is long."""

    def __init__(self, chains: dict[str, list[str]]) -> None:
        self.chains = chains
        self.out: list[str] = []
        self.text: list[str] = []

    def pieces(self, items: list[str]) -> list[str]:
        self.emit(items)
        self.out.append("".join(self.text))
        return self.out

    def emit(self, items: list[str]) -> None:
        """Items alternate text (even) and hashes (odd)."""
        chains, text = self.chains, self.text
        for i, item in enumerate(items):
            if not i % 2:
                text.append(item)
            elif item in chains:
                self.chain(item)
                text = self.text
            else:
                self.out += ["".join(text), item]
                text = self.text = []

    def chain(self, digest: str) -> None:
        chains = self.chains
        spine = []
        items = chains[digest]
        while items[0] == "" and len(items) > 2 and items[1] in chains:
            spine.append(items)
            items = chains[items[1]]
        self.emit(items)
        for items in reversed(spine):  # each begins "", previous part: already emitted
            self.emit(items[2:])


def join(pieces: list[str], texts: dict[str, str]) -> str:
    """The full text from `expand`'s pieces and the leaf parts' texts."""
    if len(pieces) == 1:
        return pieces[0]
    out = list(pieces)
    for i in range(1, len(out), 2):
        out[i] = texts.get(out[i], "null")
    return "".join(out)
