"""One request in detail: Context (attribution tree), Conversation, Response, Headers,
Raw, Timing, and Diff (what changed since the previous request of the session). The
exchange and the diff are loaded in thread workers; Escape goes back.

Ratings: `g`/`+` good, `b`/`-` bad, `n` with a note. The Diff tab and the ratings are
handled in `detail_diff_rating`."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, LoadingIndicator, Static
from textual.worker import get_current_worker

from inspector.tui import exchange_view as xv
from inspector.tui.errors import guarded
from inspector.tui.screens.child_process import EndsChildProcess
from inspector.tui.screens.detail_diff_rating import DiffAndRatings
from inspector.tui.widgets.detail.context_tree import ContextView
from inspector.tui.widgets.footer import KeysFooter
from inspector.tui.widgets.detail.raw_view import RawDoc, RawView
from inspector.tui.widgets.detail.loaded import Loaded
from inspector.tui.widgets.detail.messages import (
    ExchangeLoaded, FindingsLoaded, RawReady, SearchDone)
from inspector.tui.widgets.detail.search import Hit, find_hits, leaves
from inspector.tui.widgets.detail.tabs import DetailTabs, Pane
from inspector.tui.widgets.detail.transcript import ConversationView, Transcript
from inspector.tui.widgets.detail.transcript_items import Item
from inspector.tui.widgets.detail.headers import render_headers
from inspector.tui.widgets.detail.summary import findings_text, summary_line
from inspector.tui.widgets.detail.response import render_response
from inspector.tui.widgets.detail.timing import render_timing

log = logging.getLogger(__name__)

TAB_TITLES = (("context", "Context"), ("conversation", "Conversation"),
              ("response", "Response"), ("headers", "Headers"), ("raw", "Raw"),
              ("timing", "Timing"), ("diff", "Diff"))
TABS = tuple(name for name, _ in TAB_TITLES)


class DetailScreen(DiffAndRatings, EndsChildProcess, Screen):
    # the loading dots on three lines, not the whole screen: Textual draws every line of
    # the indicator's area on each of its frames (~10 ms at 160x45), while the request loads
    DEFAULT_CSS = "DetailScreen #detail-loading { height: 3; }"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("1", "tab('context')", "Context", show=False),
        Binding("2", "tab('conversation')", "Conversation", show=False),
        Binding("3", "tab('response')", "Response", show=False),
        Binding("4", "tab('headers')", "Headers", show=False),
        Binding("5", "tab('raw')", "Raw", show=False),
        Binding("6", "tab('timing')", "Timing", show=False),
        Binding("7", "tab('diff')", "Diff", show=False),
        Binding("d", "tab('diff')", "Diff"),
        Binding("left_square_bracket", "step(-1)", "Prev tab"),
        Binding("right_square_bracket", "step(1)", "Next tab"),
        Binding("g,plus", "rate('good')", "Good"),
        Binding("b,minus", "rate('bad')", "Bad"),
        # with a search, n/N step through its hits; without one, n rates with a note
        Binding("n", "hit(1)", "Next hit"),
        Binding("N", "hit(-1)", "Previous hit"),
        Binding("n", "rate_with_note", "Rate + note"),
        Binding("u", "toggle_unchanged", "Unchanged", show=False),
    ]

    def __init__(self, backend: Any, capture_id: str, search: str | None = None,
                 loaded: Loaded | None = None) -> None:
        """`search`: a regular expression; its first hit is shown once the request loads,
        and n/N step through the others. `loaded`: the request made ahead (read_ahead.py),
        not read again."""
        super().__init__()
        self.backend = backend
        self.capture_id = capture_id
        self.search = search or None
        self._ahead = loaded
        self.items: list[Item] = []
        self.request: Any = None
        self.attribution: Any = None
        self.built: dict[str, asyncio.Future[None]] = {}
        self._raw: str | None = None
        self._raw_lock = threading.Lock()
        self._raw_ready = asyncio.Event()
        self.hits: list[Hit] = []
        self.hit_index = -1
        self.search_final = False
        self.pattern: Any = None
        self.exchange: dict[str, Any] | None = None
        self.diff: dict[str, Any] | None = None
        self.diff_loaded = False
        self.diff_error: str | None = None
        self.show_unchanged = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f" {self.capture_id}", style="bold"), id="detail-summary")
        yield Static(id="detail-findings")
        yield Static(id="detail-search")
        yield LoadingIndicator(id="detail-loading")
        # every tab is an empty pane, composed while the request loads; its content is built
        # the first time it shows (the Raw tab alone took half a second on a 1 MB request)
        yield DetailTabs(TAB_TITLES, initial="context", id="detail-tabs")
        yield KeysFooter(held=True)  # its keys come with the first tab (on_exchange_loaded)

    def on_mount(self) -> None:
        self.query_one("#detail-findings").display = False
        self.query_one("#detail-tabs").display = False  # until the request is there
        self.query_one("#detail-search").display = bool(self.search)
        if self.search:
            self.query_one("#detail-search", Static).update(
                Text(f" searching /{self.search}/ …", style="dim"))
        if self._ahead is not None:  # read while the cursor rested on its row
            self.post_message(ExchangeLoaded(self._ahead, None))
            self._ahead = None
        else:
            self._load(self.capture_id)  # then the diff: see on_exchange_loaded

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self, capture_id: str) -> None:
        try:
            ex = self.backend.exchange(capture_id)
            # the transcript's blocks, the tree and the search's first hits are made here,
            # off the UI thread
            self.post_message(ExchangeLoaded(Loaded.make(ex, self.search) if ex else None,
                                             None if ex else "not found"))
        except Exception as e:  # shown as a notification, never a traceback
            log.exception("loading %s", capture_id)
            self.post_message(ExchangeLoaded(None, f"{type(e).__name__}: {e}"))

    @guarded
    async def on_exchange_loaded(self, message: ExchangeLoaded) -> None:
        try:
            await self._show_loaded(message)
        finally:  # the footer's keys: those of what took the keyboard (composed once)
            self.query_one(KeysFooter).show_keys()

    async def _show_loaded(self, message: ExchangeLoaded) -> None:
        await self.query_one("#detail-loading").remove()
        loaded = message.loaded
        if loaded is None:
            self.notify(message.error or "not found", title="Cannot open request",
                        severity="error")
            await self.mount(Static(Text(message.error or "not found", style="red")),
                             before=self.query_one(KeysFooter))
            return
        ex = self.exchange = loaded.exchange
        self.items, self.request, self.attribution = loaded.items, loaded.request, loaded.tree
        # the summary, search and legend lines have fixed heights (inspector.tcss): new text
        # in them needs no layout of the whole screen
        self.query_one("#detail-summary", Static).update(summary_line(ex), layout=False)
        session = xv.field(ex, "session_id")
        if session and ex.get("ts"):  # (a process of its own, started once this is painted)
            self.call_after_refresh(self._load_findings, ex["id"], session, ex["ts"])
        tabs = self.query_one(DetailTabs)
        tabs.display = True
        if loaded.pattern is not None:
            self.pattern, self.hits = loaded.pattern, loaded.hits
        if self.hits:  # opened on a search: its first hit's tab is the one built first
            await self._show_hit(0)
            # then the Raw tab's hits (its text is slow to make: made at once, it slowed
            # the hit's first frame) and the diff, once the hit is painted
            self.call_after_refresh(self._search_raw, loaded.pattern, loaded.hits)
            self.call_after_refresh(self._load_diff, self.capture_id)
            return
        if loaded.pattern is not None:  # no hit outside Raw: the Context tab goes first
            self.call_after_refresh(self._search_raw, loaded.pattern, loaded.hits)
        await self._build("context")
        if tabs.active == "context":
            # at once, not by `focus()`'s later call: a key pressed meanwhile may pick
            # another tab, which the tree taking the keyboard would pull back
            self.set_focus(self.query_one("#context-tree"))
        else:  # a tab chosen while the request loaded
            await self._build(tabs.active)
            self._focus_content(tabs.active)
        # the diff (hundreds of ms on a long session) starts once the first tab is painted:
        # run beside the request's load it slowed it, and its garbage collections froze the UI
        self.call_after_refresh(self._load_diff, self.capture_id)

    async def _build(self, name: str) -> None:
        """Mount tab `name`'s content unless done; a second caller waits for the first."""
        if name in self.built:
            await self.built[name]
            return
        if self.exchange is None:  # not loaded yet: built once it is
            return
        done = self.built[name] = asyncio.get_running_loop().create_future()
        try:
            pane = self.query_one(f"#{name}", Pane)
            await pane.mount_all(self._tab_content(name))
            if name == "raw":
                self._load_raw()
            elif name == "diff":  # the diff may have come first
                self._show_diff()
        finally:
            done.set_result(None)

    def _tab_content(self, name: str) -> list[Any]:
        ex = self.exchange or {}
        if name == "context":
            return [ContextView(self.attribution, self.request)]
        if name == "conversation":
            if not self.items:
                return [Static(Text("No messages in this request.", style="dim"))]
            # built for a hit: laid out at it, opened and lit
            hit = self.hits[self.hit_index] if self.hit_index >= 0 else None
            if hit is not None and hit.tab == "conversation":
                return [ConversationView(self.items, hit=(hit.where, hit.start),
                                         pattern=self.pattern, id="conversation-view")]
            return [ConversationView(self.items, id="conversation-view")]
        if name == "response":
            return [VerticalScroll(Static(render_response(
                xv.response_json(ex), status=xv.field(ex, "status"),
                stop_reason=xv.field(ex, "stop_reason"), usage=xv.usage(ex),
                cost=xv.field(ex, "cost_usd"), error=xv.field(ex, "error"),
                stream_complete=xv.field(ex, "stream_complete"), model=xv.field(ex, "model")),
                classes="rich-body"))]
        if name == "headers":
            return [VerticalScroll(Static(render_headers(
                xv.request_headers(ex), xv.response_headers(ex)), classes="rich-body"))]
        if name == "raw":  # the text is made in a thread (json.dumps with indent is slow);
            # the view is there at once, so it takes the keyboard (and the footer its keys) now
            return [RawView(id="raw-text")]
        if name == "timing":
            return [VerticalScroll(Static(render_timing(xv.timings(ex), ex.get("ts")),
                                          classes="rich-body"))]
        if name == "diff":
            return [VerticalScroll(Static(
                Text("Comparing with the previous request of the session…", style="dim"),
                id="diff-body", classes="rich-body"))]
        raise ValueError(name)

    def raw_text(self) -> str:
        """The Raw tab's text (request and response JSON, then the SSE stream); made once,
        in a worker thread (the Raw tab's or the search's)."""
        with self._raw_lock:
            if self._raw is None:
                ex = self.exchange or {}
                raw = {"request": self.request, "response": xv.response_json(ex)}
                text = json.dumps(raw, indent=2, ensure_ascii=False, default=str)
                sse = xv.raw_sse(ex)
                if sse:
                    text += "\n\n# raw SSE stream\n" + sse
                self._raw = text
            return self._raw

    @work(thread=True, group="raw", exit_on_error=False)
    def _load_raw(self) -> None:
        try:
            doc = RawDoc.build(self.raw_text())
        except Exception as e:  # said in the tab, rather than "formatting…" for ever
            log.exception("raw text of %s", self.capture_id)
            doc = RawDoc.build(f"Cannot show the raw exchange: {type(e).__name__}: {e}")
        self.post_message(RawReady(doc))

    @guarded
    def on_raw_ready(self, message: RawReady) -> None:
        # it draws only the lines on screen: as cheap for 50,000 lines as for 50
        self.query_one("#raw-text", RawView).load(message.doc)
        self._raw_ready.set()

    @work(thread=True, exclusive=True, group="findings", exit_on_error=False)
    def _load_findings(self, capture_id: str, session: str, ts: str) -> None:
        from inspector.analysis.findings.threads import epoch

        # what is found about one request depends only on the turns before it
        at = epoch(ts)
        worker = get_current_worker()
        found = self.backend.findings(at - 3 * 3600, session=session, until=at + 0.001,
                                      cancelled=lambda: worker.is_cancelled or not self.is_attached,
                                      started=self.child_started)
        if found is not None:
            self.post_message(FindingsLoaded([f for f in found if f.request_id == capture_id]))

    def on_findings_loaded(self, message: FindingsLoaded) -> None:
        box = self.query_one("#detail-findings", Static)
        if message.findings:
            box.update(findings_text(message.findings))
            box.display = True

    @guarded
    async def on_detail_tabs_activated(self, event: DetailTabs.Activated) -> None:
        """Build the tab the first time it shows, then put the keyboard in its content, so
        arrows scroll it at once."""
        await self._build(event.name)
        self._focus_content(event.name)

    def _focus_content(self, name: str) -> None:
        pane = self.query_one(f"#{name}", Pane)
        target = next(iter(pane.query("Transcript, Tree, TextArea, RawView, VerticalScroll")), None)
        if target is not None:
            self.set_focus(target)

    # -- search ----------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search_raw(self, pattern: re.Pattern[str], hits: list[Hit]) -> None:
        """Add the Raw tab's hits to those the load found in the other tabs."""
        hits = hits + find_hits(pattern, [], [], self.request, self.raw_text())
        self.post_message(SearchDone(pattern, hits, final=True))

    @guarded
    async def on_search_done(self, message: SearchDone) -> None:
        first = not self.hits
        self.pattern, self.hits, self.search_final = message.pattern, message.hits, message.final
        if first and self.hits:
            await self._show_hit(0)
        elif self.hits:
            self.hit_index = max(self.hit_index, 0)
            self._search_status()
        elif message.final:
            self._search_status()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # n falls through to "rate with a note" when there are no hits to step through
        if action == "hit":
            return bool(self.hits)
        return True

    async def action_hit(self, delta: int) -> None:
        if self.hits:
            await self._show_hit((self.hit_index + delta) % len(self.hits))

    async def _show_hit(self, index: int) -> None:
        """Show hit `index` in its tab: the transcript block opened and lit, the tree node
        selected with the match selected in its content, or the match lit in Raw."""
        self.hit_index = index
        hit = self.hits[index]
        self._search_status()
        tabs = self.query_one(DetailTabs)
        tabs.active = hit.tab
        await self._build(hit.tab)
        if hit.tab == "conversation":
            transcript = self.query_one(Transcript)
            if transcript.pattern is not self.pattern:
                transcript.highlight(self.pattern)
            await transcript.show_hit(hit.where, hit.start)
            self.set_focus(transcript)  # at once: the footer shows its keys next
        elif hit.tab == "context":
            view = self.query_one(ContextView)
            view.show_part(leaves(self.attribution)[hit.where], hit.start, hit.end)
            self.set_focus(view.query_one("#context-tree"))  # a tab already shown gets none
        elif hit.tab == "raw":
            await self._raw_ready.wait()
            view = self.query_one("#raw-text", RawView)
            if view.pattern is not self.pattern:
                view.highlight(self.pattern)
            line, start = view.doc.locate(hit.start)
            end_line, end = view.doc.locate(hit.end)
            if end_line != line:  # a match across lines is lit to its first line's end
                end = len(view.doc.lines[line])
            view.show_match(line, start, end)
            view.focus()

    def _search_status(self) -> None:
        box = self.query_one("#detail-search", Static)
        box.display = True
        text = Text(f" /{self.search}/ ", style="bold reverse")
        if not self.hits:
            text.append("  no hit in this request", style="yellow")
        else:
            hit = self.hits[self.hit_index]
            text.append(f"  hit {self.hit_index + 1}/{len(self.hits)}", style="bold")
            if not self.search_final:
                text.append(" (counting…)", style="dim")
            text.append(f"  in {dict(TAB_TITLES)[hit.tab]}", style="dim")
            text.append("   n next · N previous", style="dim")
        box.update(text, layout=False)  # one line high, whatever it says

    def action_back(self) -> None:
        self.app.pop_screen()


    def action_tab(self, name: str) -> None:
        tabs = self.query(DetailTabs)
        if tabs:
            tabs.first().active = name

    def action_step(self, delta: int) -> None:
        tabs = self.query(DetailTabs)
        if not tabs:
            return
        current = tabs.first().active or TABS[0]
        index = TABS.index(current) if current in TABS else 0
        tabs.first().active = TABS[(index + delta) % len(TABS)]
