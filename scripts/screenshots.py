#!/usr/bin/env python3
"""Screenshots of the app's main views, taken headless on realistic demo data.

Builds a database in a temporary home from the demo generator (`inspector.demo.traffic`),
written through the real store, runs the app with Textual's pilot at a fixed size and saves
an SVG per view to screenshots/. Where a converter is available (`rsvg-convert`, or the
`cairosvg` package) a PNG is written beside each SVG.

    python scripts/screenshots.py [--out screenshots] [--size 150x42]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.attribution import attribute, cost  # noqa: E402
from inspector.capture import session_id_of  # noqa: E402
from inspector.config import Config  # noqa: E402
from inspector.demo.traffic import demo_session, plain_sdk_request  # noqa: E402
from inspector.ids import _encode  # noqa: E402
from inspector.model import Capture, Usage  # noqa: E402
from inspector.store import Record, Store  # noqa: E402
from inspector.timeparse import iso_utc  # noqa: E402

#: a fixed start, so the pictures only change when the app does
T0 = 1_795_000_000.0


def _record(n: int, ts: float, request: dict, headers: dict[str, str], response: dict,
            status: int = 200) -> Record:
    hdrs = [(k.lower(), v) for k, v in headers.items()]
    usage = Usage.from_api(response.get("usage")) if status == 200 else Usage()
    model = request.get("model")
    text = json.dumps(request)
    capture = Capture(
        id=_encode(int(ts * 1000), 10) + _encode(n, 10), ts=iso_utc(ts),
        connection_id=f"c{n // 6}", mode="intercept", method="POST", scheme="https",
        host="api.anthropic.com", port=443, path="/v1/messages?beta=true", model=model,
        stream=bool(request.get("stream")), session_id=session_id_of(hdrs, request),
        request_headers=hdrs + [("x-api-key", "[redacted]")], request_text=text,
        request_json=request, request_bytes=len(text), status=status,
        reason="OK" if status == 200 else "Too Many Requests",
        response_headers=[("content-type", "text/event-stream"),
                          ("request-id", f"req_011CV{n:05d}")],
        response_json=response, stream_complete=True if status == 200 else None,
        stop_reason=response.get("stop_reason"), usage=usage,
        request_sent_ms=1.1, ttfb_ms=600.0 + 37 * (n % 7), total_ms=2100.0 + 290 * (n % 9),
        upstream_connect_ms=38.0 if n % 6 == 0 else None, proxy_overhead_ms=0.4,
        complete=True,
    )
    node = attribute(request, usage if status == 200 else None, headers=dict(hdrs))
    return Record(capture=capture, attribution=node,
                  cost_usd=cost(model, usage) if status == 200 else None)


#: sessions of the days before, so the Stats view has a week to plot: (days back, turns)
EARLIER_DAYS = ((6, 3), (5, 6), (4, 2), (3, 8), (2, 4), (1, 5))


def demo_records() -> list[Record]:
    """Claude Code sessions over a week (two of them on the last day), a rate-limited
    retry and a plain SDK call."""
    records: list[Record] = []
    n = 0
    sessions = [(10 + back, turns, T0 - back * 86400 + 3600 * (back % 3))
                for back, turns in EARLIER_DAYS]
    for seed, turns, start in sessions + [(1, 4, T0), (0, 9, T0 + 900)]:
        for i, turn in enumerate(demo_session(seed, turns)):
            records.append(_record(n, start + 41 * i, turn.request, turn.headers,
                                   turn.response))
            n += 1
    last = demo_session(0, 9)[-1]
    error = {"type": "error", "error": {"type": "rate_limit_error",
                                        "message": "Number of requests has exceeded your rate limit"}}
    records.append(_record(n, T0 + 900 + 41 * 9, last.request, last.headers, error, status=429))
    n += 1
    sdk = plain_sdk_request()
    reply = {"id": "msg_sdk", "type": "message", "role": "assistant", "model": sdk.get("model"),
             "content": [{"type": "text", "text": "Paris."}], "stop_reason": "end_turn",
             "usage": {"input_tokens": 31, "output_tokens": 4}}
    records.append(_record(n, T0 + 1400, sdk, {"user-agent": "anthropic-python/0.70"}, reply))
    n += 1
    for i, (request, headers, response) in enumerate(edited_session()):
        records.append(_record(n, T0 - 86400 + 7200 + 41 * i, request, headers, response))
        n += 1
    return records


def edited_session() -> list[tuple[dict, dict, dict]]:
    """A session whose docs MCP server rewords a tool description at the third turn, with
    the usage a prompt cache reports: the Findings view names that cache break."""
    from inspector.demo.prompt_cache import PromptCache

    cache = PromptCache(clock=lambda: 0.0)
    out = []
    for i, turn in enumerate(demo_session(21, 6)):
        request = json.loads(json.dumps(turn.request))
        if i >= 2:
            tool = next(t for t in request["tools"] if t["name"] == "mcp__docs__search_docs")
            tool["description"] += " Results carry the section anchor of each hit."
        out.append((request, turn.headers, cache.apply(request, turn.response)))
    return out


async def _wait(pilot, condition, timeout: float = 10.0) -> None:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise SystemExit("the app did not reach the expected state")
        await pilot.pause(0.05)


def turn_after_mcp_call(config: Config) -> str:
    """The newest request whose diff with the previous turn adds an MCP tool's result (the
    Diff tab's picture), else the newest request."""
    from inspector.analysis.turns import diff_exchanges

    with Store(config.db_path) as store:
        ids = [row[0] for row in store.execute("SELECT id FROM requests ORDER BY ts DESC")]
        for request_id in ids:
            try:
                changes = diff_exchanges(store, request_id)["changes"]
            except LookupError:
                continue
            if any(c["status"] == "added" and c["kind"] == "tool_result"
                   and c["source"].startswith("mcp:") for c in changes):
                return request_id
    return ids[0]


