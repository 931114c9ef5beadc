"""A process of its own that writes to a capture database through the store's API, as a
recorder of another `claude-inspect proxy` would. Run as a script:

    python feed_writer.py DB

It reads commands on stdin, one per line, and answers each with the wall-clock time of
its commit once it is committed:

    pending ID   a request in flight (a pending row)
    done ID      its capture (the pending row goes in the same transaction)
    drop ID      the request will not be stored
"""

from __future__ import annotations

import sys
import time

from inspector.ids import new_id
from inspector.model import Capture, Usage
from inspector.store import Record, Store, pending
from inspector.store.pending import PendingDrop, PendingStart
from inspector.timeparse import iso_utc


def capture(capture_id: str) -> Capture:
    body = {"model": "claude-haiku-4-5", "max_tokens": 8,
            "messages": [{"role": "user", "content": "hello from another process"}]}
    return Capture(id=capture_id, ts=iso_utc(time.time()), connection_id="c1", mode="reverse",
                   method="POST", scheme="https", host="api.anthropic.com", port=443,
                   path="/v1/messages", model="claude-haiku-4-5", status=200,
                   request_json=body, request_bytes=100, complete=True, total_ms=12.0,
                   usage=Usage(input_tokens=21, output_tokens=3))


def main(db: str) -> None:
    store = Store(db)
    print("ready", flush=True)
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        capture_id = arg or new_id()
        if command == "pending":
            with store.conn:
                pending.write(store.conn, [PendingStart(capture_id, iso_utc(time.time()),
                                                        "POST", "api.anthropic.com",
                                                        "/v1/messages")])
        elif command == "drop":
            with store.conn:
                pending.write(store.conn, [PendingDrop(capture_id)])
        elif command == "done":
            store.write([Record(capture=capture(capture_id))])
        else:
            break
        print(f"{time.time():.6f}", flush=True)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1])
