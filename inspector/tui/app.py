"""The Textual app: setup, key bindings, the stylesheet, starting and stopping the runtime
(proxy + store writer) and pushing the first screen. Everything else lives in screens/
and widgets/.

Processes and threads: the CLI gives the app an IsolatedRuntime, whose proxy and recorder
run in processes of their own, so rendering never holds the proxy's GIL. Only control
and status come back from it (notices, as posted messages: see bridge.py). Captures
reach the table through the store alone: the recorder writes a pending row when a
request starts and the capture when it ends, a watcher worker polls `PRAGMA
data_version`, and the main screen reads only the rows newer than the last it has.
Database reads run in thread workers.

Startup: only what the first screen needs is imported here. The other screens (detail,
sessions, stats, findings, help) and what they pull in (markdown, the attribution and
analysis code) are imported when first opened, so the table paints sooner.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState, get_current_worker

from inspector.runtime.protocol import ProxyRuntime
from inspector.tui.backend import Backend
from inspector.tui.bridge import make_listener
from inspector.tui.errors import report
from inspector.tui.messages import CapturesChanged, ProxyNotice, ProxyStateChanged
from inspector.tui.screens.main import MainScreen
from inspector.tui.widgets.status.status_bar import ProxyState

log = logging.getLogger(__name__)

#: how often the app asks the store whether anyone committed (`PRAGMA data_version` on a
#: connection of its own: microseconds), so a stored capture shows within 100 ms
POLL_INTERVAL = 0.03
#: seconds without a key, click or scroll before the collector's full pass may run
IDLE_GC = 2.0


class InspectorApp(App):
    """claude-inspect's app. Build it with `make_app`."""

    CSS_PATH = "inspector.tcss"
    TITLE = "claude-inspect"
    SUB_TITLE = "what Claude Code sends, source by source"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, config: Any, runtime: ProxyRuntime | None = None, *,
                 backend: Backend | None = None,
                 poll_interval: float = POLL_INTERVAL, strict: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        #: the wall clock the views' periods ("the last 7 days") end at; tests fix it
        self.clock = clock
        self.config = config
        self.runtime = runtime
        self.backend = backend or Backend(config.db_path)
        self.poll_interval = poll_interval
        #: tests set this: an unexpected error fails the test instead of becoming a notice
        self.strict = strict
        self.proxy_state = ProxyState(
            mode="starting" if runtime is not None else "off",
            ca_path=_tilde(Path(config.ca_path)),
        )
        self.main: MainScreen | None = None
        #: the request under the table's cursor, read ahead (a ReadAhead, made by the main
        #: screen when first needed: its module is not imported before the first paint)
        self.read_ahead: Any = None
        self._quitting = False
        self.proxy_error_detail: str | None = None

    # -- life cycle -----------------------------------------------------------------------
    def on_mount(self) -> None:
        self.main = MainScreen(self.backend)
        self.push_screen(self.main)
        self.main.set_proxy_state(self.proxy_state)
        if self.runtime is not None:
            self.runtime.add_listener(make_listener(self.post_message))
            self._start_runtime()
        self._watch_database()
        self._last_event = time.monotonic()
        self.call_after_refresh(self._freeze_heap)

    def _freeze_heap(self) -> None:
        """What is alive once the app has drawn (Textual, rich, the modules, the screen)
        stays alive: keep it out of the collector's full passes, which otherwise walk its
        ~150k objects for 50-165 ms while the UI waits (opening a long request). No
        collection first: that would be the very pause this avoids, at first paint.

        The collector's own full passes (over what lived since: a closed request's
        screen, 25-75 ms) came in the middle of opening the next one; they now run only
        when nothing happened for IDLE_GC seconds (young objects are still collected as
        they come)."""
        gc.freeze()
        self._thresholds = gc.get_threshold()
        gc.set_threshold(*self._thresholds[:2], 1_000_000)  # no full pass but ours
        self._last_event = time.monotonic()
        self.set_interval(IDLE_GC, self._collect_when_idle)

    def on_unmount(self) -> None:
        """The collector as it was, for whatever runs in this process after the app."""
        if getattr(self, "_thresholds", None) is not None:
            gc.set_threshold(*self._thresholds)
            gc.unfreeze()

    def _collect_when_idle(self) -> None:
        if time.monotonic() - self._last_event >= IDLE_GC and gc.get_count()[2] > 0:
            gc.collect()

    @work(thread=True, exit_on_error=False, group="runtime")
    def _start_runtime(self) -> None:
        runtime = self.runtime
        assert runtime is not None
        try:
            runtime.start()
        except Exception as e:
            log.exception("runtime failed to start")
            self.proxy_state = replace(self.proxy_state, mode="failed",
                                       error=f"proxy not started: {e}; browsing only")
        else:
            if runtime.proxy_error:
                self.proxy_error_detail = runtime.proxy_error
                self.proxy_state = replace(self.proxy_state, mode="failed",
                                           error=short_proxy_error(runtime.proxy_error,
                                                                   self.config))
            else:
                self.proxy_state = replace(
                    self.proxy_state, mode="listening", address=runtime.proxy_address,
                    recording=runtime.recording)
        self.post_message(ProxyStateChanged())

    @work(thread=True, exit_on_error=False, group="watch")
    def _watch_database(self) -> None:
        """Notice rows committed by anyone (this app's writer or another process)."""
        worker = get_current_worker()
        last = self.backend.change_token()
        while not worker.is_cancelled:
            time.sleep(self.poll_interval)
            try:
                token = self.backend.change_token()
            except Exception:  # a locked or vanished file: try again next time
                log.debug("watch failed", exc_info=True)
                continue
            if token != last:
                last = token
                self.post_message(CapturesChanged())

    async def action_quit(self) -> None:
        """Quit once the runtime has stopped the proxy and written every capture."""
        if self._quitting:
            return
        self._quitting = True
        if self.runtime is None:
            self.exit()
            return
        self.notify("Writing the last captures…", timeout=10)
        self._stop_runtime()

    @work(thread=True, exit_on_error=False, group="runtime-stop")
    def _stop_runtime(self) -> None:
        assert self.runtime is not None
        try:
            self.runtime.stop(timeout=10)
        except Exception:
            log.exception("runtime stop failed")
        self.call_from_thread(self.exit)

    # -- news from other threads ------------------------------------------------------------
    def on_proxy_state_changed(self, message: ProxyStateChanged) -> None:
        self.main.set_proxy_state(self.proxy_state)
        if self.proxy_state.mode == "failed":
            self.notify(self.proxy_error_detail or self.proxy_state.error or "proxy failed",
                        title="Browsing only", severity="warning", timeout=8)

    def on_captures_changed(self, message: CapturesChanged) -> None:
        self.main.refresh_captures()
        # a screen that shows figures of the store (Stats) hears of new captures too
        captures_changed = getattr(self.screen, "captures_changed", None)
        if captures_changed is not None:
            captures_changed()

    def on_proxy_notice(self, message: ProxyNotice) -> None:
        if message.kind in ("recorder_fault", "recorder_ok"):
            fault = message.text if message.kind == "recorder_fault" else None
            self.proxy_state = replace(self.proxy_state, recording_fault=fault)
            self.main.set_proxy_state(self.proxy_state)
            self.notify(message.text, title="Recording" if fault else "Recording again",
                        severity="error" if fault else "information", timeout=10)
        elif message.kind == "cert_refused":
            self.proxy_state = replace(self.proxy_state, cert_warning=message.text)
            self.main.set_proxy_state(self.proxy_state)
            self.notify(f"{message.text}\nTrust the CA: see `claude-inspect ca`.",
                        title="Certificate refused", severity="warning", timeout=10)
        elif message.kind in ("otlp_fault", "otlp_ok"):
            fault = message.kind == "otlp_fault"
            self.notify(message.text, title="OTLP export",
                        severity="warning" if fault else "information", timeout=10)
        elif message.kind not in ("listening",):
            self.notify(message.text, title=message.kind.replace("_", " "), timeout=6)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            log.error("worker %s failed: %r", event.worker.name, error)
            self.notify(f"{type(error).__name__}: {error}", title="Error", severity="error")

    # -- navigation -----------------------------------------------------------------------
    def open_detail(self, capture_id: str, search: str | None = None) -> None:
        """A request's detail; with `search` (a regex), opened at its first hit."""
        from inspector.tui.screens.detail import DetailScreen

        search = search or None
        ahead = self.read_ahead.take(capture_id, search) if self.read_ahead is not None else None
        self.push_screen(DetailScreen(self.backend, capture_id, search=search, loaded=ahead))

    def open_sessions(self) -> None:
        from inspector.tui.screens.sessions import SessionsScreen

        self.push_screen(SessionsScreen(self.backend))

    def open_stats(self) -> None:
        from inspector.tui.screens.stats import StatsScreen

        self.push_screen(StatsScreen(self.backend))

    def open_findings(self) -> None:
        from inspector.tui.screens.findings import FindingsScreen

        self.push_screen(FindingsScreen(self.backend))

    def show_session(self, session_id: str) -> None:
        """Back to the table, filtered to one session."""
        self.show_requests(f"session:{session_id}")

    def show_requests(self, filter_text: str) -> None:
        """Back to the table, filtered with `filter_text` (the filter box's language)."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.main.show_filter(filter_text)

    def action_help(self) -> None:
        from inspector.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def toggle_recording(self) -> None:
        if self.runtime is None or self.proxy_state.mode != "listening":
            self.notify("No proxy is running in this app: nothing to pause.", timeout=4)
            return
        recording = not self.proxy_state.recording
        self.runtime.recording = recording
        self.proxy_state = replace(self.proxy_state, recording=recording)
        self.main.set_proxy_state(self.proxy_state)
        self.notify("Recording resumed" if recording
                    else "Recording paused: traffic still flows, nothing is stored", timeout=3)

    # -- errors -------------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        """Key bindings run their actions here: a failing action becomes a notification."""
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown,
                              events.MouseScrollUp, events.Resize)):
            self._last_event = time.monotonic()  # the user is at work: no full collection
        if self.strict:
            await super().on_event(event)
            return
        try:
            await super().on_event(event)
        except Exception as e:
            report(self, e, f"handling {type(event).__name__}")

    def _handle_exception(self, error: Exception) -> None:
        """The last resort, for an error no handler caught: Textual would print a traceback
        over the terminal. Log it, and leave with one line that says where the details are."""
        if self.strict:
            super()._handle_exception(error)
            return
        log.error("unexpected error; the app stops", exc_info=error)
        home = getattr(self.config, "home", None)
        where = f" (details in {Path(home) / 'claude-inspect.log'})" if home else ""
        self.exit(return_code=1,
                  message=f"claude-inspect stopped on an unexpected error: {error}{where}")


def short_proxy_error(error: str, config: Any) -> str:
    """The status bar's version of why the proxy is not running ("port 8443 in use")."""
    if "in use" in error:
        try:
            port = config.listen_hostport[1]
        except Exception:
            port = "the"
        return f"port {port} in use, browsing only"
    return f"proxy not started ({error.split(';')[0][:60]}), browsing only"


def _tilde(path: Path) -> str:
    """Show paths under the user's home with ~ (shorter status lines)."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def make_app(config: Any, runtime: ProxyRuntime | None = None, **kwargs: Any) -> InspectorApp:
    """The app, as the CLI, the tests and the screenshot script build it.

    `runtime`: a `ProxyRuntime` (not started; the app starts and stops it), or None to
    browse the store only. Extra keyword arguments go to `InspectorApp`.
    """
    return InspectorApp(config, runtime, **kwargs)
