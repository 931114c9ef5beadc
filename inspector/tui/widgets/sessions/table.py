"""The Sessions view's table, drawn a line at a time: a database with thousands of
sessions shows them as fast as a few (a DataTable added and measured each row on the
UI thread)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from inspector.tui import format as fmt
from inspector.tui.widgets.line_table import Columns, LineTable
from inspector.tui.widgets.sessions.growth import spark_text

if TYPE_CHECKING:
    from inspector.store.rows import SessionSummary

COLUMNS: Columns = (
    ("session", "Session", 13), ("first", "First", 19), ("last", "Last", 8),
    ("requests", "Requests", 8), ("prompt", "Last prompt", 11), ("tokens", "All turns", 9),
    ("cost", "Cost", 8), ("growth", "Prompt growth", 16))


class SessionsTable(LineTable):
    """One row per session, keyed by session id, in the order given."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sessions: dict[str, SessionSummary] = {}

    @property
    def columns_spec(self) -> Columns:
        return COLUMNS

    def show(self, sessions: list[SessionSummary]) -> None:
        """Show these sessions, the cursor on the first."""
        self.sessions = {s.session_id: s for s in sessions}
        self.show_rows(list(self.sessions))

    def make_cells(self, key: str) -> list[Any]:
        s = self.sessions[key]
        return [
            Text(fmt.short_session(key, 12), style="magenta"),
            fmt.stamp(s.first_ts),
            fmt.clock(s.last_ts),
            Text(str(s.requests), justify="right"),
            Text(fmt.tokens(s.last_prompt), justify="right"),
            Text(fmt.tokens(s.all_tokens), justify="right"),
            Text(fmt.cost(s.cost_usd), justify="right"),
            Text(spark_text(list(s.prompt_tokens)), style="cyan"),
        ]
