"""The Findings view's table, drawn a line at a time: a week of a busy database holds
thousands of findings (a DataTable added and measured each row on the UI thread)."""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text

from inspector.tui import format as fmt
from inspector.tui.widgets.line_table import Columns, LineTable

COLUMNS: Columns = (
    ("kind", "Kind", 13), ("when", "Request", 8), ("session", "Session", 8),
    ("source", "Source", 30), ("tokens", "Tokens", 7), ("cost", "Cost", 8),
    ("detail", "Detail", 52))


class FindingsTable(LineTable):
    """One row per finding, in the order given; keyed by its place."""

    def __init__(self, kind_text: Callable[[str], Text], when: Callable[[str], str | None],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.findings: list[Any] = []
        self._kind_text = kind_text
        self._when = when

    @property
    def columns_spec(self) -> Columns:
        return COLUMNS

    def show(self, findings: list[Any]) -> None:
        """Show these findings, the cursor on the first (announced as highlighted)."""
        self.findings = list(findings)
        self.forget()
        self.set_order([str(i) for i in range(len(self.findings))])
        self.move_cursor(row=0)
        if self.order:
            self.post_message(self.Highlighted(self, self.order[0]))

    def finding(self, key: str | None) -> Any:
        return self.findings[int(key)] if key is not None else None

    def make_cells(self, key: str) -> list[Any]:
        f = self.findings[int(key)]
        return [
            self._kind_text(f.kind),
            fmt.clock(self._when(f.request_id)) if f.request_id
            else Text("session", style="dim"),
            Text(fmt.short_session(f.session_id), style="magenta"),
            f.source, Text(fmt.tokens(f.tokens), justify="right"),
            Text(fmt.cost(f.cost_usd), justify="right"), f.detail,
        ]
