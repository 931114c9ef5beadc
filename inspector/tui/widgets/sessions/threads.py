"""One session as Claude Code lives it: the main conversation, the subagents it started
and its side calls (titles, topic and quota checks), each with its requests and cost."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from inspector.tui import format as fmt


def threads_text(tree: list[dict[str, Any]]) -> Text:
    text = Text()
    for g in tree:
        if text:
            text.append("\n")
        if g["kind"] == "main":
            text.append("main conversation", style="bold")
        elif g["kind"] == "agent":
            text.append("  └ subagent ", style="cyan")
            text.append(str(g["name"])[:24], style="bold cyan")
            if g.get("parent_id"):
                text.append(f"  started by {fmt.clock(g['first_ts'])} request "
                            f"{g['parent_id'][:10]}", style="dim")
        else:
            text.append(f"  · side call: {g['name']}", style="yellow")
        models = ", ".join(m.removeprefix("claude-") for m in g["models"])
        text.append(f"  {g['requests']} requests  {fmt.cost(g['cost_usd'])}  ")
        text.append(models, style="dim")
    return text


class SessionThreads(Static):
    """The highlighted session's main conversation, subagents and side calls."""

    DEFAULT_CSS = """
    SessionThreads { height: auto; max-height: 6; padding: 0 1; }
    """

    def show(self, tree: list[dict[str, Any]]) -> None:
        self.update(threads_text(tree))