async def shoot(config: Config, empty: Config, out: Path, size: tuple[int, int]) -> list[Path]:
    from inspector.tui.app import make_app
    from inspector.tui.screens.detail import DetailScreen
    from inspector.tui.screens.findings import FindingsScreen
    from inspector.tui.screens.sessions import SessionsScreen
    from inspector.tui.screens.stats import StatsScreen
    from inspector.tui.widgets.requests.table import RequestsTable

    saved: list[Path] = []
    diff_id = turn_after_mcp_call(config)

    def save(app, name: str) -> None:
        path = out / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(out))
        saved.append(path)

    # the views' periods ("the last 7 days") end a day after the fixed captures
    app = make_app(config, None, clock=lambda: T0 + 86400)
    async with app.run_test(size=size) as pilot:
        table = app.main.query_one(RequestsTable)
        await _wait(pilot, lambda: table.row_count > 0 and app.main.counts.total > 0)
        await pilot.press("down", "down")
        await pilot.pause(0.3)
        save(app, "requests")

        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, DetailScreen)
                    and bool(app.screen.query("#context-tree")))
        tree = app.screen.query_one("#context-tree")
        mcp = next(n for n in tree.root.children if n.data.label == "MCP tools")
        mcp.expand()
        await pilot.pause(0.1)
        tree.move_cursor(mcp.children[0])
        await pilot.press("enter")  # open the largest MCP server
        await pilot.press("down")  # and select its largest tool
        await pilot.pause(0.3)
        save(app, "detail-context")
        await pilot.press("2")  # the transcript (where 1-7 then set each kind's level)
        await pilot.pause(0.5)
        save(app, "detail-conversation")
        for tab in ("response", "timing"):
            app.screen.action_tab(tab)
            await pilot.pause(0.3)
            save(app, f"detail-{tab}")
        await pilot.press("escape")

        # a text search: the rows that match, then a request opened on its first hit
        await _wait(pilot, lambda: app.screen is app.main)
        await pilot.press("slash", *"text:Redis", "enter")
        await _wait(pilot, lambda: app.main.terms.get("text") == "Redis"
                    and not app.main.loading)
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, DetailScreen)
                    and app.screen.hit_index >= 0)
        await pilot.pause(0.5)
        save(app, "search-hit")
        await pilot.press("escape")
        await _wait(pilot, lambda: app.screen is app.main)
        await pilot.press("escape")  # clear the search

        await _wait(pilot, lambda: app.screen is app.main)
        app.open_detail(diff_id)  # a turn after an MCP tool call
        await _wait(pilot, lambda: isinstance(app.screen, DetailScreen)
                    and app.screen.diff_loaded and bool(app.screen.query("#context-tree")))
        await pilot.press("d")
        await _wait(pilot, lambda: bool(app.screen.query("#diff-body")))
        await pilot.pause(0.3)
        save(app, "detail-diff")
        await pilot.press("escape")
        await _wait(pilot, lambda: app.screen is app.main)
        await pilot.press("slash", *"source:mcp:github")
        await pilot.press("enter")
        await pilot.pause(0.5)
        save(app, "filter")
        await pilot.press("escape")

        await pilot.press("s")
        await _wait(pilot, lambda: isinstance(app.screen, SessionsScreen))
        await pilot.press("a")  # all time: the fixed demo captures grow older every day
        await _wait(pilot, lambda: app.screen.query_one("#sessions").row_count > 0)
        await pilot.press("down")
        await pilot.pause(0.3)
        save(app, "sessions")
        await pilot.press("escape")
        await _wait(pilot, lambda: app.screen is app.main)
        await pilot.press("t")
        await _wait(pilot, lambda: isinstance(app.screen, StatsScreen))
        await pilot.press("a")  # all time: the fixed demo captures grow older every day
        await _wait(pilot, lambda: ("all", "session") in app.screen.results
                    and app.screen.query_one("#stats-groups").row_count > 0)
        await pilot.pause(0.3)
        save(app, "stats")
        await pilot.press("g")  # by model
        await _wait(pilot, lambda: ("all", "model") in app.screen.results)
        await pilot.pause(0.3)
        save(app, "stats-by-model")
        await pilot.press("escape")
        await _wait(pilot, lambda: app.screen is app.main)
        await pilot.press("i")
        await _wait(pilot, lambda: isinstance(app.screen, FindingsScreen))
        await _wait(pilot, lambda: bool(app.screen.query_one("#findings").findings)
                    and not app.screen.query_one("#findings").loading)
        await pilot.pause(0.3)
        save(app, "findings")
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause(0.3)
        save(app, "help")

    app = make_app(empty, None)
    async with app.run_test(size=size) as pilot:
        await _wait(pilot, lambda: app.main.query_one("#empty").display
                    and bool(app.main.query_one("KeysFooter").keys))
        await pilot.pause(0.3)
        save(app, "first-run")
    return saved


