"""The Diff tab: what changed since the previous request of the session, source by
source (added, grown, shrunk, dropped, with token deltas, largest first), and whether the
figures are calibrated to the exact usage totals."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from inspector.analysis.render import describe_source, printable
from inspector.tui import format as fmt

STATUS_STYLE = {"added": "bold green", "grown": "green", "shrunk": "yellow",
                "dropped": "bold red", "unchanged": "dim", "changed": "dim"}
STATUS_MARK = {"added": "+", "grown": "▲", "shrunk": "▼", "dropped": "−", "unchanged": "=",
               "changed": "~"}


def change_words(change: dict[str, Any]) -> str:
    """What changed, in words a user knows ("MCP server github: tool definitions"),
    not the internal "mcp_tool mcp:github"."""
    source = change.get("source") or change.get("label") or change.get("key") or "?"
    tool = str(change.get("key") or "").rpartition("|")[2]
    return printable(describe_source(str(source), str(change.get("kind") or ""), tool))


def first_request_text(capture_id: str) -> Text:
    text = Text()
    text.append("First request of the session", style="bold")
    text.append(f"\n\n{capture_id} has no earlier request in its session to compare with: "
                "everything in its context is new. The Context tab shows what it holds.",
                style="dim")
    return text


def delta_text(delta: int, status: str) -> Text:
    """Coloured by direction (a group's status follows its characters, which can move
    the other way than its calibrated token delta)."""
    style = "dim" if delta == 0 else "green" if delta > 0 else "yellow"
    if status in ("added", "dropped"):
        style = STATUS_STYLE[status]
    return Text(f"{delta:+,}", style=style, justify="right")


def tokens_cell(tokens: int | None, absent: bool) -> Text:
    """A side's tokens; "-" only where the group does not exist on that side."""
    return Text("-", style="dim") if absent else Text(fmt.tokens(tokens or 0))


def render_diff(result: dict[str, Any], show_unchanged: bool = False) -> RenderableType:
    """The tab's body from a `diff_exchanges` result."""
    before, after = result.get("before_id", "?"), result.get("after_id", "?")
    b_total, a_total = result.get("before_total") or 0, result.get("after_total") or 0
    head = Text()
    head.append("Since the previous request ", style="bold")
    head.append(str(before), style="bold magenta")
    head.append(f"  →  {after}", style="dim")
    head.append("\nprompt ")
    head.append(f"{b_total:,} → {a_total:,} tokens ", style="bold")
    head.append(f"({a_total - b_total:+,})",
                style="green" if a_total >= b_total else "yellow")
    calibrated = result.get("calibrated_new_tokens")
    note = Text(result.get("note") or "",
                style="cyan" if calibrated is not None else "dim")
    if calibrated is not None:
        note = Text.assemble(("calibrated: ", "bold cyan"), note)

    changes = result.get("changes") or []
    moving = [c for c in changes if show_unchanged or c.get("status") != "unchanged"]
    hidden = len(changes) - len(moving)
    largest = max((abs(c.get("delta") or 0) for c in moving), default=0) or 1
    table = Table(box=None, padding=(0, 1), expand=False, header_style="bold")
    table.add_column("change", no_wrap=True)
    table.add_column("source", overflow="ellipsis", max_width=60, no_wrap=True)
    table.add_column("before", justify="right", no_wrap=True)
    table.add_column("after", justify="right", no_wrap=True)
    table.add_column("delta", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for c in moving:
        status = c.get("status") or ""
        style = STATUS_STYLE.get(status, "")
        delta = delta_text(c.get("delta") or 0, status)
        shown = status
        table.add_row(
            Text(f"{STATUS_MARK.get(shown, '~')} {shown}", style=style),
            Text(change_words(c)),
            tokens_cell(c.get("before_tokens"), status == "added"),
            tokens_cell(c.get("after_tokens"), status == "dropped"),
            delta,
            Text(fmt.bar(abs(c.get("delta") or 0), largest, 12).rstrip(), style=delta.style),
        )
    parts: list[RenderableType] = [head, note, Text("")]
    if moving:
        parts.append(table)
    else:
        parts.append(Text("No source changed.", style="dim"))
    if hidden:
        parts.append(Text(f"\n{hidden} unchanged source(s) not shown (u: show them)",
                          style="dim"))
    return Group(*parts)
