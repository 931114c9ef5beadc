"""Pure shaping of `compute_stats` results for the Stats view: table cells, the per-day
series (gaps filled with zeros, so a quiet day shows as a dip rather than vanishing) and
the top-N lists. Kept apart from the widgets so it can be tested without Textual."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from rich.text import Text

from inspector.tui import format as fmt

#: the periods offered, as (key, label, seconds or None for all time)
PERIODS = (("1d", "last 24 hours", 86400.0), ("7d", "last 7 days", 7 * 86400.0),
           ("30d", "last 30 days", 30 * 86400.0), ("all", "all time", None))
GROUPINGS = ("source", "model", "day", "session")
OUTPUT_GROUP = "(output)"


def period_seconds(key: str) -> float | None:
    for k, _label, seconds in PERIODS:
        if k == key:
            return seconds
    raise ValueError(f"unknown period {key!r}")


def period_label(key: str) -> str:
    return next(label for k, label, _s in PERIODS if k == key)


def share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}" if value >= 0.01 or value == 0 else "<1%"


def bad_cell(group: dict[str, Any]) -> Text:
    """"33% of 3" (bad share of the rated requests); "-" when none was rated."""
    rated = group.get("rated") or 0
    if not rated:
        return Text("-", style="dim", justify="right")
    bad = group.get("bad_share") or 0.0
    return Text(f"{bad:.0%} of {rated}", style="red" if bad else "green", justify="right")


def group_label(key: Any, by: str, width: int = 30) -> Text:
    """How a group's key reads in the table (sessions short, models without dates)."""
    if key is None:
        return Text("(none)", style="dim")
    if by == "session":
        return Text(fmt.short_session(str(key), 12), style="magenta")
    if by == "model":
        return Text(fmt.short_model(str(key)))
    text = str(key)
    if key == OUTPUT_GROUP:
        return Text(text, style="dim italic")
    return Text(text if len(text) <= width else text[:width - 1] + "…")


def row_cells(group: dict[str, Any], by: str) -> tuple[Text, ...]:
    """Cells of one group: label, requests, prompt, output, cost, hit, share, bad."""
    right = {"justify": "right"}
    hit = group.get("cache_hit_ratio")
    return (
        group_label(group.get("key"), by, 24),
        Text(f"{group.get('requests') or 0:,}", **right),
        Text(fmt.tokens(group.get("prompt_tokens")), **right),
        Text(fmt.tokens(group.get("output_tokens")), **right),
        Text(fmt.cost(group.get("cost")), style="bold", **right),
        Text(share(hit), **right),
        Text(share(group.get("token_share")), **right),
        bad_cell(group),
    )


def daily_series(day_groups: list[dict[str, Any]], last_day: str | None = None,
                 first_day: str | None = None) -> tuple[list[str], list[float], list[float]]:
    """(days, tokens, cost) per day from a `by="day"` result's groups, oldest first, with
    days without requests filled in as zeros (from `first_day`, the period's start, up to
    `last_day`, e.g. today)."""
    by_day = {g["key"]: g for g in day_groups if g.get("key")}
    if not by_day:
        return [], [], []
    first = date.fromisoformat(min([*by_day, first_day] if first_day else by_day))
    last = date.fromisoformat(max([*by_day, last_day] if last_day else by_day))
    days, tokens, cost = [], [], []
    day = first
    while day <= last:
        key = day.isoformat()
        g = by_day.get(key, {})
        days.append(key)
        tokens.append(float((g.get("prompt_tokens") or 0) + (g.get("output_tokens") or 0)))
        cost.append(float(g.get("cost") or 0.0))
        day += timedelta(days=1)
    return days, tokens, cost


def top_lines(groups: list[dict[str, Any]], by: str, n: int = 5,
              width: int = 24) -> Text:
    """The top `n` groups (sources by prompt tokens, sessions by cost) with a share bar."""
    shown = [g for g in groups if g.get("key") != OUTPUT_GROUP]
    if by == "session":
        shown.sort(key=lambda g: (-(g.get("cost") or 0), -(g.get("prompt_tokens") or 0)))
    else:
        shown.sort(key=lambda g: -(g.get("prompt_tokens") or 0))
    shown = shown[:n]
    text = Text()
    if not shown:
        text.append("nothing in this period", style="dim")
        return text
    # the bar shows what the list is ranked by
    measure = "cost" if by == "session" else "prompt_tokens"
    biggest = max((g.get(measure) or 0) for g in shown) or 1
    for i, g in enumerate(shown):
        if i:
            text.append("\n")
        label = group_label(g.get("key"), by, width)
        label.truncate(width, pad=True)
        text.append_text(label)
        text.append(" " + fmt.bar(g.get(measure) or 0, biggest, 10),
                    style="yellow" if by == "session" else "cyan")
        text.append(f" {fmt.tokens(g.get('prompt_tokens')):>7}")
        text.append(f" {fmt.cost(g.get('cost')):>8}", style="bold")
    return text


def total_line(result: dict[str, Any], period: str) -> Text:
    """One line under the table: the period's totals."""
    t = result.get("total") or {}
    text = Text()
    text.append(f" Total, {period_label(period)}: ", style="bold")
    text.append(f"{t.get('requests') or 0:,} requests  ")
    text.append(f"prompt {fmt.tokens(t.get('prompt_tokens'))}")
    text.append(f" (input {fmt.tokens(t.get('input_tokens'))}, cache read "
                f"{fmt.tokens(t.get('cache_read_tokens'))}, cache write "
                f"{fmt.tokens(t.get('cache_creation_tokens'))})", style="dim")
    text.append(f"  output {fmt.tokens(t.get('output_tokens'))}  ")
    text.append(f"cost {fmt.cost(t.get('cost'))}", style="bold")
    if t.get("cost_unknown_requests"):
        text.append(f" ({t['cost_unknown_requests']} at unknown prices)", style="yellow")
    hit = t.get("cache_hit_ratio")
    if hit is not None:
        text.append(f"  cache hit {share(hit)}")
    saved, extra = t.get("cache_saved_usd"), t.get("cache_write_extra_usd")
    if saved is not None or extra is not None:
        text.append(f"  caching saved {fmt.cost((saved or 0) - (extra or 0))}", style="green")
        text.append(f" (reads {fmt.cost(saved or 0)}, writes cost {fmt.cost(extra or 0)})",
                    style="dim")
    if t.get("rated"):
        text.append(f"  rated {t['rated']}, bad {share(t.get('bad_share'))}")
    return text


def filter_for(key: Any, by: str) -> str | None:
    """The requests table's filter that shows a group's requests (None: no such filter,
    e.g. the output group)."""
    if key is None or key == OUTPUT_GROUP:
        return None
    key = str(key)
    if by == "day":
        end = (date.fromisoformat(key) + timedelta(days=1)).isoformat()
        return f"since:{key}T00:00:00Z until:{end}T00:00:00Z"
    term = {"source": "source", "model": "model", "session": "session"}[by]
    value = f'"{key}"' if any(c.isspace() for c in key) else key
    return f"{term}:{value}"
