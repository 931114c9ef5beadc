"""The detail screen's tab set: a bar of titles drawn as two lines of text (the titles,
and under them a rule with the chosen tab's part lit) over a ContentSwitcher of panes.

Textual's TabbedContent made 20 widgets of it (a tab, a pane and the wrappers of each),
each composed, styled and laid out as the screen opened; the bar is one widget here.
The tab changes only when asked (a key, a click on a title, a search hit), never because
focus moved into another pane, and the screen is told (`Activated`) to build the tab and
put the keyboard in it.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import ContentSwitcher

#: cells around each title (as Textual's tabs pad theirs)
PAD = 1


class TabBar(Widget):
    """The titles on a line, the chosen one lit, and the rule under them."""

    COMPONENT_CLASSES = {"tab-bar--title", "tab-bar--active", "tab-bar--rule",
                         "tab-bar--rule-active"}
    DEFAULT_CSS = """
    TabBar {
        height: 2;
        & > .tab-bar--title { color: $foreground 50%; }
        & > .tab-bar--active { color: $foreground; text-style: bold; }
        & > .tab-bar--rule { color: $foreground 10%; }
        & > .tab-bar--rule-active { color: $block-cursor-background; }
    }
    """

    def __init__(self, titles: tuple[tuple[str, str], ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.titles = titles
        self.active = titles[0][0]
        self._spots: list[tuple[int, int, str]] = []  # (start, end, name) of each title

    def show(self, name: str) -> None:
        self.active = name
        self.refresh()

    def render(self) -> Text:
        style = self.get_component_rich_style
        titles, rule = Text(end=""), Text(end="")
        self._spots = []
        for name, title in self.titles:
            start = titles.cell_len
            lit = name == self.active
            titles.append(" " * PAD + title + " " * PAD,
                          style("tab-bar--active" if lit else "tab-bar--title"))
            self._spots.append((start, titles.cell_len, name))
            rule.append("━" * (titles.cell_len - start),
                        style("tab-bar--rule-active" if lit else "tab-bar--rule"))
        rest = max(0, self.size.width - rule.cell_len)
        rule.append("━" * rest, style("tab-bar--rule"))
        titles.append("\n")
        titles.append_text(rule)
        titles.no_wrap = True
        titles.overflow = "crop"
        return titles

    def on_click(self, event: events.Click) -> None:
        for start, end, name in self._spots:
            if start <= event.x < end:
                event.stop()
                self.post_message(TabBar.Chosen(name))
                return

    class Chosen(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name


class Pane(Vertical):
    """One tab's content (built by the screen the first time the tab shows)."""

    DEFAULT_CSS = "Pane { height: 1fr; padding: 0 1; }"


class DetailTabs(Vertical):
    """Tabs named by `titles` ((name, title) pairs): the bar, and a pane (id = name) each.
    `active` is the name of the tab shown."""

    active: reactive[str] = reactive("", init=False)

    class Activated(Message):
        """Tab `name` is shown now."""

        def __init__(self, tabs: DetailTabs, name: str) -> None:
            super().__init__()
            self.tabs = tabs
            self.name = name

        @property
        def control(self) -> DetailTabs:
            return self.tabs

    def __init__(self, titles: tuple[tuple[str, str], ...], initial: str,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.titles = titles
        self.set_reactive(DetailTabs.active, initial)

    def compose(self) -> ComposeResult:
        bar = TabBar(self.titles)
        bar.active = self.active
        yield bar
        with ContentSwitcher(initial=self.active):
            for name, _ in self.titles:
                yield Pane(id=name)

    def pane(self, name: str) -> Pane:
        return self.query_one(f"#{name}", Pane)

    def watch_active(self, name: str) -> None:
        self.query_one(ContentSwitcher).current = name
        self.query_one(TabBar).show(name)
        self.post_message(self.Activated(self, name))

    def on_tab_bar_chosen(self, message: TabBar.Chosen) -> None:
        message.stop()
        self.active = message.name


__all__ = ["DetailTabs", "Pane", "TabBar"]
