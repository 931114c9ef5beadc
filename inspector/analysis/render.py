"""Rich renderables for the analysis commands: the attribution tree, stats tables, diffs.

Kept apart from the click commands so the app (or any other front end using rich) can
print the same views; nothing here reads the database.
"""

from __future__ import annotations

import re
from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

BAR_WIDTH = 20

# Terminal control characters (C0 but newline and tab, DEL, C1) and the bidirectional
# overrides that reorder what a terminal shows: stored text (a model name, a prompt, a
# header) comes from whoever sent the request and must never drive the user's terminal.
# A lone surrogate (valid in JSON, not in UTF-8) is shown as its escape too.
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE_LINE = re.compile(f"[{_UNSAFE}\n\t]")
_UNSAFE_TEXT = re.compile(f"[{_UNSAFE}]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return {10: "\\n", 9: "\\t"}.get(code) or (f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}")


def printable(value: Any, multiline: bool = False) -> str:
    """`value` as text that is safe to print to a terminal: control characters written
    as escapes (ESC becomes `\\x1b`); newlines and tabs kept only when `multiline`."""
    text = "" if value is None else str(value)
    return (_UNSAFE_TEXT if multiline else _UNSAFE_LINE).sub(_escaped, text)


def markup_safe(value: Any, multiline: bool = False) -> str:
    """`printable`, with rich markup escaped too, for strings rich parses as markup."""
    from rich.markup import escape

    return escape(printable(value, multiline))


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of `width` cells, filled to `fraction` (eighths of a cell)."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if part else ""
    return ("█" * full + partial).ljust(width)


