"""What the requests table shows of a row: its columns and the cells of a request.

Pure: a `RequestRow` in, rich `Text` cells out; the table (table.py) lays them out.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.text import Text

from inspector.tui import format as fmt

if TYPE_CHECKING:
    from inspector.store.rows import RequestRow

#: (column key, header, width). Fixed widths: nothing to measure on 200 rows, and a row
#: that arrives later never finds its column too narrow.
COLUMNS = (
    ("mark", "!", 1),
    ("time", "Time", 11),
    ("session", "Session", 8),
    ("model", "Model", 10),
    ("endpoint", "Endpoint", 13),
    ("status", "Status", 6),
    ("stream", "S", 1),
    ("prompt", "Prompt tokens", 20),
    ("output", "Out", 6),
    ("cost", "Cost", 7),
    ("latency", "Latency", 7),
    ("source", "Largest source", 26),
)


#: the same for terminals narrower than WIDE: no endpoint or stream mark, the cached part
#: of the prompt as a share
COMPACT_COLUMNS = (
    ("mark", "!", 1),
    ("time", "Time", 11),
    ("session", "Session", 8),
    ("model", "Model", 10),
    ("status", "Status", 6),
    ("prompt", "Prompt", 13),
    ("output", "Out", 5),
    ("cost", "Cost", 7),
    ("latency", "Took", 6),
    ("source", "Largest source", 12),
)
WIDE = 128

#: the marker of a request with a finding, by kind (the first kind listed wins)
MARKS = {
    "cache_break": ("✖", "bold red"),
    "large_tool_result": ("▲", "yellow"),
    "repeated_read": ("↻", "yellow"),
    "compaction": ("⇊", "cyan"),
    "truncation": ("…", "red"),
}


def mark_cell(kind: str | None) -> Text:
    symbol, style = MARKS.get(kind or "", (" ", ""))
    return Text(symbol, style=style)


def row_cells(row: RequestRow, compact: bool = False, now: float | None = None,
              mark: str | None = None) -> list[Any]:
    """The table cells of one request row; `now` (epoch seconds, default the wall clock)
    decides which rows show their date; `mark` is the kind of finding it has, if any."""
    in_progress = row.pending
    time_cell = Text(fmt.when(row.ts, time.time() if now is None else now))
    if row.stream and row.stream_complete is False and not in_progress:
        stream_cell = Text("✂", style="bold red")  # cut off before message_stop
    else:
        stream_cell = Text("≋" if row.stream else " ", style="cyan")
    source: Any = row.top_source or ""
    if row.error and not source:
        source = Text(str(row.error)[:40], style="red")
    prompt = row.prompt_tokens
    cells = [
        mark_cell(mark),
        time_cell,
        Text(fmt.short_session(row.session_id), style="magenta"),
        fmt.short_model(row.model),
        endpoint_cell(row.method, row.path),
        fmt.status(row.status, error=row.error, in_progress=in_progress),
        stream_cell,
        fmt.prompt_cell(prompt, row.cache_read_tokens),
        Text(fmt.tokens(row.output_tokens), justify="right"),
        Text(fmt.cost(row.cost_usd), justify="right"),
        Text("live…" if in_progress else fmt.ms(row.total_ms),
             style="italic cyan" if in_progress else ""),
        source,
    ]
    if compact:
        cached = row.cache_read_tokens or 0
        prompt_cell = Text(fmt.tokens(prompt), style="" if prompt is not None else "dim")
        if prompt and cached:
            prompt_cell.append(f" {100 * cached // prompt}%c", style="dim")
        # mark, time, session, model, status, prompt, out, cost, latency, source
        return [cells[0], cells[1], cells[2], cells[3], cells[5], prompt_cell, cells[8],
                cells[9], cells[10], cells[11]]
    return cells


def endpoint_cell(method: str | None, path: str | None) -> str:
    """"/v1/messages" for the usual POST; other methods are named ("HEAD /")."""
    path = fmt.endpoint(path)
    if method and method != "POST":
        return f"{method} {path}"
    return path
