"""The detail screen's tab set: Textual's TabbedContent, with two behaviours changed.

- The underline jumps to the chosen tab. Textual slides it for 0.3 s, 18 frames drawn
  while the tab's own content is built and drawn; the tab looked ready only once the
  slide ended.
- Focus never picks the tab. Textual brings a pane to the front when a widget in it takes
  focus, one message later. The screen focuses the Context tree as the request arrives; a
  key that chose another tab in between had its tab pulled back to Context by that late
  message. Here the tab changes only when asked (a key, a click, a search hit), and the
  screen moves the focus into the tab it shows.
"""

from __future__ import annotations

from textual.widgets import TabbedContent, TabPane, Tabs


class DetailTabs(TabbedContent):
    def on_mount(self) -> None:
        tabs = self.query_one(Tabs)
        highlight = tabs._highlight_active
        # `_highlight_active` is Textual's (pinned at 8.2.8), which always passes `animate`
        tabs._highlight_active = lambda animate=True: highlight(animate=False)  # type: ignore

    def _on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        event.prevent_default()  # TabbedContent's own handler would switch tabs
        event.stop()
