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
from typing import Any

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


@dataclass
class MessageAssembler:
    """Rebuilds the final Messages API message from stream events."""

    message: dict[str, Any] | None = None
    #: True once message_stop arrived
    complete: bool = False
    #: the `error` object of an error event, if one came
    error: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    events: int = 0
    _partial_json: dict[int, str] = field(default_factory=dict)
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
            content[index] = block
        else:
            content.append(block)
        self._open.add(index)

    def _on_content_block_delta(self, data: dict[str, Any]) -> None:
        index = int(data["index"])
        block = self._block(index)
        delta = data["delta"]
        dtype = delta.get("type")
        if dtype == "text_delta":
            block["text"] = block.get("text", "") + delta["text"]
        elif dtype == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + delta["thinking"]
        elif dtype == "signature_delta":
            block["signature"] = block.get("signature", "") + delta["signature"]
        elif dtype == "input_json_delta":
            self._partial_json[index] = self._partial_json.get(index, "") + delta["partial_json"]
        elif dtype == "citations_delta":
            if not isinstance(block.get("citations"), list):
                block["citations"] = []
            block["citations"].append(delta["citation"])
        else:
            self._note(f"unknown delta {dtype!r} on block {index}")

    def _finish_block(self, index: int) -> None:
        self._open.discard(index)
        partial = self._partial_json.pop(index, None)
        if partial is None:
            return
        block = self._block(index)
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
        for index in sorted(self._open | set(self._partial_json)):
            try:
                self._finish_block(index)
            except IndexError:
                pass
        return self.message


def parse_all(text: str) -> list[SSEEvent]:
    """All events of a complete captured stream, in one pass over the decoded text.

    Same rules as `SSEParser` (which handles arbitrary chunking), several times faster
    for the common case of a whole body: an event still open at the end is dropped.
    """
    lines = text.split("\n") if "\r" not in text else re.split(r"\r\n|\r|\n", text)
    events: list[SSEEvent] = []
    name = ""
    data: list[str] = []
    has_data = False
    for line in lines[:-1] if lines and lines[-1] == "" else lines:
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
    return events


def assemble_stream(data: bytes | str) -> tuple[MessageAssembler, list[SSEEvent]]:
    """Parse a whole captured stream at once (the capture path uses this)."""
    assembler = MessageAssembler()
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    events = parse_all(text)
    for event in events:
        assembler.add(event)
    assembler.finish()
    return assembler, events
