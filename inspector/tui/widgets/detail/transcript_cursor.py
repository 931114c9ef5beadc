"""Moving through the Conversation tab's transcript: the block cursor and the keys and
clicks that move it, open and fold blocks, and the search hit it is brought to. Kept
apart from `transcript.py`, which lays the blocks out and draws them.
"""

from __future__ import annotations

import re

from textual import events

from inspector.tui.widgets.detail.transcript_render import hit_row


class TranscriptCursor:
    """Mixed into `Transcript` (which gives the items, their levels and layout: `shown`,
    `block_lines`, `_tops`, `_relayout`, `_scroll`, `settle`, `_changed`)."""

    # -- cursor ----------------------------------------------------------------------------
    def on_screen(self, index: int) -> bool:
        """Is some line of item `index` in view?"""
        top, height = round(self.scroll_y), self.scrollable_content_region.height
        return (self.shown(index) and self._tops[index + 1] > top
                and self._tops[index] + self._gap(index) < top + height)

    def _next_shown(self, index: int, step: int) -> int | None:
        i = index + step
        while 0 <= i < len(self.items):
            if self.shown(i):
                return i
            i += step
        return None

    def set_cursor(self, index: int, scroll: bool = True) -> None:
        """Put the cursor on item `index`; `scroll`: as little as brings it into view."""
        if not 0 <= index < len(self.items):
            return
        self.cursor = index
        if scroll and self._width:
            self.block_lines(index)  # its height exact before it is placed
            self._relayout()
            top = self._tops[index] + self._gap(index)
            bottom = self._tops[index + 1]
            view_top, height = round(self.scroll_y), self.scrollable_content_region.height
            if top < view_top or bottom - top > height:
                self._scroll(top)
            elif bottom > view_top + height:
                self._scroll(bottom - height)
            self.settle()
        self.refresh()
        self.post_message(self.LevelsChanged())

    def action_move(self, delta: int) -> None:
        found = self._next_shown(self.cursor, delta)
        if found is not None:
            self.set_cursor(found)

    def toggle(self, index: int) -> None:
        """Open a folded or one-line block in place, or fold it again."""
        if index in self.expanded:
            self.expanded.discard(index)
        else:
            self.expanded.add(index)
        self._changed([index])

    def action_toggle(self) -> None:
        if not self.items:
            return
        if not self.on_screen(self.cursor):  # after PgDn: the top block on screen
            index = self.item_at(round(self.scroll_y))
            if not self.shown(index) or not self.on_screen(index):
                index = self._next_shown(index, 1) or index
            self.set_cursor(index, scroll=False)
        self.toggle(self.cursor)

    def action_end(self) -> None:
        last = self._next_shown(len(self.items), -1)
        if last is None:
            return
        self.cursor = last
        # the last screenful measured first, so that the end is where the view goes
        height, i, seen = max(self.size.height, 10), last, 0
        while i >= 0 and seen < 2 * height:
            if self.shown(i):
                self.block_lines(i)
                seen += self._rows[i]
            i -= 1
        self._relayout()
        self._scroll(self._tops[-1] - self.scrollable_content_region.height)
        self.settle()
        self.refresh()
        self.post_message(self.LevelsChanged())

    def action_page_down(self) -> None:
        """A screen down, at once (an animated scroll renders every block on the way)."""
        self._scroll(round(self.scroll_y) + self.scrollable_content_region.height)

    def action_page_up(self) -> None:
        self._scroll(round(self.scroll_y) - self.scrollable_content_region.height)

    def action_home(self) -> None:
        self.cursor = self._next_shown(-1, 1) or 0
        self._scroll(0)
        self.refresh()
        self.post_message(self.LevelsChanged())

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self.items:
            return
        index = self.item_at(round(self.scroll_y) + offset.y)
        if self.shown(index):
            event.stop()
            self.set_cursor(index, scroll=False)
            self.toggle(index)

    # -- search ----------------------------------------------------------------------------
    def highlight(self, pattern: re.Pattern[str] | None) -> None:
        """Light the matches of `pattern` in every block (None: plain rendering again)."""
        self.pattern = pattern
        self._changed()

    async def show_hit(self, index: int, offset: int) -> None:
        """Open block `index` and bring the line holding character `offset` into view."""
        self._mark_hit(index, offset)
        if self._width:  # else shown by the first layout
            self._changed([index])
            self._to_hit()

    def _mark_hit(self, index: int, offset: int) -> None:
        """Block `index` opened, lit and under the cursor, to be scrolled to."""
        self.pinned.add(index)
        self.expanded.add(index)
        self.hit = self.cursor = index
        self._pending_hit = (index, offset)

    def _to_hit(self) -> None:
        """Scroll to the pending hit's line (the view is laid out)."""
        if self._pending_hit is None:
            return
        index, offset = self._pending_hit
        self._pending_hit = None
        self.block_lines(index)
        self._relayout()
        row = self._tops[index] + self._gap(index)
        row += hit_row(self.items[index], offset, self._body_width(), self.app.console)
        self._scroll(row - 2)
        self.settle()
        self.refresh()
        self.post_message(self.LevelsChanged())


__all__ = ["TranscriptCursor"]
