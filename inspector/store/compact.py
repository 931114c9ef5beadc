"""Compact forms of what the store keeps: compressed text, and attribution trees.

Text columns that can be large (shared body parts, replies, raw SSE, attribution trees)
hold zstd-compressed UTF-8 as a BLOB value once they pass `PACK_MIN_CHARS`. SQLite types
values, not columns, so a column declared TEXT holds either: text written by an older
version (or too short to be worth compressing) stays readable as is, and `unpack` tells
the two apart by type.

A request's attribution tree is kept once, as compressed JSON of every field of each
`Node` (whatever fields the dataclass has), not as one row per node: Claude Code resends
the whole conversation on each turn, so a tree holds a node for every message so far and
per-node rows made the database grow with the square of a session's length. Queries by
source read the per-source sums taken from the tree when it is written (`summarize`).
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import operator
import sqlite3
import tempfile
import threading
import weakref
from typing import Any, Iterable, Iterator

import zstandard

from inspector.model import Node

#: Below this many characters compression saves too little to be worth a decompression.
PACK_MIN_CHARS = 256
#: zstd level: 3 compresses JSON about 5x at a few hundred MB/s.
LEVEL = 3

_local = threading.local()


def _codec() -> tuple[Any, Any]:
    """This thread's compressor and decompressor (zstandard's objects are not shareable
    between threads)."""
    codec = getattr(_local, "codec", None)
    if codec is None:
        codec = _local.codec = (zstandard.ZstdCompressor(level=LEVEL),
                                zstandard.ZstdDecompressor())
    return codec


def utf8(text: str) -> bytes:
    """UTF-8 of `text`, lone surrogates (which JSON can carry) included. Python's codec
    is several times faster with the default error handler, so that is tried first."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def from_utf8(data: bytes) -> str:
    """The inverse of `utf8`."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "surrogatepass")


def pack(text: str | None) -> str | bytes | bytearray | None:
    """What to store for `text`: the text itself when short or when compression saves
    little, else its compressed bytes (a bytearray for a big ASCII text: copying it
    into bytes would hold it twice)."""
    if text is None or len(text) < PACK_MIN_CHARS:
        return text
    if len(text) > _STEP and text.isascii():
        # a big ASCII text (base64 media, mostly) is compressed a slice at a time, not
        # encoded whole first; its size, known, goes in the frame as compress() puts it
        packer = _codec()[0].compressobj(size=len(text))
        out = bytearray()
        for i in range(0, len(text), _STEP):
            out += packer.compress(text[i:i + _STEP].encode("ascii"))
        out += packer.flush()
        return out
    packed = _codec()[0].compress(utf8(text))
    # a part that hardly compresses (a short message) reads faster as it is
    return packed if len(packed) <= len(text) * WORTH else text


_STEP = 1 << 20
#: a text is kept compressed only if that takes at most this share of its length
WORTH = 0.75


class Spooled:
    """The compressed form of a big text, held in a temporary file rather than in
    memory, for writing into a BLOB a slice at a time (see `pack_spooled`)."""

    def __init__(self, file: Any, size: int) -> None:
        self.file, self.size = file, size
        # the file goes when this does, even if a failed write never read it
        weakref.finalize(self, file.close)

    def __len__(self) -> int:
        return self.size

    def chunks(self, step: int = _STEP) -> Iterator[bytes]:
        self.file.seek(0)
        while chunk := self.file.read(step):
            yield chunk

    def close(self) -> None:
        self.file.close()


def pack_spooled(text: str, start: int = 0, end: int | None = None) -> Spooled:
    """`pack(text[start:end])` for a big part of a text, without a copy of the part or
    of its compressed form in memory: the part is encoded and compressed a slice at a
    time into a temporary file (private, and gone when closed). The frame states the
    size of what it holds, as `compress()` does, so `unpack` reads it the same way."""
    end = len(text) if end is None else end
    if text.isascii():
        size = end - start
    else:  # one pass to count the bytes, one to compress them
        size = sum(len(utf8(text[i:min(i + _STEP, end)])) for i in range(start, end, _STEP))
    packer = _codec()[0].compressobj(size=size)
    file = tempfile.TemporaryFile(prefix="claude-inspect-pack-")
    try:
        for i in range(start, end, _STEP):
            file.write(packer.compress(utf8(text[i:min(i + _STEP, end)])))
        file.write(packer.flush())
        return Spooled(file, file.tell())
    except BaseException:
        file.close()
        raise


def unpack(value: str | bytes | None) -> str | None:
    """The text a column value holds (see `pack`)."""
    if value is None or isinstance(value, str):
        return value
    return from_utf8(_codec()[1].decompress(value))


#: the first bytes of a zstd frame: a stored value that starts so is packed (text cannot:
#: 0xB5 cannot follow "(" in UTF-8)
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def stream_bytes(conn: sqlite3.Connection, table: str, column: str, rowid: int,
                 step: int = _STEP) -> Iterator[bytes]:
    """The UTF-8 of the text a stored value holds (see `pack`), about `step` bytes at a
    time, read through an incremental blob handle and, when packed, a streaming
    decompressor: neither the stored value nor its text is ever whole in memory."""
    with conn.blobopen(table, column, rowid, readonly=True) as blob:
        packed = blob.read(4) == _ZSTD_MAGIC
        blob.seek(0)
        # a decompressor of its own: this thread's may be used while the stream is open
        source: Any = zstandard.ZstdDecompressor().stream_reader(
            blob, read_size=step, closefd=False) if packed else blob
        while chunk := source.read(step):
            yield chunk


def stream_unpacked(data: bytes | bytearray, step: int = _STEP) -> Iterator[bytes]:
    """The UTF-8 a packed value in hand holds, about `step` bytes at a time (a packed
    value of a few hundred kilobytes can hold tens of megabytes of text)."""
    yield from zstandard.ZstdDecompressor().read_to_iter(data, write_size=step)


def unpacked_size(data: bytes | bytearray) -> int:
    """Bytes of text a packed value holds, from its frame header (-1 if not stated)."""
    return zstandard.frame_content_size(data)


def decoded(chunks: Iterable[bytes]) -> Iterator[str]:
    """UTF-8 given in chunks as text, in slices (a character split between two chunks
    is held back until whole)."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
    for chunk in chunks:
        if text := decoder.decode(chunk):
            yield text
    if text := decoder.decode(b"", final=True):
        yield text


