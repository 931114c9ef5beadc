"""Opening one long request in the detail view: time to the first tab, to the Conversation
tab, to the Raw tab, and the longest stall of the UI loop meanwhile.

A 300-turn Claude Code-like session is built here (602 messages, ~1.3 MB of request body:
prompts, replies with thinking, tool calls, tool results of a few KB, reminders), stored
through the real store, and opened with the app driven headless by Textual's pilot at
160x45, as a user would: open the request, wait for the Context tab, press `]` to get to
the Conversation tab and wait for its first blocks to be on screen, then to the Raw tab (the
whole exchange as JSON, as a click on its tab does) until it is painted.

The Raw tab's text is made in a worker; once it reaches the UI thread: raw_show_ms (wall) and
raw_show_cpu_ms (UI-thread CPU) until the app is idle, raw_draw_cpu_ms until its first lines
are drawn (both include what the tab switch left to do: the footer's keys, layout, garbage
collections), and raw_own_cpu_ms, the view's own code in that (taking the text, drawing lines).

    python bench/bench_detail.py            # medians of 3 runs
    python bench/bench_detail.py --runs 5 --turns 300
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import statistics
import tempfile
import time
from pathlib import Path

from inspector.attribution import attribute, cost
from inspector.config import Config
from inspector.ids import _encode
from inspector.model import Capture, Usage
from inspector.store import Record, Store
from inspector.timeparse import iso_utc
from inspector.tui.app import make_app

T0 = 1_795_000_000.0
LOREM = ("The refresh token is read before the clock is mocked, so the test sees an expired "
         "token on slow runners. ")


def long_body(turns: int) -> dict:
    """A Claude Code-like request after `turns` tool-using turns."""
    messages: list[dict] = [{"role": "user", "content": [
        {"type": "text", "text": "<system-reminder>\nContents of CLAUDE.md:\n"
                                 + "- run `make test` first\n" * 40 + "</system-reminder>"},
        {"type": "text", "text": "Why does the login test fail on CI?"}]}]
    for t in range(turns):
        use_id = f"toolu_{t:05d}"
        messages.append({"role": "assistant", "content": [
            {"type": "thinking", "thinking": LOREM * 3, "signature": "sig"},
            {"type": "text", "text": f"## Step {t}\n\nLet me look at **file {t}**.\n\n- first\n- second"},
            {"type": "tool_use", "id": use_id, "name": "Read" if t % 3 else "Bash",
             "input": {"file_path": f"/repo/src/module_{t}.py", "limit": 200}}]})
        result = "".join(f"{i:>5}\tdef function_{t}_{i}(x):  # {LOREM[:60]}\n" for i in range(38))
        if t == 250:  # one rare word, late in the session, for the search
            result += "    raise NeedleError('the token expired')\n"
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": use_id, "content": result}]})
    messages.append({"role": "user", "content": "Now fix the test."})
    return {"model": "claude-sonnet-4-5-20250929", "max_tokens": 32000, "stream": True,
            "system": [{"type": "text", "text": "You are Claude Code. " * 400}],
            "tools": [{"name": n, "description": f"The {n} tool. " * 60,
                       "input_schema": {"type": "object"}} for n in ("Bash", "Read", "Edit")],
            "messages": messages,
            "metadata": {"user_id": "user_x_account_y_session_5e55a0a0-0000-4000-8000-000000000001"}}


def long_record(turns: int) -> Record:
    body = long_body(turns)
    text = json.dumps(body)
    usage = Usage(input_tokens=len(text) // 4, output_tokens=200)
    capture = Capture(
        id=_encode(int(T0 * 1000), 10) + _encode(1, 10), ts=iso_utc(T0), connection_id="c", mode="intercept",
        method="POST", scheme="https", host="api.anthropic.com", port=443,
        path="/v1/messages", model=body["model"], stream=True, session_id=None,
        request_headers=[("content-type", "application/json")], request_text=text,
        request_json=body, request_bytes=len(text), status=200, reason="OK",
        response_headers=[], response_json={"type": "message", "role": "assistant",
                                            "content": [{"type": "text", "text": "Done."}]},
        stream_complete=True, stop_reason="end_turn", usage=usage, total_ms=1000.0,
        complete=True)
    return Record(capture=capture, attribution=attribute(body, usage, headers={}),
                  cost_usd=cost(body["model"], usage))


class Stalls:
    """The longest gap between ticks of a 10 ms timer on the UI loop: how long it froze."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._last = time.perf_counter()
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            self.worst = max(self.worst, now - self._last - 0.01)
            self._last = now

    def reset(self) -> None:
        self.worst, self._last = 0.0, time.perf_counter()


#: (perf_counter, thread_time) when the Raw tab's text reached the UI thread
RAW_READY = [0.0, 0.0]
#: UI-thread CPU seconds spent in the Raw view's own code: taking the text, drawing lines
RAW_OWN = [0.0]


def _own_time(function):  # noqa: ANN001, ANN202
    """`function` (sync), adding the UI thread's CPU time in it to RAW_OWN."""
    def timed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        start = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            RAW_OWN[0] += time.thread_time() - start
    timed.timed = True
    return timed


