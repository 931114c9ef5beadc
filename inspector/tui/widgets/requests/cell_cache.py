"""Cells rendered once per content, not once per change of the table.

Textual's DataTable keys its cell cache on a counter that every change bumps (a row
added, a cell updated, a sort), so one new capture at the top of a newest-first table
re-renders every visible cell through rich: about 500 cells, most of the app's CPU per
capture. `StableCells` keeps each cell's lines by what they depend on (row, column, the
row's own version, style, width, cursor and hover) and only moves the row index in their
mouse metadata when rows shift. Relies on DataTable internals of the pinned textual.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style

#: cells kept before the cache starts over (a window of 300 rows x 12 columns, twice)
MAX_CELLS = 8000


class StableCells:
    """Mixed into a DataTable: call `changed(row_key)` whenever a row's cells change."""

    _versions: dict[Any, int]
    _stable: dict[tuple, Any]

    def changed(self, row_key: Any) -> None:
        versions = self.__dict__.setdefault("_versions", {})
        versions[row_key] = versions.get(row_key, 0) + 1

    def forget_cells(self) -> None:
        self.__dict__["_versions"] = {}
        self.__dict__["_stable"] = {}

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> Any:
        render = super()._render_cell  # type: ignore[misc]
        if row_index < 0 or column_index < 0:  # headers and labels: as Textual does
            return render(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)  # type: ignore[attr-defined]
        column_key = self._column_locations.get_key(column_index)  # type: ignore[attr-defined]
        stable = self.__dict__.setdefault("_stable", {})
        versions = self.__dict__.setdefault("_versions", {})
        key = (row_key, column_key, versions.get(row_key, 0), base_style, width, cursor,
               hover, self._show_hover_cursor, self._pseudo_class_state)  # type: ignore[attr-defined]
        found = stable.get(key)
        if found is not None and found[0] == row_index:
            return found[1]
        if found is None:
            lines = render(row_index, column_index, base_style, width, cursor, hover)
        else:  # the same cell, moved: only its row in the mouse metadata changes
            meta = Style.from_meta({"row": row_index, "column": column_index})
            lines = [[Segment(s.text, s.style + meta if s.style else meta, s.control)
                      for s in line] for line in found[1]]
        if len(stable) >= MAX_CELLS:
            stable.clear()
        stable[key] = (row_index, lines)
        return lines
