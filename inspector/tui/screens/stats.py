"""Stats: usage and cost over a period, grouped by source, model, day or session (the
figures of `claude-inspect stats`), with tokens and cost per day and the top sources and
sessions.

Every figure comes from `compute_stats` in a thread worker (SQLite does the summing; a
period of 100k captures takes a few tenths of a second). The groupings are computed one at
a time, the table's own first, and each part of the view is painted as soon as its
grouping is known: the table does not wait for the plots (by day) or the top sources and
sessions. Results are kept per period and grouping, so switching back and forth does not
ask again; `r` does.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

from rich.text import Text
from textual import on, work
from textual.worker import get_current_worker
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static

from inspector.tui import format as fmt
from inspector.tui.errors import guarded
from inspector.tui.widgets.sessions.growth import BarChart
from inspector.tui.widgets.stats import figures
from inspector.tui.widgets.stats.groups_table import GroupsTable
from inspector.tui.widgets.footer import KeysFooter


class StatsLoaded(Message):
    """Results of one period: `results[by]` for the grouping(s) just computed."""

    def __init__(self, period: str, results: dict[str, dict[str, Any] | None],
                 seconds: float) -> None:
        super().__init__()
        self.period = period
        self.results = results
        self.seconds = seconds


class StatsNotice(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class StatsScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("1", "period('1d')", "1 day"),
        Binding("7", "period('7d')", "7 days"),
        Binding("3", "period('30d')", "30 days"),
        Binding("a", "period('all')", "All time"),
        Binding("g", "next_grouping", "Group by"),
        Binding("enter", "open", "Requests", priority=True),
        Binding("r", "reload", "Reload", show=False),
    ]

    #: shortest time between two refreshes caused by new captures (seconds)
    REFRESH_GAP = 2.0

    def __init__(self, backend: Any, period: str = "7d", by: str = "source") -> None:
        super().__init__()
        self.backend = backend
        self.period = period
        self.by = by
        #: (period, grouping) -> compute_stats result (None: nothing stored yet)
        self.results: dict[tuple[str, str], dict[str, Any] | None] = {}
        self.last_seconds: float | None = None
        self._refresh_timer = None
        #: the groups in the table's order
        self.shown: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="stats-title")
        yield GroupsTable(id="stats-groups")
        yield Static("", id="stats-total")
        with Horizontal(id="stats-bottom"):
            with Vertical(id="stats-plots"):
                yield Static("Tokens per day", id="stats-tokens-caption", classes="caption")
                yield BarChart(id="stats-tokens")
                yield Static("Cost per day", id="stats-cost-caption", classes="caption")
                yield BarChart(id="stats-cost")
            with Vertical(id="stats-tops"):
                yield Static("Top sources", classes="caption")
                yield Static("", id="stats-top-sources")
                yield Static("Top sessions", classes="caption")
                yield Static("", id="stats-top-sessions")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(GroupsTable).focus()
        self._reload()

    # -- loading ---------------------------------------------------------------------
    def _reload(self, *, quiet: bool = False, force: bool = False) -> None:
        """Show what the shown period needs: figures kept from before (see stats_memo) at
        once, then whatever is missing or out of date, computed in a worker. `quiet`:
        keep showing the old figures meanwhile (a refresh, not a new question); `force`:
        compute everything again."""
        self._show_title()
        groupings = tuple(dict.fromkeys((self.by, "day", "source", "session")))
        memo = self.backend.stats_memo
        for by in groupings:
            kept = memo.get(self.period, by)
            if (self.period, by) not in self.results and kept is not None and not force:
                self.results[(self.period, by)] = kept.result
        if (self.period, self.by) in self.results:
            self._show()  # the table's grouping is known: show it, the rest follows
        elif not quiet:
            self.query_one(GroupsTable).loading = True
        self._load(self.period, groupings, force)

    def captures_changed(self) -> None:
        """New captures are stored: compute the figures again, at most every
        REFRESH_GAP seconds (a busy proxy stores many a second)."""
        if self._refresh_timer is None:
            self._refresh_timer = self.set_timer(self.REFRESH_GAP, self._refresh_now)

    def _refresh_now(self) -> None:
        self._refresh_timer = None
        # each part keeps its old figures until its new ones arrive
        self.results.clear()
        self._reload(quiet=True)

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def _load(self, period: str, groupings: tuple[str, ...], force: bool = False) -> None:
        """Each grouping of `period`, the table's first, one message each: kept figures
        that are current as they are, others computed (and kept)."""
        start = time.perf_counter()

        def notice(n: int) -> None:
            self.post_message(StatsNotice(
                f"Summing {n:,} captures stored before the stats tables existed "
                "(once; later views are fast)…"))

        worker = get_current_worker()
        memo = self.backend.stats_memo
        seq = self.backend.seq()
        for by in groupings:
            if worker.is_cancelled:
                return  # another period or grouping was asked for
            result = memo.figures(self.backend, period, by, self.app.clock(), seq, notice,
                                  force)
            self.post_message(StatsLoaded(period, {by: result}, time.perf_counter() - start))

    def on_stats_notice(self, message: StatsNotice) -> None:
        self.notify(message.text, title="Stats", timeout=6)

    @guarded
    def on_stats_loaded(self, message: StatsLoaded) -> None:
        for by, result in message.results.items():
            self.results[(message.period, by)] = result
        self.last_seconds = message.seconds
        if message.period != self.period:
            return
        if self.by in message.results:
            self._show()
            return
        if "day" in message.results:
            self._show_plots()
        self._show_tops()

    # -- showing ---------------------------------------------------------------------
    def _show_title(self) -> None:
        text = Text()
        text.append(f" Usage and cost, {figures.period_label(self.period)}", style="bold")
        text.append(f", by {self.by}", style="bold cyan")
        text.append("   ", style="dim")
        for key, _label, _s in figures.PERIODS:
            text.append(f" {key} ", style="reverse" if key == self.period else "dim")
        text.append("   g: ", style="dim")
        for by in figures.GROUPINGS:
            text.append(f" {by} ", style="reverse" if by == self.by else "dim")
        self.query_one("#stats-title", Static).update(text)

    def _show(self) -> None:
        self._show_title()
        result = self.results.get((self.period, self.by))
        if (self.period, self.by) not in self.results:
            return  # still loading
        table = self.query_one(GroupsTable)
        table.loading = False
        self.shown = list(result["groups"]) if result and result.get("groups") else []
        table.show(self.shown, self.by)
        if not self.shown:
            self.query_one("#stats-total", Static).update(Text(
                f" No requests in the {figures.period_label(self.period)}"
                + ("" if self.period == "all" else "  (a: all time)"), style="dim"))
        else:
            self.query_one("#stats-total", Static).update(
                figures.total_line(result, self.period))
        self._show_plots()
        self._show_tops()
        # the table's own Enter binding counts only once it has rows: let the footer see it
        self.refresh_bindings()

    def _show_plots(self) -> None:
        if (self.period, "day") not in self.results:
            return  # on its way; the old plots stay meanwhile
        days_result = self.results.get((self.period, "day")) or {}
        # a period that ends now plots its quiet last days too; all time ends at the last
        # capture
        today = first = None
        if self.period != "all":
            now = datetime.fromtimestamp(self.app.clock(), timezone.utc)
            today = now.date().isoformat()
            seconds = figures.period_seconds(self.period) or 0.0
            first = (now - timedelta(seconds=seconds)).date().isoformat()
        days, tokens, cost = figures.daily_series(days_result.get("groups") or [], today,
                                                  first)
        # one day is one number, not a plot: the captions say it
        for widget, series in (("#stats-tokens", tokens), ("#stats-cost", cost)):
            spark = self.query_one(widget, BarChart)
            spark.data = series
            spark.display = len(series) > 1
        span = ""
        if len(days) == 1:
            span = f"  {days[0]} (UTC)"
        elif days:
            span = f"  {days[0][5:]} → {days[-1][5:]} ({len(days)} days, UTC)"
        word = "max" if len(days) > 1 else "on one day:"
        self.query_one("#stats-tokens-caption", Static).update(Text.assemble(
            ("Tokens per day", "bold"),
            (f"  {word} {fmt.tokens(max(tokens, default=0))}", "dim")))
        self.query_one("#stats-cost-caption", Static).update(Text.assemble(
            ("Cost per day", "bold"), (f"  {word} {fmt.cost(max(cost, default=0))}", "dim"),
            (span, "dim")))

    def _show_tops(self) -> None:
        for by, widget in (("source", "#stats-top-sources"), ("session", "#stats-top-sessions")):
            if (self.period, by) not in self.results:
                continue  # on its way
            result = self.results.get((self.period, by)) or {}
            self.query_one(widget, Static).update(
                figures.top_lines(result.get("groups") or [], by))

    # -- actions ---------------------------------------------------------------------
    def action_period(self, period: str) -> None:
        self.period = period
        self._reload()

    def action_next_grouping(self) -> None:
        order = figures.GROUPINGS
        self.by = order[(order.index(self.by) + 1) % len(order)]
        self._reload()

    def action_reload(self) -> None:
        self.results.clear()
        self._reload(force=True)

    def action_open(self) -> None:
        """The highlighted group's requests, in the requests table."""
        table = self.query_one(GroupsTable)
        if not self.shown or not 0 <= table.cursor_row < len(self.shown):
            return
        text = figures.filter_for(self.shown[table.cursor_row].get("key"), self.by)
        if text is None:
            self.notify("Output tokens belong to every request: no filter for them.",
                        timeout=3)
            return
        self.app.show_requests(text)

    @on(GroupsTable.Selected, "#stats-groups")
    def _group_selected(self, event: GroupsTable.Selected) -> None:
        event.stop()
        self.action_open()

    def action_back(self) -> None:
        self.app.pop_screen()