def time_raw_view(screen_class) -> None:  # noqa: ANN001
    """Note when the detail screen's RawReady handler starts, and time the Raw view's own
    code when it is the line-API RawView (bench-only wrapping)."""
    handler = screen_class.on_raw_ready
    if getattr(handler, "timed", False):
        return

    async def ready(self, message):  # noqa: ANN001
        RAW_READY[:] = time.perf_counter(), time.thread_time()
        RAW_OWN[0] = 0.0
        start = time.thread_time()
        done = handler(self, message)
        if inspect.isawaitable(done):  # the older handler built and mounted a TextArea
            await done
        RAW_OWN[0] += time.thread_time() - start

    ready.timed = True
    screen_class.on_raw_ready = ready
    try:
        from inspector.tui.widgets.detail.raw_view import RawView
    except ImportError:  # the older TextArea: all its work is in the handler and layout
        return
    RawView.render_line = _own_time(RawView.render_line)


async def one_run(config: Config, capture_id: str) -> dict[str, float]:
    from inspector.tui.screens.detail import DetailScreen

    time_raw_view(DetailScreen)

    app = make_app(config, None, clock=lambda: T0 + 60)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause(0.5)
        stalls = Stalls()
        start = time.perf_counter()
        app.open_detail(capture_id)
        await _until(lambda: isinstance(app.screen, DetailScreen)
                     and bool(app.screen.query("#context-tree")))
        await pilot.pause()  # one refresh: the tab is painted
        opened = time.perf_counter() - start
        open_stall = stalls.worst
        await pilot.pause(0.3)
        stalls.reset()
        start = time.perf_counter()
        await pilot.press("right_square_bracket")  # Context -> Conversation
        screen = app.screen
        await _until(lambda: _conversation_shown(screen))
        await pilot.pause()
        conversation = time.perf_counter() - start
        await pilot.pause(0.5)  # anything still built in the background counts as a stall
        result = {"open_ms": opened * 1000, "open_stall_ms": open_stall * 1000,
                  "conversation_ms": conversation * 1000,
                  "conversation_stall_ms": stalls.worst * 1000}
        # the Raw tab: the whole request as JSON, made in a worker, until it is painted
        stalls.reset()
        start = time.perf_counter()
        screen.action_tab("raw")  # as a click on its tab (`]` thrice would time two more tabs)
        await _until(lambda: screen._raw_ready.is_set())  # the text is in the Raw tab
        # its first lines drawn (a line-API view counts them; a TextArea draws on mount)
        view = screen.query_one("#raw-text")
        await _until(lambda: getattr(view, "rendered", 1) > 0)
        drawn = time.thread_time()
        await pilot.pause()
        painted = time.perf_counter(), time.thread_time()
        result["raw_draw_cpu_ms"] = (drawn - RAW_READY[1]) * 1000
        result["raw_own_cpu_ms"] = RAW_OWN[0] * 1000  # the view's part of that
        result["raw_ms"] = (painted[0] - start) * 1000
        # from the worker's text reaching the UI thread to painted: wall time, and the CPU
        # time the UI thread spent (robust when other processes share the cores)
        result["raw_show_ms"] = (painted[0] - RAW_READY[0]) * 1000
        result["raw_show_cpu_ms"] = (painted[1] - RAW_READY[1]) * 1000
        await pilot.pause(0.5)
        result["raw_stall_ms"] = stalls.worst * 1000
        await pilot.press("escape")
        await pilot.pause(0.3)
        if "search" in inspect.signature(DetailScreen).parameters:
            # open it on a search: until the rare word's block is open, lit and on screen
            stalls.reset()
            start = time.perf_counter()
            app.push_screen(DetailScreen(app.backend, capture_id, search="NeedleError"))
            await _until(lambda: isinstance(app.screen, DetailScreen)
                         and _hit_shown(app.screen))
            await pilot.pause()
            result["search_hit_ms"] = (time.perf_counter() - start) * 1000
            await pilot.pause(0.5)
            result["search_stall_ms"] = stalls.worst * 1000
        return result


def _hit_shown(screen) -> bool:  # noqa: ANN001
    """The hit's block is open and on screen (a transcript drawn line by line, or the
    older one of a widget per block)."""
    found = screen.query("#transcript")
    if not found:
        return False
    transcript = found.first()
    if hasattr(transcript, "on_screen"):
        return transcript.hit is not None and transcript.on_screen(transcript.hit)
    hit = screen.query(".-hit")
    return bool(hit) and transcript._visible(hit.first())


async def _until(condition, timeout: float = 30.0) -> None:  # noqa: ANN001
    """Poll `condition` every 2 ms (the UI loop runs meanwhile)."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the detail view did not show up")
        await asyncio.sleep(0.002)


def _conversation_shown(screen) -> bool:  # noqa: ANN001
    """The Conversation tab shows something: its transcript's first blocks (drawn line by
    line, or older, a widget each), or the older single Static of the whole conversation."""
    pane = screen.query("#conversation")
    if not pane:
        return False
    transcript = pane.first().query("#transcript")
    if transcript and hasattr(transcript.first(), "rendered"):
        return transcript.first().rendered > 0
    return bool(pane.first().query(".transcript-block")) or bool(pane.first().query(".rich-body"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="claude-inspect-bench-detail-"))
    config = Config.load(home)
    record = long_record(args.turns)
    body = record.capture.request_json
    print(f"request: {len(body['messages'])} messages, {len(record.capture.request_text):,} bytes")
    with Store(config.db_path) as store:
        store.write([record])
    results = [asyncio.run(one_run(config, record.capture.id)) for _ in range(args.runs)]
    for key in results[0]:
        values = [r[key] for r in results]
        print(f"{key:>22}: median {statistics.median(values):7.0f} ms   "
              + " ".join(f"{v:.0f}" for v in values))


if __name__ == "__main__":
    main()
