"""The Findings view's table, drawn a line at a time: a week of a busy database holds
thousands of findings (a DataTable added and measured each row on the UI thread)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from inspector.ids import id_time
from inspector.timeparse import iso_utc
from inspector.tui import format as fmt
from inspector.tui.widgets.line_table import Columns, LineTable

#: how each kind is shown, and its colour
LABELS = {
    "cache_break": ("cache break", "bold red"),
    "unused_tool": ("unused tool", "yellow"),
    "injection": ("injection", "magenta"),
    "large_tool_result": ("large result", "yellow"),
    "repeated_read": ("repeated read", "yellow"),
    "compaction": ("compaction", "cyan"),
    "truncation": ("truncation", "red"),
    "what_if": ("what if", "green"),
}


def kind_text(kind: str) -> Text:
    label, style = LABELS.get(kind, (kind, ""))
    return Text(label, style=style)

COLUMNS: Columns = (
    ("kind", "Kind", 13), ("when", "Request", 8), ("session", "Session", 8),
    ("source", "Source", 30), ("tokens", "Tokens", 7), ("cost", "Cost", 8),
    ("detail", "Detail", 52))


class FindingsTable(LineTable):
    """One row per finding, in the order given; keyed by its place."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.findings: list[Any] = []

    @property
    def columns_spec(self) -> Columns:
        return COLUMNS

    def show(self, findings: list[Any]) -> None:
        """Show these findings, the cursor on the one it was on if it is among them (more
        came in while they are worked out), else on the first."""
        current = self.finding(self.current_id()) if self.findings else None
        self.findings = list(findings)
        self.show_rows([str(i) for i in range(len(self.findings))])
        at = next((i for i, f in enumerate(self.findings) if f is current), 0)
        if at:
            self.move_cursor(row=at)

    def finding(self, key: str | None) -> Any:
        return self.findings[int(key)] if key is not None else None

    def make_cells(self, key: str) -> list[Any]:
        f = self.findings[int(key)]
        return [
            kind_text(f.kind),
            fmt.clock(_request_time(f.request_id)) if f.request_id
            else Text("session", style="dim"),
            Text(fmt.short_session(f.session_id), style="magenta"),
            f.source, Text(fmt.tokens(f.tokens), justify="right"),
            Text(fmt.cost(f.cost_usd), justify="right"), f.detail,
        ]


def _request_time(request_id: str) -> str | None:
    """A request's time, from its id (ids begin with their time)."""
    at = id_time(request_id)
    return iso_utc(at) if at is not None else None
