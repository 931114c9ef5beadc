"""The detail screen's header lines: the request in one line (id, rating, time, endpoint,
model, status, cost, session) and the findings about it."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from inspector.attribution.pricing import price_assumed
from inspector.tui import exchange_view as xv
from inspector.tui import format as fmt
from inspector.tui.widgets.findings.table import kind_text


def findings_text(findings: list[Any]) -> Text:
    text = Text()
    for i, f in enumerate(findings):
        if i:
            text.append("\n")
        text.append(" ")
        text.append_text(kind_text(f.kind))
        text.append(f"  {f.source}", style="bold")
        text.append(f"  {fmt.tokens(f.tokens)} tokens  {fmt.cost(f.cost_usd)}  ")
        text.append(f.detail, style="dim")
    return text


def latest_rating(ex: dict[str, Any]) -> dict[str, Any] | None:
    """The newest feedback entry that carries a rating (the one that counts)."""
    rated = [f for f in ex.get("feedback") or [] if f.get("rating") is not None]
    return rated[-1] if rated else None


def rating_text(feedback: dict[str, Any] | None) -> Text:
    """"rated good" / "rated bad: note" for the summary line; empty when unrated."""
    from inspector.analysis.ratings import rating_word

    text = Text()
    if not feedback:
        return text
    word = rating_word(feedback.get("rating")) or str(feedback.get("rating"))
    text.append(f"  rated {word}", style="bold green" if word == "good" else "bold red")
    note = (feedback.get("note") or "").strip()
    if note:
        text.append(f": {note[:40]}" + ("…" if len(note) > 40 else ""), style="italic")
    return text


def summary_line(ex: dict[str, Any]) -> Text:
    text = Text()
    text.append(f" {ex.get('id', '?')} ", style="bold reverse")
    text.append_text(rating_text(latest_rating(ex)))
    text.append(f"  {fmt.stamp(ex.get('ts'))}  ", style="dim")
    method, host, path = (xv.field(ex, k) or "" for k in ("method", "host", "path"))
    text.append(f"{method} {host}{fmt.endpoint(path)}  ")
    text.append(str(xv.field(ex, "model") or ""), style="bold")
    status = xv.field(ex, "status")
    text.append("  ")
    text.append_text(fmt.status(status if isinstance(status, int) else None,
                                error=xv.field(ex, "error")))
    cost = xv.field(ex, "cost_usd")
    if cost is not None:
        text.append(f"  {fmt.cost(cost)}", style="bold")
        if price_assumed(xv.field(ex, "model")):  # priced as its tier's newest known model
            text.append(" (price assumed)", style="yellow")
    session = xv.field(ex, "session_id")
    if session:
        text.append(f"  session {fmt.short_session(session)}", style="magenta")
    return text
