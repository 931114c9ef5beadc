"""The detail screen's Diff tab and ratings, mixed into `DetailScreen`.

The diff (what changed since the previous request of the session) is loaded in a thread
worker once the first tab is painted, and shown when both it and the Diff tab are there;
`u` shows the unchanged parts too.

Ratings: `g`/`+` good, `b`/`-` bad, `n` with a note. Stored in a worker (the store's
`feedback` table, as `claude-inspect rate` does) and shown in the summary line."""

from __future__ import annotations

import logging
from typing import Any

from rich.text import Text
from textual import work
from textual.widgets import Static

from inspector.tui.widgets.detail.diff import first_request_text, render_diff
from inspector.tui.widgets.detail.messages import DiffLoaded, Rated
from inspector.tui.widgets.detail.rating_prompt import RatingPrompt
from inspector.tui.widgets.detail.summary import summary_line
from inspector.tui.widgets.detail.tabs import DetailTabs

log = logging.getLogger(__name__)


class DiffAndRatings:
    """Mixed into `DetailScreen` (which has `backend`, `capture_id`, `exchange` and the
    diff's state: `diff`, `diff_loaded`, `diff_error`, `show_unchanged`)."""

    backend: Any
    capture_id: str
    exchange: dict[str, Any] | None

    # -- diff ----------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def _load_diff(self, capture_id: str) -> None:
        try:
            self.post_message(DiffLoaded(self.backend.diff(capture_id)))
        except Exception as e:  # e.g. an id prefix that is no longer unique
            log.exception("diff of %s", capture_id)
            self.post_message(DiffLoaded(None, f"{type(e).__name__}: {e}"))

    def on_diff_loaded(self, message: DiffLoaded) -> None:
        self.diff, self.diff_error = message.diff, message.error
        self.diff_loaded = True
        if message.error:
            self.notify(message.error, title="Cannot compare", severity="warning")
        self._show_diff()

    def _show_diff(self) -> None:
        """Fill the Diff tab once both the tab and the diff are there."""
        bodies = self.query("#diff-body")
        if not bodies or not self.diff_loaded:
            return
        if self.diff_error:
            body = Text(self.diff_error, style="red")
        elif self.diff is None:
            body = first_request_text(str((self.exchange or {}).get("id", self.capture_id)))
        else:
            body = render_diff(self.diff, show_unchanged=self.show_unchanged)
        shown = self.query_one(DetailTabs).active == "diff"
        # in a hidden tab, new text needs no layout of the screen (30-40 ms on a long
        # request, just after its first frame): its size is measured when the tab shows
        static = bodies.first(Static)
        static.update(body, layout=shown)
        if not shown:
            static.clear_cached_dimensions()

    def action_toggle_unchanged(self) -> None:
        self.show_unchanged = not self.show_unchanged
        self._show_diff()

    # -- ratings -------------------------------------------------------------------------
    def action_rate(self, word: str, note: str | None = None) -> None:
        if self.exchange is None:
            self.notify("Still loading the request.", timeout=2)
            return
        self._store_rating(self.exchange["id"], word, note)

    def action_rate_with_note(self) -> None:
        if self.exchange is None:
            return

        def done(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self.action_rate(*answer)

        self.app.push_screen(RatingPrompt(self.exchange["id"]), done)

    @work(thread=True, group="rate", exit_on_error=False)
    def _store_rating(self, capture_id: str, word: str, note: str | None) -> None:
        try:
            self.post_message(Rated(self.backend.rate(capture_id, word, note)))
        except Exception as e:
            log.exception("rating %s", capture_id)
            self.post_message(Rated(None, f"{type(e).__name__}: {e}"))

    def on_rated(self, message: Rated) -> None:
        if message.stored is None:
            self.notify(message.error or "not stored", title="Rating not stored",
                        severity="error")
            return
        from inspector.analysis.ratings import rating_value

        stored = message.stored
        if self.exchange is not None:
            self.exchange.setdefault("feedback", []).append(
                {"rating": rating_value(stored["rating"]), "note": stored.get("note")})
            self.query_one("#detail-summary", Static).update(summary_line(self.exchange),
                                                             layout=False)
        self.notify(f"Rated {stored['rating']}" + (f": {stored['note']}" if stored.get("note")
                                                    else ""), timeout=3)
