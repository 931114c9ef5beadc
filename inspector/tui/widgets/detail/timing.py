"""The Timing tab: where the time of one exchange went, and what the proxy added."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from inspector.tui import format as fmt

STEPS = (
    ("upstream_connect_ms", "upstream connect (TCP+TLS)"),
    ("request_sent_ms", "request sent upstream"),
    ("ttfb_ms", "first response byte"),
    ("total_ms", "response complete"),
    ("proxy_overhead_ms", "added by the proxy"),
)


def render_timing(timings: dict[str, Any], started: str | None) -> Table:
    total = timings.get("total_ms") or max(
        [v for v in timings.values() if isinstance(v, (int, float))] or [0])
    table = Table(box=None, padding=(0, 2), title=f"Started {fmt.stamp(started)}",
                  title_justify="left", title_style="bold")
    table.add_column("step", style="dim")
    table.add_column("ms since start", justify="right")
    table.add_column("", no_wrap=True)
    for key, label in STEPS:
        value = timings.get(key)
        if value is None:
            table.add_row(label, "-", "")
            continue
        table.add_row(label, fmt.ms(value), Text(fmt.bar(value, total or 1, 40), style="cyan"))
    return table
