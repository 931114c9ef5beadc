"""The Headers tab: request and response headers, as stored (secrets already redacted)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text


def headers_table(title: str, headers: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=None,
                  show_header=False, padding=(0, 2), expand=False)
    table.add_column(style="cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in headers:
        table.add_row(name, Text(value, style="dim" if "redacted" in value.lower() else ""))
    if not headers:
        table.add_row("(none stored)", "")
    return table


def render_headers(request: list[tuple[str, str]], response: list[tuple[str, str]]) -> RenderableType:
    return Group(headers_table("Request", request), Text(), headers_table("Response", response))
