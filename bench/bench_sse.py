"""Reassembling a big streamed reply: time per MB should not grow with the size.

    python bench/bench_sse.py                  # 5, 10 and 20 MB of SSE
    python bench/bench_sse.py --sizes 5 10 20 40

Each reply is what the stub API streams for one long text (12-character `text_delta`
events, about 125 bytes of SSE each), spooled in a `CapturedBody` as the proxy leaves it,
then turned into what is stored by `build_capture` (decoding, reassembly, redaction of the
message and the raw events kept). The table gives seconds, seconds per MB and the ratio
of each size's per-MB time to the smallest size's, measured in this run: a quadratic
reassembly shows as a ratio growing with the size, a linear one stays near 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.capture import build_capture  # noqa: E402
from inspector.demo.stub_api import sse_events  # noqa: E402
from inspector.ids import new_id  # noqa: E402
from inspector.model import CapturedBody, Exchange, Timings  # noqa: E402


def reply(mb: float) -> CapturedBody:
    chars = int(mb * (1 << 20) / 125 * 12)
    words = ("lorem ipsum dolor sit amet " * (chars // 27 + 1))[:chars]
    message = {"id": "msg_bench", "type": "message", "role": "assistant", "model": "claude-x",
               "content": [{"type": "text", "text": words}], "stop_reason": "end_turn",
               "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 5}}
    body = CapturedBody(limit=1 << 30)
    batch = []
    for name, data in sse_events(message):
        batch.append(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        if len(batch) == 512:
            body.append(b"".join(batch))
            batch = []
    body.append(b"".join(batch))
    return body


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=float, nargs="+", default=[5, 10, 20])
    args = ap.parse_args()
    rows = []
    for mb in args.sizes:
        body = reply(mb)
        ex = Exchange(id=new_id(), connection_id="c", mode="reverse", method="POST",
                      scheme="https", host="api.anthropic.com", port=443,
                      target="/v1/messages", client_addr="127.0.0.1", request_headers=[],
                      request_body=CapturedBody(limit=1 << 20), timings=Timings(),
                      response_headers=[("content-type", "text/event-stream")],
                      response_body=body, status=200, complete=True)
        size = body.size / (1 << 20)
        t = time.perf_counter()
        cap = build_capture(ex)
        dt = time.perf_counter() - t
        body.close()
        assert cap.stream_complete, cap.response_note
        rows.append((size, dt))
    base = rows[0][1] / rows[0][0]
    print(f"{'SSE MB':>8} {'seconds':>8} {'s per MB':>9} {'vs first':>9}")
    for size, dt in rows:
        print(f"{size:8.1f} {dt:8.2f} {dt / size:9.3f} {dt / size / base:9.2f}")


if __name__ == "__main__":
    main()
