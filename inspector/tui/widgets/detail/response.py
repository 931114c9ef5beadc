"""The Response tab: the reassembled answer, its stop reason, usage and cost."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from inspector.analysis.caching import describe, request_effect
from inspector.attribution.pricing import cost_lines
from inspector.model import Usage
from inspector.tui import format as fmt
from inspector.tui.widgets.detail.conversation import render_block


def usage_table(usage: dict[str, Any], cost: float | None, model: Any = None) -> Table:
    """Each kind of token with what it cost at its rate, and the total: why the request
    cost what it did."""
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(style="dim")
    table.add_column(justify="right", style="bold")
    table.add_column(justify="right", style="dim")
    table.add_column(justify="right")
    parsed = _usage(usage)
    lines = cost_lines(model, parsed)
    if lines is None:  # no price known: the tokens alone
        for name, tokens in (("input (uncached)", parsed.input_tokens),
                             ("cache read", parsed.cache_read_input_tokens),
                             ("cache write", parsed.cache_creation_input_tokens),
                             ("output", parsed.output_tokens)):
            if tokens is not None:
                table.add_row(name, f"{tokens:,}", "", "")
    else:
        one_hour = any(line.name == "cache write 1h" and line.tokens for line in lines)
        for line in lines:
            if line.name == "cache write 1h" and not one_hour:
                continue
            name = "cache write" if line.name == "cache write 5m" and not one_hour else line.name
            table.add_row(name, f"{line.tokens:,}", f"× ${line.rate:g}/M",
                          _dollars(line.usd) if line.tokens else "")
    prompt = parsed.prompt_tokens
    if prompt is not None:
        table.add_row("prompt total", f"{prompt:,}", "", "")
    table.add_row("cost", "", "", Text(fmt.cost(cost), style="bold"))
    return table


def caching_line(usage: dict[str, Any], model: Any) -> Text | None:
    """What prompt caching saved on this request, or cost it, against the uncached
    price; None when it did neither (or the price is not known)."""
    effect = request_effect(model, _usage(usage))
    if effect is None or not any(effect):
        return None
    headline, detail = describe(*effect, _dollars)
    text = Text("  caching ", style="dim")
    text.append(headline, style="green" if effect[0] >= effect[1] else "yellow")
    text.append(f"  ({detail})", style="dim")
    return text


def _usage(usage: dict[str, Any]) -> Usage:
    """The API's usage object or the store's (their field names differ)."""
    if "cache_read_input_tokens" in usage or "cache_creation_input_tokens" in usage:
        return Usage.from_api(usage)
    return Usage.from_stored(usage)


def _dollars(usd: float) -> str:
    """As `fmt.cost`, with the digits a few tokens' price needs."""
    return fmt.cost(usd) if usd == 0 or abs(usd) >= 0.0001 else f"${usd:.6f}".rstrip("0")


def render_response(response: Any, *, status: Any, stop_reason: Any, usage: dict[str, Any],
                    cost: float | None, error: Any, stream_complete: Any,
                    model: Any = None) -> RenderableType:
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
    parts: list[RenderableType] = [head, Text(), usage_table(usage, cost, model)]
    caching = caching_line(usage, model)
    if caching is not None:
        parts.append(caching)
    parts.append(Text())
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
