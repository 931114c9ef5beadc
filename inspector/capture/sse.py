"""Server-sent events: an incremental parser and the Messages API stream assembler.

`SSEParser` turns `text/event-stream` bytes, fed in any chunking, into (event, data)
pairs. `MessageAssembler` replays an Anthropic Messages stream (`message_start`,
`content_block_*`, `message_delta`, `message_stop`, `ping`, `error`) into the message the
non-streamed API would have returned, so stored streams and stored plain replies look
the same. Unknown events and block types are carried generically, never fatal.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SSEEvent:
    event: str
    data: str


class SSEParser:
    """Incremental `text/event-stream` parser (per the WHATWG event-stream rules).

    Lines end with CRLF, LF or CR; a chunk boundary may split a line or even a CRLF pair.
    Decoding is done per complete line, so UTF-8 sequences split across chunks survive.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._event = ""
        self._data: list[str] = []
        self._has_data = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        self._buf += chunk
        events: list[SSEEvent] = []
        start = 0
        buf = self._buf
        n = len(buf)
        while start < n:
            lf = buf.find(b"\n", start)
            cr = buf.find(b"\r", start, lf if lf >= 0 else n)
            if cr >= 0:
                if cr + 1 == n:
                    break  # a CR at the very end may be half of a CRLF: wait for more
                end, nxt = cr, cr + (2 if buf[cr + 1] == 0x0A else 1)
            elif lf >= 0:
                end, nxt = lf, lf + 1
            else:
                break
            self._line(bytes(buf[start:end]).decode("utf-8", "replace"), events)
            start = nxt
        del buf[:start]
        return events

    def close(self) -> list[SSEEvent]:
        """End of stream: an unterminated last line counts, an undispatched event does
        not (the stream was cut before the blank line that completes it)."""
        events: list[SSEEvent] = []
        if self._buf:
            # a CR held back in case an LF followed: it did end its line after all
            rest = bytes(self._buf[:-1] if self._buf.endswith(b"\r") else self._buf)
            self._line(rest.decode("utf-8", "replace"), events)
            self._buf.clear()
        return events

    def _line(self, line: str, events: list[SSEEvent]) -> None:
        if not line:
            if self._has_data:
                events.append(SSEEvent(self._event or "message", "\n".join(self._data)))
            self._event, self._data, self._has_data = "", [], False
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
            self._has_data = True


class _Pieces:
    """The deltas of one block field, joined a few thousand at a time: a long reply's
    hundreds of thousands of small strings never pile up (nor the allocator's memory
    for them), and each character is still copied only twice."""

    __slots__ = ("chunks", "recent")

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.recent: list[str] = []

    def add(self, piece: str) -> None:
        self.recent.append(piece)
        if len(self.recent) >= 4096:
            self.chunks.append("".join(self.recent))
            self.recent = []

    def parts(self) -> list[str]:
        return self.chunks + self.recent


#: the block field each text-like delta extends
_DELTA_FIELDS = {"text_delta": ("text", "text"), "thinking_delta": ("thinking", "thinking"),
                 "signature_delta": ("signature", "signature")}


