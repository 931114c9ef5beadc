"""The status bar: proxy state, capture counts and how to point Claude Code at the proxy.

Data down: the screen sets `state` (a ProxyState) and `counts`; the bar only renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from inspector.tui.format import AtLeast


@dataclass(frozen=True)
class ProxyState:
    """What the status bar says about the proxy."""

    #: "off" (browsing only, by choice), "starting", "listening", "failed"
    mode: str = "off"
    address: tuple[str, int] | None = None
    error: str | None = None
    recording: bool = True
    ca_path: str = ""
    #: the last certificate refusal, shown until dismissed
    cert_warning: str | None = None
    #: why captures are not being stored (the recorder or the database failed), shown
    #: until the recorder says it stores again
    recording_fault: str | None = None
    #: what the second line says when browsing only (default: other proxies' rows appear)
    browse_note: str | None = None

    @property
    def url(self) -> str | None:
        if self.address is None:
            return None
        host, port = self.address
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"


@dataclass(frozen=True)
class Counts:
    total: int = 0
    matching: int | None = None  # None: no filter
    window: tuple[int, int] = (0, 0)  # first and last row shown, 1-based
    filter_text: str = ""
    follow: bool = False
    extra: dict = field(default_factory=dict)


def connect_hints(state: ProxyState) -> list[str]:
    """Ways to point Claude Code at this proxy, longest (most complete) first."""
    if state.url is None:
        return ["claude-inspect run -- claude   (starts a proxy for one command)"]
    env = f"HTTPS_PROXY={state.url} NODE_EXTRA_CA_CERTS={state.ca_path} claude"
    reverse = f"ANTHROPIC_BASE_URL={state.url} claude"
    return [
        f"point Claude Code here: claude-inspect run -- claude  ·  {env}  ·  {reverse}",
        f"claude-inspect run -- claude  ·  {env}  ·  {reverse}",
        f"claude-inspect run -- claude  ·  {env}",
        f"{env}",
        f"claude-inspect run -- claude  ·  {reverse}",
        "claude-inspect run -- claude",
    ]


def connect_hint(state: ProxyState, width: int = 10_000) -> str:
    """The most complete hint that fits in `width` cells."""
    hints = connect_hints(state)
    return next((h for h in hints if len(h) <= width), hints[-1])


def quota_bars(quota: dict) -> Text:
    """"  │  5h ▰▰▱▱▱ 41%  7d ▰▱▱▱▱ 12%" from the latest quota headers."""
    text = Text()
    for window in ("5h", "7d"):
        try:
            used = float(quota.get(f"{window}_utilization"))
        except (TypeError, ValueError):
            continue
        filled = max(0, min(5, round(used * 5)))
        style = "red" if used >= 0.9 else "yellow" if used >= 0.7 else "green"
        text.append("  │  " if not text else "  ", style="dim")
        text.append(f"{window} ")
        text.append("▰" * filled, style=style)
        text.append("▱" * (5 - filled), style="dim")
        text.append(f" {used:.0%}")
    return text


class StatusBar(Static):
    """Two lines above the footer."""

    state: reactive[ProxyState] = reactive(ProxyState, always_update=True)
    counts: reactive[Counts] = reactive(Counts, always_update=True)

    def render(self) -> Text:
        state, counts = self.state, self.counts
        line = Text()
        if state.mode == "listening":
            if state.recording:
                line.append(" ● ", style="bold green")
                line.append(f"listening {state.url}")
            else:
                line.append(" ❚❚ ", style="bold yellow")
                line.append(f"paused (traffic still flows) {state.url}", style="yellow")
        elif state.mode == "starting":
            line.append(" ○ starting proxy…", style="dim")
        elif state.mode == "failed":
            line.append(" ✕ ", style="bold red")
            line.append(f"{state.error or 'proxy failed'}", style="red")
        else:
            line.append(" ○ browsing only (no proxy)", style="dim")
        line.append("  │  ", style="dim")
        line.append(f"{counts.total:,} captures", style="bold")
        if counts.matching is not None:
            shown = (str(counts.matching) if isinstance(counts.matching, AtLeast)
                     else f"{counts.matching:,}")
            line.append(f"  │  {shown} match ", style="bold cyan")
            line.append(counts.filter_text, style="cyan")
        first, last = counts.window
        if last and (first > 1 or last < (counts.matching if counts.matching is not None
                                           else counts.total)):
            line.append(f"  │  rows {first:,}-{last:,}", style="dim")
        if counts.follow:
            line.append("  │  follow", style="bold magenta")
        index = counts.extra.get("index")
        if index:  # captures stored before the search index: scanned until indexed
            indexed, stored = index
            line.append(f"  │  indexing for search {100 * indexed // max(stored, 1)}%",
                        style="yellow")
        quota = counts.extra.get("quota")
        if quota:
            line.append_text(quota_bars(quota))
        second = Text()
        if state.recording_fault:
            second.append(" ⚠ ", style="bold red")
            second.append(state.recording_fault, style="red")
        elif state.cert_warning:
            second.append(" ⚠ ", style="bold red")
            second.append(f"{state.cert_warning}: trust the CA, see `claude-inspect ca`",
                          style="red")
        elif state.mode in ("listening", "failed") or state.mode == "off":
            second.append(" ", style="")
            second.append(connect_hint(state, self.size.width - 2) if state.mode == "listening"
                          else state.browse_note or "another `claude-inspect proxy` may be "
                          "recording; new rows appear here within a second", style="dim")
        lines = Text("\n").join([line, second])
        lines.no_wrap = True
        lines.overflow = "ellipsis"
        return lines
