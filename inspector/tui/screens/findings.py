"""Findings: why the prompt cache broke, tools never called, injected reminders, large
and repeated tool results, compactions, truncations, and what removing a source would
save, per session and per request. Enter opens the request (or filters the table to the
session); `k` cycles through the kinds; `a` switches between 7 days and all time."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static
from textual.worker import get_current_worker

from inspector.analysis.findings.model import KINDS
from inspector.tui.errors import guarded
from inspector.tui.screens.child_process import EndsChildProcess
from inspector.tui.widgets.findings.table import LABELS, FindingsTable, kind_text
from inspector.tui.widgets.footer import KeysFooter

class FindingsLoaded(Message):
    def __init__(self, findings: list[Any], key: tuple[bool, str | None]) -> None:
        super().__init__()
        self.findings = findings
        self.key = key


class FindingsProgress(Message):
    """Requests read so far for the findings asked for `key`, of how many, and the
    findings of the sessions read so far when there are new ones (None: no news)."""

    def __init__(self, read: int, total: int, key: tuple[bool, str | None],
                 found: list[Any] | None = None) -> None:
        super().__init__()
        self.read = read
        self.total = total
        self.key = key
        self.found = found


#: seconds between two progress notes while the findings are worked out
PROGRESS_EVERY = 0.25


class FindingsScreen(EndsChildProcess, Screen):
    BINDINGS = [
        # priority: the table's own Enter would otherwise hide this one from the footer;
        # listed first, as the footer puts priority keys first once the table has focus
        Binding("enter", "open", "Open", priority=True),
        Binding("escape", "back", "Back"),
        Binding("k", "next_kind", "Kind"),
        Binding("a", "toggle_all", "All time / 7 days"),
    ]

    RECENT_DAYS = 7

    DEFAULT_CSS = """
    FindingsScreen #findings-title { height: 1; color: $text-muted; padding: 0 1; }
    FindingsScreen #findings { height: 1fr; }
    FindingsScreen #finding-detail { height: 3; padding: 0 1; border-top: solid $primary; }
    """

    def __init__(self, backend: Any) -> None:
        super().__init__()
        self.backend = backend
        self.all_time = False
        self.kind: str | None = None
        self.title_text = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="findings-title")
        yield FindingsTable(id="findings")
        yield Static(id="finding-detail")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(FindingsTable).focus()
        self._reload()

    def _reload(self) -> None:
        table = self.query_one(FindingsTable)
        table.loading = True
        period = "all time" if self.all_time else f"the last {self.RECENT_DAYS} days"
        kinds = LABELS[self.kind][0] if self.kind else "every kind"
        self.title_text = f"Findings of {period}, {kinds}   (k: kind  a: period  Enter: open)"
        self.query_one("#findings-title", Static).update(self.title_text)
        since = None if self.all_time else self.app.clock() - self.RECENT_DAYS * 86400
        self._load(since, (self.all_time, self.kind))

    @work(thread=True, exclusive=True, group="findings", exit_on_error=False)
    def _load(self, since: float | None, key: tuple[bool, str | None]) -> None:
        kinds = (key[1],) if key[1] else None
        said = [time.monotonic()]
        so_far: list[Any] = []  # the sessions read so far (the most recently active first)
        shown = [0]

        def progress(read: int, total: int) -> None:  # reading is most of a long wait
            if time.monotonic() - said[0] >= PROGRESS_EVERY:
                said[0] = time.monotonic()
                news = len(so_far) > shown[0]
                shown[0] = len(so_far)
                self.post_message(FindingsProgress(read, total, key,
                                                   list(so_far) if news else None))

        worker = get_current_worker()
        found = self.backend.findings(since, kinds=kinds, progress=progress,
                                      each=so_far.extend,
                                      cancelled=lambda: worker.is_cancelled or not self.is_attached,
                                      started=self.child_started)
        if found is not None:  # None: another period or kind was asked for meanwhile
            self.post_message(FindingsLoaded(found, key))

    @guarded
    def on_findings_progress(self, message: FindingsProgress) -> None:
        if message.key != (self.all_time, self.kind):
            return
        self.query_one("#findings-title", Static).update(Text.assemble(
            self.title_text, (f"   reading requests: {min(message.read, message.total):,}"
                              f" of {message.total:,}…", "yellow")))
        if message.found:  # what the sessions read so far hold, shown while the rest loads
            table = self.query_one(FindingsTable)
            table.loading = False
            table.show(sorted(message.found, key=lambda f: f.order))

    @guarded
    def on_findings_loaded(self, message: FindingsLoaded) -> None:
        if message.key != (self.all_time, self.kind):
            return
        table = self.query_one(FindingsTable)
        table.loading = False
        self.query_one("#findings-title", Static).update(self.title_text)
        found = sorted(message.findings, key=lambda f: f.order)
        table.show(found)
        if not found:
            self.query_one("#finding-detail", Static).update(
                Text("No findings in this period.", style="dim"))

    @on(FindingsTable.Highlighted, "#findings")
    @guarded
    def _highlighted(self, event: FindingsTable.Highlighted) -> None:
        f = self.query_one(FindingsTable).finding(event.key)
        if f is None:
            return
        text = Text()
        text.append_text(kind_text(f.kind))
        text.append(f"  {f.source}  ", style="bold")
        text.append(f.detail)
        self.query_one("#finding-detail", Static).update(text)

    @on(FindingsTable.Selected, "#findings")
    def _selected(self, event: FindingsTable.Selected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one(FindingsTable)
        f = table.finding(table.current_id())
        if f is None:
            return
        if f.request_id:
            self.app.open_detail(f.request_id)
        elif f.session_id:
            self.app.show_session(f.session_id)

    def action_next_kind(self) -> None:
        order = [None, *KINDS]
        self.kind = order[(order.index(self.kind) + 1) % len(order)]
        self._reload()

    def action_toggle_all(self) -> None:
        self.all_time = not self.all_time
        self._reload()

    def action_back(self) -> None:
        self.app.pop_screen()