@dataclass
class MessageAssembler:
    """Rebuilds the final Messages API message from stream events.

    Deltas are collected per block and joined when the block stops (or at `finish`), so a
    reply of a million deltas costs time in proportion to its length: appending each
    delta to the block's string would copy the text so far every time.
    """

    message: dict[str, Any] | None = None
    #: True once message_stop arrived
    complete: bool = False
    #: the `error` object of an error event, if one came
    error: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    events: int = 0
    #: applied to each reassembled text (text, thinking, tool input JSON) before it goes
    #: into the message; where it changed something, `redacted` holds the span changed,
    #: in offsets of that block's deltas joined (see `mask_deltas`)
    scrub: Callable[[str], str] | None = None
    redacted: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)
    _pieces: dict[tuple[int, str], _Pieces] = field(default_factory=dict)
    _partial_json: dict[int, _Pieces] = field(default_factory=dict)
    _open: set[int] = field(default_factory=set)

    def add(self, event: SSEEvent) -> None:
        """Apply one event. Never raises: a malformed event becomes a note."""
        self.events += 1
        if event.event == "ping":
            return
        try:
            data = json.loads(event.data) if event.data else {}
        except ValueError:
            self._note(f"event {event.event!r}: data is not JSON")
            return
        if not isinstance(data, dict):
            self._note(f"event {event.event!r}: data is not an object")
            return
        kind = data.get("type") or event.event
        handler = getattr(self, "_on_" + kind, None) if kind.isidentifier() else None
        if handler is None:
            self._note(f"unknown event {kind!r} kept in raw only")
            return
        try:
            handler(data)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            self._note(f"event {kind!r} malformed: {type(e).__name__}: {e}")

    def _note(self, text: str) -> None:
        if len(self.notes) < 20:
            self.notes.append(text)

    def _msg(self) -> dict[str, Any]:
        if self.message is None:
            self._note("content before message_start")
            self.message = {"type": "message", "role": "assistant", "content": []}
        return self.message

    def _on_message_start(self, data: dict[str, Any]) -> None:
        # event data is parsed fresh for each event, so it can be taken over without a copy
        self.message = data["message"]
        self.message.setdefault("content", [])

    def _block(self, index: int) -> dict[str, Any]:
        content = self._msg()["content"]
        if index >= len(content) or not isinstance(content[index], dict):
            raise IndexError(f"no content block {index}")
        return content[index]

    def _on_content_block_start(self, data: dict[str, Any]) -> None:
        index = int(data["index"])
        content = self._msg()["content"]
        while len(content) < index:
            content.append({"type": "missing"})
            self._note(f"content block before {index} never started")
        block = data["content_block"]
        if index < len(content):
            self._join(index)  # what a block started twice had so far goes to the old one
            content[index] = block
        else:
            content.append(block)
        self._open.add(index)

    def _on_content_block_delta(self, data: dict[str, Any]) -> None:
        index = int(data["index"])
        block = self._block(index)
        delta = data["delta"]
        dtype = delta.get("type")
        target = _DELTA_FIELDS.get(dtype)
        if target is not None:
            piece = delta[target[0]]
            if not isinstance(piece, str):
                raise TypeError(f"{dtype} carries {type(piece).__name__}, not text")
            self._pieces.setdefault((index, target[1]), _Pieces()).add(piece)
        elif dtype == "input_json_delta":
            piece = delta["partial_json"]
            if not isinstance(piece, str):
                raise TypeError(f"partial_json is {type(piece).__name__}, not text")
            self._partial_json.setdefault(index, _Pieces()).add(piece)
        elif dtype == "citations_delta":
            if not isinstance(block.get("citations"), list):
                block["citations"] = []
            block["citations"].append(delta["citation"])
        else:
            self._note(f"unknown delta {dtype!r} on block {index}")

    def _join(self, index: int) -> None:
        """Append the text deltas collected for block `index` to its fields."""
        for name in ("text", "thinking", "signature"):
            collected = self._pieces.pop((index, name), None)
            if collected is None:
                continue
            pieces = collected.parts()
            block = self._block(index)
            before = block.get(name)
            before = before if isinstance(before, str) else ""
            if before:
                pieces.insert(0, before)
            value = "".join(pieces)
            if name != "signature":
                value = self._scrubbed(index, name, value, len(before))
            block[name] = value

    def _scrubbed(self, index: int, name: str, value: str, base: int) -> str:
        if self.scrub is None:
            return value
        clean = self.scrub(value)
        if clean is value or clean == value:
            return value
        lo = _common_prefix(value, clean)
        hi = len(value) - _common_suffix(value, clean, lo)
        lo, hi = max(lo - base, 0), max(hi - base, 0)
        old = self.redacted.get((index, name))
        if old is not None:
            lo, hi = min(lo, old[0]), max(hi, old[1])
        self.redacted[(index, name)] = (lo, hi)
        return clean

    def _finish_block(self, index: int) -> None:
        self._open.discard(index)
        self._join(index)
        collected = self._partial_json.pop(index, None)
        if collected is None:
            return
        block = self._block(index)
        partial = self._scrubbed(index, "partial_json", "".join(collected.parts()), 0)
        del collected
        try:
            block["input"] = json.loads(partial) if partial.strip() else {}
        except ValueError:
            self._note(f"block {index}: tool input is not complete JSON ({len(partial)} chars)")
            block.setdefault("input", {})

    def _on_content_block_stop(self, data: dict[str, Any]) -> None:
        self._finish_block(int(data["index"]))

    def _on_message_delta(self, data: dict[str, Any]) -> None:
        msg = self._msg()
        for key, value in (data.get("delta") or {}).items():
            msg[key] = value
        usage = data.get("usage")
        if isinstance(usage, dict):
            merged = msg.get("usage") if isinstance(msg.get("usage"), dict) else {}
            # message_delta counts are cumulative: a value given replaces the earlier one
            for key, value in usage.items():
                if value is not None or key not in merged:
                    merged[key] = value
            msg["usage"] = merged

    def _on_message_stop(self, data: dict[str, Any]) -> None:
        self.complete = True

    def _on_error(self, data: dict[str, Any]) -> None:
        self.error = data.get("error") if isinstance(data.get("error"), dict) else data

    def finish(self) -> dict[str, Any] | None:
        """Close blocks left open by a cut stream and return the message (or None)."""
        pending = self._open | set(self._partial_json) | {i for i, _ in self._pieces}
        for index in sorted(pending):
            try:
                self._finish_block(index)
            except IndexError:
                pass
        self._pieces.clear()
        return self.message


