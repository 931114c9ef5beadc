"""The Stats view's table of groups (sources, models, days or sessions), drawn a line at
a time: a screen of groups costs the lines that show, not a DataTable's cell maps."""

from __future__ import annotations

from typing import Any

from inspector.tui.widgets.line_table import Columns, LineTable
from inspector.tui.widgets.stats import figures

#: (key, label, width) of the table's columns; they fit in 100 columns (the cache parts
#: are in the total line)
COLUMNS: Columns = (
    ("group", "Group", 24), ("requests", "Requests", 8), ("prompt", "Prompt", 8),
    ("output", "Output", 7), ("cost", "Cost", 9), ("hit", "Cache hit", 9),
    ("share", "Share", 6), ("bad", "Rated bad", 10))


class GroupsTable(LineTable):
    """One row per group of a `compute_stats` result, in the result's order."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.groups: list[dict[str, Any]] = []
        self.by = "source"

    @property
    def columns_spec(self) -> Columns:
        return COLUMNS

    def show(self, groups: list[dict[str, Any]], by: str) -> None:
        """Show these groups, the cursor on the first."""
        self.groups, self.by = list(groups), by
        self.show_rows([str(i) for i in range(len(self.groups))])

    def make_cells(self, key: str) -> list[Any]:
        return list(figures.row_cells(self.groups[int(key)], self.by))
