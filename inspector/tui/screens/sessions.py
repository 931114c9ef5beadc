"""Sessions: request count, tokens and cost per session, and how the prompt grew turn by
turn. Enter filters the requests table to the highlighted session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header
from textual.worker import get_current_worker

from inspector.tui.errors import guarded
from inspector.tui.screens.child_process import EndsChildProcess
from inspector.tui.widgets.sessions.growth import PromptGrowth
from inspector.tui.widgets.sessions.table import SessionsTable
from inspector.tui.widgets.sessions.threads import SessionThreads
from inspector.tui.widgets.footer import KeysFooter

if TYPE_CHECKING:
    from inspector.store.rows import SessionSummary


class SessionsLoaded(Message):
    def __init__(self, sessions: list[SessionSummary], all_time: bool) -> None:
        super().__init__()
        self.sessions = sessions
        self.all_time = all_time


class ThreadsLoaded(Message):
    def __init__(self, session_id: str, tree: list[dict[str, Any]]) -> None:
        super().__init__()
        self.session_id = session_id
        self.tree = tree


class SessionsScreen(EndsChildProcess, Screen):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Show requests"),
        Binding("a", "toggle_all", "All time / 7 days"),
    ]

    #: sessions of this many recent days by default (reading every capture of a big
    #: database takes seconds)
    RECENT_DAYS = 7

    def __init__(self, backend: Any) -> None:
        super().__init__()
        self.backend = backend
        self.sessions: dict[str, SessionSummary] = {}
        self.all_time = False
        #: the recent window held no session, so all time is shown instead (once, on
        #: opening: a user who then asks for the window gets it, empty)
        self.fell_back = False
        self._may_fall_back = True

    def compose(self) -> ComposeResult:
        yield Header()
        yield SessionsTable(id="sessions")
        yield SessionThreads(id="session-threads")
        yield PromptGrowth(id="growth")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(SessionsTable).focus()
        self._reload()

    def _reload(self) -> None:
        table = self.query_one(SessionsTable)
        table.loading = True
        if self.fell_back:
            title = (f"Sessions, all time: none in the last {self.RECENT_DAYS} days  "
                     f"(a: last {self.RECENT_DAYS} days)")
        elif self.all_time:
            title = f"Sessions, all time  (a: last {self.RECENT_DAYS} days)"
        else:
            title = f"Sessions of the last {self.RECENT_DAYS} days  (a: all time)"
        table.border_title = title
        terms = {} if self.all_time else {
            "since": self.app.clock() - self.RECENT_DAYS * 86400}
        self._load(terms, self.all_time)

    @work(thread=True, exclusive=True, group="sessions", exit_on_error=False)
    def _load(self, terms: dict[str, Any], all_time: bool) -> None:
        self.post_message(SessionsLoaded(self.backend.sessions(terms), all_time))

    def action_toggle_all(self) -> None:
        self.all_time = not self.all_time
        self.fell_back = self._may_fall_back = False
        self._reload()

    @guarded
    def on_sessions_loaded(self, message: SessionsLoaded) -> None:
        if message.all_time != self.all_time:
            return  # an answer for the period shown before
        empty = not message.sessions
        if empty and not message.all_time and self._may_fall_back:
            # the window, not the captures, is why nothing shows: show all time instead
            self.all_time = self.fell_back = True
            self._may_fall_back = False
            self._reload()
            return
        table = self.query_one(SessionsTable)
        table.loading = False
        table.show(message.sessions)
        self.sessions = table.sessions
        if not self.sessions and not self.all_time:
            self.notify(f"No sessions in the last {self.RECENT_DAYS} days: a shows all time.",
                        timeout=4)
        elif not self.sessions:
            self.notify("No sessions stored yet: requests carry a session when Claude Code "
                        "sends one (header or metadata.user_id).", timeout=4)

    @on(SessionsTable.Highlighted, "#sessions")
    @guarded
    def _highlighted(self, event: SessionsTable.Highlighted) -> None:
        session = self.sessions.get(event.key)
        if session is not None:
            self.query_one(PromptGrowth).show(event.key, list(session.prompt_tokens))
            self._load_threads(event.key)

    @work(thread=True, exclusive=True, group="threads", exit_on_error=False)
    def _load_threads(self, session_id: str) -> None:
        worker = get_current_worker()
        tree = self.backend.session_tree(
            session_id, cancelled=lambda: worker.is_cancelled or not self.is_attached,
            started=self.child_started)
        if tree is not None:
            self.post_message(ThreadsLoaded(session_id, tree))

    @guarded
    def on_threads_loaded(self, message: ThreadsLoaded) -> None:
        if self.query_one(SessionsTable).current_id() == message.session_id:
            self.query_one(SessionThreads).show(message.tree)

    @on(SessionsTable.Selected, "#sessions")
    def _selected(self, event: SessionsTable.Selected) -> None:
        event.stop()
        self.app.show_session(event.key)

    def action_open(self) -> None:
        if (key := self.query_one(SessionsTable).current_id()) is not None:
            self.app.show_session(key)

    def action_back(self) -> None:
        self.app.pop_screen()