def money(value: float | None) -> str:
    if value is None:
        return "unknown"
    if value == 0:
        return "$0"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def num(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


#: the longest label column `tree` draws; longer labels (file paths) are shortened
LABEL_MAX = 64


def _shorten(label: str, width: int) -> str:
    """`label` in at most `width` cells: a path keeps its end, anything else its start."""
    if len(label) <= width:
        return label
    if "/" in label:
        return "…" + label[-(width - 1):]
    return label[:width - 1] + "…"


Row = tuple[str, "dict[str, Any] | None", str, str]


def _tree_rows(root: dict[str, Any], depth: int | None) -> list[Row]:
    """(branch prefix, node or None for a "more below" line, label, " [kind]") in
    display order: children largest first."""
    rows: list[Row] = []

    def label_of(node: dict[str, Any]) -> tuple[str, str]:
        label = printable(node.get("label") or node.get("kind"))
        kind = node.get("kind")
        return label, (f" [{printable(kind)}]" if kind and kind != node.get("label") else "")

    def add(node: dict[str, Any], indent: str, level: int) -> None:
        children = sorted(node.get("children") or [],
                          key=lambda c: (-(c.get("tokens") or 0), c.get("label") or ""))
        if depth is not None and level >= depth:
            if children:
                rows.append((indent + "└── ", None, f"… {len(children)} more below", ""))
            return
        for i, child in enumerate(children):
            last = i == len(children) - 1
            rows.append((indent + ("└── " if last else "├── "), child, *label_of(child)))
            add(child, indent + ("    " if last else "│   "), level + 1)

    rows.append(("", root, *label_of(root)))
    add(root, "", 0)
    return rows


def attribution_tree(root: dict[str, Any], depth: int | None = None,
                     width: int | None = None) -> Group:
    """The tree of `tree ID`, one aligned row per node: the branch and label, tokens
    (`~` when estimated), percent of the prompt, a bar, and whether it was cached and
    its cost; children largest first; then how full the context window is. `width`
    (a terminal's) narrows the label column so rows fit; None draws it whole."""
    total = root.get("tokens") or 0
    rows = _tree_rows(root, depth)
    nodes = [row[1] for row in rows if row[1] is not None]
    tok_w = max(len(f"{n.get('tokens') or 0:,}") for n in nodes)
    # tokens, " tok", " ~", "  100.0% " and the bar; the extras may be cut at the edge
    fixed = tok_w + 4 + 2 + 9 + 12
    label_w = min(max(len(p) + len(label) + len(kind) for p, _, label, kind in rows), LABEL_MAX)
    if width is not None:
        label_w = max(min(label_w, width - fixed - 2), 24)
    lines: list[Any] = []
    for prefix, node, label, kind in rows:
        line = Text()
        line.append(prefix, style="dim")
        room = max(label_w - len(prefix), 8)
        if node is None:
            line.append(_shorten(label, room), style="dim")
            lines.append(line)
            continue
        shown = _shorten(label, max(room - len(kind), 4))
        line.append(shown, style="bold")
        line.append(kind, style="dim")
        line.append(" " * max(label_w - len(prefix) - len(shown) - len(kind), 0))
        tokens = node.get("tokens") or 0
        share = tokens / total if total else 0.0
        line.append(f"  {tokens:>{tok_w},} tok", style="cyan")
        line.append(" ~" if node.get("estimated") else "  ", style="yellow")
        line.append(f"  {share * 100:5.1f}% ")
        line.append(bar(share, 12), style="green")
        extras = []
        if node.get("cached"):
            extras.append("cached")
        meta = node.get("meta") or {}
        if meta.get("tool_count"):
            extras.append(f"{meta['tool_count']} tools")
        if isinstance(meta.get("cost_usd"), (int, float)):
            extras.append(money(meta["cost_usd"]))
        if meta.get("counted") == "api":
            extras.append("counted by the API")
        if isinstance(meta.get("context_claimed"), int):
            extras.append(f"/context said {meta['context_claimed']:,}")
        if extras:
            line.append("  " + ", ".join(extras), style="dim")
        lines.append(line)
    meta = root.get("meta") or {}
    window = meta.get("context_window")
    if isinstance(window, int) and window > 0:
        used = meta.get("used", total) or 0
        fullness = used / window
        line = Text("context window: ")
        line.append(f"{used:,} of {window:,} tokens ({fullness * 100:.1f}%) ")
        line.append(bar(fullness), style="red" if fullness > 0.8 else "green")
        lines.append(line)
    note = "~ estimated from content" if root.get("estimated") else \
        "exact total from usage; ~ marks estimated shares"
    exact = meta.get("exact")
    if isinstance(exact, dict):
        note += f"; {exact.get('parts', 0)} parts counted by the API"
        if exact.get("note"):
            note += f" ({printable(exact['note'])})"
    lines.append(Text(note, style="dim"))
    return Group(*lines)


def stats_table(result: dict[str, Any], wide: bool = True) -> Group:
    """The table of `stats`: one row per group, then the total. `wide` adds the parts of
    the prompt (input, cache read, cache write) as columns; `--json` always has them."""
    by = result["by"]
    parts_shown = wide and by != "source"
    table = Table(title=f"usage by {by}", title_justify="left", show_footer=True,
                  box=box.SIMPLE_HEAD, pad_edge=False)
    total = result["total"]
    longest = max((len(str(g["key"])) for g in result["groups"]), default=5)
    table.add_column(by, footer="total", min_width=min(max(longest, 5), 14),
                     overflow="fold", ratio=1)
    table.add_column("reqs", justify="right", no_wrap=True, footer=num(total["requests"]))
    table.add_column("prompt tok", justify="right", no_wrap=True, footer=num(total.get("prompt_tokens")))
    if by == "source":
        table.add_column("share", justify="right", no_wrap=True)
    if parts_shown:
        for name, label in (("input_tokens", "input"), ("cache_read_tokens", "cache read"),
                            ("cache_creation_tokens", "cache wr")):
            table.add_column(label, justify="right", no_wrap=True, footer=num(total.get(name)))
    table.add_column("output", justify="right", no_wrap=True, footer=num(total.get("output_tokens")))
    table.add_column("cost", justify="right", no_wrap=True, footer=money(total.get("cost")))
    if by != "source":
        table.add_column("cache hit", justify="right", no_wrap=True, footer=pct(total.get("cache_hit_ratio")))
    table.add_column("bad", justify="right", no_wrap=True,
                     footer=_rated(total))
    for g in result["groups"]:
        row = [markup_safe(g["key"]) if g["key"] is not None else "(none)", num(g["requests"]),
               num(g.get("prompt_tokens"))]
        if by == "source":
            row.append(pct(g.get("token_share")))
        if parts_shown:
            row += [num(g.get("input_tokens")), num(g.get("cache_read_tokens")),
                    num(g.get("cache_creation_tokens"))]
        row += [num(g.get("output_tokens")), money(g.get("cost"))]
        if by != "source":
            row.append(pct(g.get("cache_hit_ratio")))
        row.append(_rated(g))
        table.add_row(*row)
    parts: list[Any] = [table]
    unknown = total.get("cost_unknown_requests") or 0
    if unknown:
        parts.append(Text(f"{unknown} request(s) of a model without a known price: "
                          "their cost is unknown and not counted", style="yellow"))
    if by == "source":
        parts.append(Text("sources split the prompt tokens of requests with known usage; "
                          "(output) holds the output tokens and their cost", style="dim"))
    return Group(*parts)


def _rated(g: dict[str, Any]) -> str:
    rated = g.get("rated") or 0
    return f"{g.get('rated_bad') or 0}/{rated}" if rated else "—"


_CATEGORY_WORDS = {"system": "System prompt", "tool": "Tool", "mcp": "MCP server",
                   "memory": "Memory file", "skill": "Skill", "reminder": "Reminder",
                   "tool_result": "Tool results from", "history": "History"}
_WHOLE_WORDS = {"user": "Your messages", "memory": "Memory files", "skills": "Skills list",
                "agents": "Agent definitions", "image": "Images", "other": "Other content",
                "history:assistant": "Claude's earlier replies"}
_KIND_WORDS = {"tool_call": "tool calls", "thinking": "thinking", "assistant_text": "text",
               "mcp_tool": "tool definitions", "mcp_instructions": "instructions",
               "skill_body": "loaded in the conversation", "tool_result": "tool results",
               "tool": "tool definition"}


def describe_source(source: str, kind: str = "", tool: str = "") -> str:
    """A source of the prompt in words a user knows: "tool_call history:assistant" is
    "Claude's earlier replies: tool calls", "mcp_tool mcp:github" is "MCP server
    github: tool definitions", "system_block system:git_status" is "System prompt: git
    status"."""
    category, sep, name = source.partition(":")
    if source in _WHOLE_WORDS:
        words = _WHOLE_WORDS[source]
    elif sep and category in _CATEGORY_WORDS:
        if category == "system":
            name = name.replace("_", " ")
        joiner = ": " if category in ("system", "reminder", "history") else " "
        words = f"{_CATEGORY_WORDS[category]}{joiner}{name}"
    else:
        words = source.replace("_", " ")
    extra = ""
    if kind == "tool_result" and category == "mcp":
        short = tool.rsplit("__", 1)[-1] if tool else ""
        extra = f"results of {short}" if short else "tool results"
    elif kind == "tool" and source == "skills":
        return "The Skill tool"
    elif kind in _KIND_WORDS and not (
            (kind == "tool" and category == "tool") or (kind == "tool_result"
                                                        and category == "tool_result")):
        extra = _KIND_WORDS[kind]
    return f"{words}: {extra}" if extra else words


_STATUS_STYLE = {"added": "green", "grown": "yellow", "shrunk": "cyan", "dropped": "red",
                 "unchanged": "dim", "changed": "dim"}


def _tool_of(change: dict[str, Any]) -> str:
    """The tool named in a change's key ("source|kind|tool")."""
    return str(change.get("key") or "").rpartition("|")[2]


def diff_table(result: dict[str, Any], show_unchanged: bool = False) -> Group:
    """The table of `diff`: changed sources largest first, and the calibration note."""
    before, after = result.get("before_id", "?"), result.get("after_id", "?")
    table = Table(title=f"{before} → {after}", title_justify="left")
    for name, justify in (("change", "left"), ("source", "left"), ("before", "right"),
                          ("after", "right"), ("delta", "right")):
        table.add_column(name, justify=justify)
    hidden = 0
    for c in result["changes"]:
        if c["status"] == "unchanged" and not show_unchanged:
            hidden += 1
            continue
        style = _STATUS_STYLE.get(c["status"], "")
        words = describe_source(c.get("source") or c["label"], c.get("kind") or "",
                                _tool_of(c))
        table.add_row(Text(c["status"], style=style), Text(printable(words)),
                      num(c["before_tokens"]),
                      num(c["after_tokens"]), Text(f"{c['delta']:+,}", style=style))
    summary = Text(f"prompt: {result['before_total']:,} → {result['after_total']:,} tokens "
                   f"({result['after_total'] - result['before_total']:+,})")
    parts: list[Any] = [table, summary, Text(result.get("note", ""), style="dim")]
    if hidden:
        parts.append(Text(f"{hidden} unchanged source(s) not shown", style="dim"))
    return Group(*parts)
