"""Small pure formatters shared by the app's widgets: numbers, money, times, status.

Kept apart from the widgets so the same look (e.g. "12.3k" tokens) is used everywhere and
can be tested without Textual.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text


def tokens(n: int | float | None) -> str:
    """12 -> "12", 12345 -> "12.3k", 1_234_567 -> "1.23M", None -> "-"."""
    if n is None:
        return "-"
    n = float(n)
    if abs(n) < 1000:
        return f"{n:.0f}"
    if abs(n) < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.2f}M"


def cost(usd: float | None) -> str:
    """Dollars with enough digits to tell small requests apart; "-" when unknown."""
    if usd is None:
        return "-"
    if usd == 0:
        return "$0"
    if usd < 0.01:
        return f"${usd:.4f}"
    if usd < 10:
        return f"${usd:.3f}"
    return f"${usd:,.2f}"


def ms(value: float | None) -> str:
    """Milliseconds as "840ms" or "12.4s"."""
    if value is None:
        return "-"
    if value < 10:
        return f"{value:.1f}ms"
    if value < 1000:
        return f"{value:.0f}ms"
    return f"{value / 1000:.1f}s"


def parse_ts(ts: str | None) -> datetime | None:
    """A stored UTC ISO timestamp as an aware datetime (None if missing or odd)."""
    if not ts:
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None


def clock(ts: str | None, *, local: bool = True) -> str:
    """"22:15:37" in local time (the table's time column)."""
    dt = parse_ts(ts)
    if dt is None:
        return "-"
    if local:
        dt = dt.astimezone()
    return dt.strftime("%H:%M:%S")


def when(ts: str | None, now: float) -> str:
    """The table's time column, local time: "22:15:37" for a capture of the day of `now`
    (an epoch time, the app's clock), "11-24 22:15" for any other day, so rows of
    different days never look out of order."""
    dt = parse_ts(ts)
    if dt is None:
        return "-"
    dt = dt.astimezone()
    if dt.date() == datetime.fromtimestamp(now).astimezone().date():
        return dt.strftime("%H:%M:%S")
    return dt.strftime("%m-%d %H:%M")


def stamp(ts: str | None) -> str:
    """"2026-11-24 22:15:37" in local time."""
    dt = parse_ts(ts)
    if dt is None:
        return "-"
    return dt.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def status(code: int | None, *, error: str | None = None, in_progress: bool = False) -> Text:
    """The status cell: green 2xx, yellow 4xx (red 429/5xx), dim "…" while in flight."""
    if in_progress:
        return Text("…", style="italic cyan")
    if code is None:
        return Text("ERR" if error else "-", style="bold red" if error else "dim")
    style = "green"
    if code >= 500 or code == 429:
        style = "bold red"
    elif code >= 400:
        style = "yellow"
    elif code >= 300:
        style = "cyan"
    return Text(str(code), style=style)


def short_session(session_id: str | None, width: int = 8) -> str:
    """The distinctive part of a session id (Claude Code's carry a long prefix)."""
    if not session_id:
        return "-"
    tail = session_id.rsplit("_session_", 1)[-1]
    return tail[:width]


def short_model(model: str | None) -> str:
    """"claude-sonnet-4-5-20250929" -> "sonnet-4-5"."""
    if not model:
        return "-"
    name = model.removeprefix("claude-")
    head, _, tail = name.rpartition("-")
    if tail.isdigit() and len(tail) == 8:
        name = head
    return name


def endpoint(path: str | None) -> str:
    """Path without its query string: "/v1/messages?beta=true" -> "/v1/messages"."""
    if not path:
        return "-"
    return path.split("?", 1)[0]


def percent(part: float, whole: float) -> str:
    if not whole:
        return "  -  "
    return f"{100.0 * part / whole:4.1f}%"


def bar(part: float, whole: float, width: int = 12) -> str:
    """A horizontal bar of eighths, for shares in the attribution tree."""
    if not whole or width <= 0:
        return " " * width
    frac = max(0.0, min(1.0, part / whole))
    eighths = round(frac * width * 8)
    full, rest = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[rest] if rest else ""
    return ("█" * full + partial).ljust(width)


def prompt_tokens(row: dict[str, Any]) -> int | None:
    """input + cache read + cache creation of a request row, None when unknown."""
    if row.get("input_tokens") is None:
        return None
    return (
        (row.get("input_tokens") or 0)
        + (row.get("cache_read_tokens") or 0)
        + (row.get("cache_creation_tokens") or 0)
    )


def prompt_cell(total: int | None, cached: int | None) -> Text:
    """"48.2k (45.1k cached)" with the cached part dimmed."""
    if total is None:
        return Text("-", style="dim")
    text = Text(tokens(total))
    if cached:  # the blank undimmed: some SVG viewers shrink a run's leading blank
        text.append(" ")
        text.append(f"({tokens(cached)} cached)", style="dim")
    return text


def database_problem(path: Any, error: BaseException) -> str:
    """One line on why the database at `path` cannot be read, and what to do."""
    import sqlite3

    name = str(path)
    if isinstance(error, sqlite3.DatabaseError) and "not a database" in str(error):
        return (f"{name} is not a claude-inspect database ({error}): "
                "open another with --db, or move it away")
    if isinstance(error, sqlite3.DatabaseError):
        return f"{name} cannot be read ({error}): open another with --db"
    if isinstance(error, OSError):
        return f"{name} cannot be read ({error.strerror or error})"
    return f"{name} cannot be read ({type(error).__name__}: {error})"


class AtLeast(int):
    """A count known only from below: a text search stops at the page it shows, since
    counting every match of a common word reads every body (seconds on 100k)."""

    def __str__(self) -> str:
        return f"{int(self) - 1:,}+"