def _common_prefix(a: str, b: str, step: int = 4096) -> int:
    """Length of the longest common prefix of `a` and `b` (compared block by block)."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i:i + step] == b[i:i + step]:
        i += step
    while i < n and a[i] == b[i]:
        i += 1
    return min(i, n)


def _common_suffix(a: str, b: str, floor: int, step: int = 4096) -> int:
    """Length of the longest common suffix, not reaching into the first `floor` chars."""
    n = min(len(a), len(b)) - floor
    i = 0
    while i + step <= n and a[len(a) - i - step:len(a) - i] == b[len(b) - i - step:len(b) - i]:
        i += step
    while i < n and a[len(a) - i - 1] == b[len(b) - i - 1]:
        i += 1
    return max(i, 0)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DELTA_KEYS = {"text_delta": ("text", "text"), "thinking_delta": ("thinking", "thinking"),
               "input_json_delta": ("partial_json", "partial_json")}


def mask_deltas(raw: str, redacted: dict[tuple[int, str], tuple[int, int]]) -> str:
    """`raw` events with the characters of each delta that fall in a `redacted` span
    (per block and field, as `MessageAssembler.redacted` gives them) replaced by `*`.

    A secret streamed in several deltas is whole in no single event, so scrubbing the
    events one by one leaves its pieces; this masks them. Masked events are written
    back as one `data:` line; an event cut off at the end of `raw` is dropped.
    """
    if not redacted:
        return raw
    lines: list[str | None] = list(_LINE_BREAK.split(raw) if "\r" in raw else raw.split("\n"))
    if lines and lines[-1] == "":
        lines.pop()  # what follows the last line break is not a line
    offsets: dict[tuple[int, str], int] = {}
    data_lines: list[int] = []
    complete = -1
    for i, line in enumerate(lines):
        if line:
            if line.startswith("data:"):
                data_lines.append(i)
            continue
        complete = i
        if data_lines:
            _mask_event(lines, data_lines, offsets, redacted)
        data_lines = []
    return "".join(line + "\n" for line in lines[:complete + 1] if line is not None)


def _mask_event(lines: list[str | None], data_lines: list[int],
                offsets: dict[tuple[int, str], int],
                redacted: dict[tuple[int, str], tuple[int, int]]) -> None:
    parts = []
    for i in data_lines:
        value = lines[i][5:]  # type: ignore[index]
        parts.append(value[1:] if value[:1] == " " else value)
    try:
        data = json.loads("\n".join(parts))
        if data.get("type") != "content_block_delta":
            return
        delta = data["delta"]
        key, name = _DELTA_KEYS[delta["type"]]
        piece = delta[key]
        where = (int(data["index"]), name)
    except (ValueError, KeyError, TypeError, AttributeError):
        return
    if not isinstance(piece, str):
        return
    start = offsets.get(where, 0)
    offsets[where] = start + len(piece)
    span = redacted.get(where)
    if span is None:
        return
    a, b = max(span[0] - start, 0), min(span[1] - start, len(piece))
    if a >= b:
        return
    delta[key] = piece[:a] + "*" * (b - a) + piece[b:]
    lines[data_lines[0]] = "data: " + json.dumps(data, ensure_ascii=False)
    for i in data_lines[1:]:
        lines[i] = None


class TextStreamParser:
    """`text/event-stream` parsing of decoded text fed in chunks of any size, with the
    same rules as `SSEParser`; splitting whole chunks into lines makes it several times
    faster than a byte-by-line parser, which matters for a stream of many megabytes."""

    def __init__(self) -> None:
        self._carry = ""
        self._name = ""
        self._data: list[str] = []
        self._has_data = False

    def feed(self, text: str) -> list[SSEEvent]:
        text = self._carry + text if self._carry else text
        if "\r" in text:
            held = text.endswith("\r")  # may be half of a CRLF split across chunks
            lines = _LINE_BREAK.split(text[:-1] if held else text)
            self._carry = lines.pop() + ("\r" if held else "")
        else:
            lines = text.split("\n")
            self._carry = lines.pop()
        events: list[SSEEvent] = []
        self._lines(lines, events)
        return events

    def close(self) -> list[SSEEvent]:
        """End of stream: an unterminated last line counts, an undispatched event does
        not (the stream was cut before the blank line that completes it)."""
        events: list[SSEEvent] = []
        carry, self._carry = self._carry, ""
        if carry:
            self._lines([carry[:-1] if carry.endswith("\r") else carry], events)
        return events

    def _lines(self, lines: list[str], events: list[SSEEvent]) -> None:
        name, data, has_data = self._name, self._data, self._has_data
        for line in lines:
            if not line:
                if has_data:
                    events.append(SSEEvent(name or "message", "\n".join(data)))
                name, data, has_data = "", [], False
            elif line[0] == ":":
                continue
            else:
                field_name, _, value = line.partition(":")
                if value[:1] == " ":
                    value = value[1:]
                if field_name == "data":
                    data.append(value)
                    has_data = True
                elif field_name == "event":
                    name = value
        self._name, self._data, self._has_data = name, data, has_data


def parse_all(text: str) -> list[SSEEvent]:
    """All events of a complete captured stream (an event still open at the end is
    dropped)."""
    parser = TextStreamParser()
    return parser.feed(text) + parser.close()


def assemble_chunks(chunks: Iterable[str],
                    scrub: Callable[[str], str] | None = None) -> MessageAssembler:
    """Reassemble a stream from its decoded text in chunks, holding no more of it than
    one chunk and the message being built; `scrub` redacts each reassembled text."""
    assembler = MessageAssembler(scrub=scrub)
    parser = TextStreamParser()
    add = assembler.add
    for chunk in chunks:
        for event in parser.feed(chunk):
            add(event)
    for event in parser.close():
        add(event)
    assembler.finish()
    return assembler


def assemble_stream(data: bytes | str) -> tuple[MessageAssembler, list[SSEEvent]]:
    """Parse a whole captured stream at once: the assembler and the events."""
    assembler = MessageAssembler()
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    events = parse_all(text)
    for event in events:
        assembler.add(event)
    assembler.finish()
    return assembler, events
