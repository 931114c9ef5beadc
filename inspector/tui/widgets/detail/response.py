"""The Response tab: the reassembled answer, its stop reason, usage and cost."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from inspector.tui import format as fmt
from inspector.tui.widgets.detail.conversation import render_block


def usage_table(usage: dict[str, Any], cost: float | None) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(style="dim")
    table.add_column(justify="right", style="bold")
    names = (
        ("input_tokens", "input (uncached)"),
        ("cache_read_input_tokens", "cache read"),
        ("cache_read_tokens", "cache read"),
        ("cache_creation_input_tokens", "cache write"),
        ("cache_creation_tokens", "cache write"),
        ("output_tokens", "output"),
    )
    seen = set()
    for key, label in names:
        if key in usage and label not in seen and usage[key] is not None:
            seen.add(label)
            table.add_row(label, f"{usage[key]:,}")
    prompt = fmt.prompt_tokens({
        "input_tokens": usage.get("input_tokens"),
        "cache_read_tokens": usage.get("cache_read_input_tokens", usage.get("cache_read_tokens")),
        "cache_creation_tokens": usage.get("cache_creation_input_tokens",
                                           usage.get("cache_creation_tokens")),
    })
    if prompt is not None:
        table.add_row("prompt total", f"{prompt:,}")
    table.add_row("cost", fmt.cost(cost))
    return table


def render_response(response: Any, *, status: Any, stop_reason: Any, usage: dict[str, Any],
                    cost: float | None, error: Any, stream_complete: Any) -> RenderableType:
    head = Text()
    head.append("status ", style="dim")
    head.append_text(fmt.status(status if isinstance(status, int) else None, error=error))
    if stop_reason:
        head.append("   stop reason ", style="dim")
        head.append(str(stop_reason), style="bold")
    if stream_complete is False:
        head.append("   stream cut off before message_stop", style="bold red")
    if error:
        head.append(f"   {error}", style="red")
    parts: list[RenderableType] = [head, Text(), usage_table(usage, cost), Text()]
    if isinstance(response, dict) and isinstance(response.get("content"), list):
        tool_names: dict[str, str] = {}
        for block in response["content"]:
            parts.append(render_block(block, tool_names))
    elif isinstance(response, dict) and "error" in response:
        parts.append(Text(json.dumps(response["error"], indent=2), style="red"))
    elif response is not None:
        parts.append(Text(str(response)[:20000]))
    else:
        parts.append(Text("No response body was stored.", style="dim"))
    return Group(*parts)