def to_png(svg: Path) -> Path | None:
    """Convert with rsvg-convert or cairosvg, whichever is present; None if neither."""
    png = svg.with_suffix(".png")
    # Terminal screenshots keep runs of spaces; tell the renderer not to collapse them.
    text = svg.read_text(encoding="utf-8").replace("<svg ", '<svg xml:space="preserve" ', 1)
    if shutil.which("rsvg-convert"):
        with tempfile.NamedTemporaryFile("w", suffix=".svg", delete=False, encoding="utf-8") as f:
            f.write(text)
        try:
            subprocess.run(["rsvg-convert", f.name, "-o", str(png)], check=True)
        finally:
            os.unlink(f.name)
        return png
    try:
        import cairosvg  # type: ignore[import-not-found]
    except ImportError:
        return None
    cairosvg.svg2png(bytestring=text.encode("utf-8"), write_to=str(png))
    return png


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    parser.add_argument("--size", default="150x42", help="terminal size, COLSxROWS")
    args = parser.parse_args()
    cols, rows = (int(x) for x in args.size.lower().split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["TZ"] = "UTC"
    time.tzset()
    with tempfile.TemporaryDirectory(prefix="claude-inspect-shots-") as tmp:
        config = Config.load(Path(tmp) / "home")
        with Store(config.db_path) as store:
            store.write(demo_records())
        empty = Config.load(Path(tmp) / "empty-home")
        saved = asyncio.run(shoot(config, empty, out, (cols, rows)))
    pngs = [p for p in (to_png(svg) for svg in saved) if p is not None]
    for path in saved + pngs:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    if not pngs:
        print("no SVG converter found (rsvg-convert or cairosvg): SVG only", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