# -- attribution trees ------------------------------------------------------------------

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _field_names() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(Node) if f.name != "children")


def node_dict(node: Node) -> dict[str, Any]:
    """Every field of `node` (children last, recursively) as plain data. With today's
    fields this is `Node.to_dict()`; a field added to the dataclass is kept too."""
    names = _field_names()
    values = operator.attrgetter(*names)  # one C call per node for every field

    def walk(n: Node) -> dict[str, Any]:
        d = dict(zip(names, values(n)))
        d["children"] = [walk(c) for c in n.children]
        return d

    return walk(node)


def node_from_dict(d: dict[str, Any]) -> Node:
    """The Node a `node_dict` came from (fields the dataclass no longer has are dropped)."""
    names = set(_field_names())

    def walk(x: dict[str, Any]) -> Node:
        kwargs = {k: v for k, v in x.items() if k in names}
        return Node(**kwargs, children=[walk(c) for c in x.get("children") or []])

    return walk(d)


def tree_text(node: Node) -> str:
    """The tree as compact JSON (what exports and `tree --json` show)."""
    return _encode(node_dict(node))


@dataclasses.dataclass
class TreeSummary:
    """What queries need from a tree without reading it: tokens per source (leaves below
    the root; a leaf without a source counts under its kind), the source with the most,
    and for the stats rollups the leaves (the root too when it has no children) grouped
    by source, else kind, else "other": {group: [leaves, chars, tokens, cost or None]}."""

    totals: dict[str, int]
    top: str | None
    groups: dict[str, list]


def summarize(tree: dict[str, Any]) -> TreeSummary:
    """The `TreeSummary` of a tree in `node_dict` form."""
    totals: dict[str, int] = {}
    groups: dict[str, list] = {}
    stack: list[tuple[dict[str, Any], bool]] = [(tree, True)]
    while stack:
        node, is_root = stack.pop()
        children = node.get("children") or []
        if children:  # pre-order, so ties for the top source go to the first one
            stack.extend((c, False) for c in reversed(children))
            continue
        meta = node.get("meta") or {}
        source = meta.get("source")
        if not isinstance(source, str):
            source = None
        kind = node.get("kind")
        tokens = node.get("tokens") or 0
        chars = node.get("chars") or 0
        if not is_root:
            key = source or kind
            totals[key] = totals.get(key, 0) + tokens
        group = source or ("other" if kind is None else kind)
        cost = meta.get("cost_usd")
        if type(cost) not in (int, float):
            cost = None
        entry = groups.get(group)
        if entry is None:
            groups[group] = [1, chars, tokens, cost]
            continue
        entry[0] += 1
        entry[1] += chars
        entry[2] += tokens
        if cost is not None:
            entry[3] = cost if entry[3] is None else entry[3] + cost
    top = max(totals.items(), key=lambda kv: kv[1])[0] if totals else None
    return TreeSummary(totals=totals, top=top, groups=groups)


def encode_tree(node: Node | None) -> tuple[bytes | str | None, TreeSummary | None]:
    """What to store for a tree, and its summary (None, None without a tree)."""
    if node is None:
        return None, None
    d = node_dict(node)
    return pack(_encode(d)), summarize(d)


def decode_tree(value: str | bytes | None) -> dict[str, Any] | None:
    """A stored tree (this version's or an older one's JSON text) in `node_dict` form."""
    text = unpack(value)
    return None if text is None else json.loads(text)
