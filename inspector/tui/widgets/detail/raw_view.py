"""The Raw tab: the exchange as indented JSON, drawn one visible line at a time.

A TextArea built a document, a wrap map and a syntax tree for all of a 1 MB request's tens
of thousands of lines on the UI thread (half a second). Here the text is split into lines
in a worker (`RawDoc.build`); the widget is a line-API `ScrollView` (as Textual's `Log`)
whose `render_line` colours and crops only the lines on screen, so showing it costs the
same for ten lines or fifty thousand.

Read-only: arrows/PgUp/PgDn/Home/End scroll, a search match can be lit and scrolled to
(`show_match`), and a mouse selection can be copied with ctrl+c (Textual's own selection).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

#: control characters a terminal must not get (tabs are expanded before this)
_CONTROL = re.compile("[\u0000-\u0008\u000b-\u001f\u007f]")
#: JSON tokens worth a colour: strings (keys when a colon follows), numbers, literals.
#: The string pattern is the "unrolled loop" form: fast on strings of 100 KB.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"(?P<key>\s*:)?'
                    r'|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)'
                    r'|(?P<lit>\btrue\b|\bfalse\b|\bnull\b)')
KEY = Style(color="#79c0ff")
STRING = Style(color="#a5d6a7")
NUMBER = Style(color="#f2cc60")
LITERAL = Style(color="#ff9e80", italic=True)
GUTTER = Style(dim=True)
MATCH = Style(color="black", bgcolor="#ffd54f", bold=True)  # the search hit shown
HIT = Style(bgcolor="#5c4a00")  # the search's other hits


@dataclass(frozen=True)
class RawDoc:
    """The Raw text cut into display lines, with what the widget needs to size and search
    it. Made by `build`, in a worker thread: nothing here is cheap on a 1 MB text."""

    text: str
    lines: list[str]  # as drawn: tabs expanded, control characters replaced
    starts: list[int]  # offset in `text` where each line starts
    width: int  # cells of the widest line
    wide: frozenset[int] = frozenset()  # lines whose cells are not one per character

    @classmethod
    def build(cls, text: str) -> RawDoc:
        lines = text.split("\n")
        starts, at, width, wide = [], 0, 0, set()
        for i, line in enumerate(lines):
            starts.append(at)
            at += len(line) + 1
            if "\t" in line:
                line = line.expandtabs()
            if _CONTROL.search(line):
                line = _CONTROL.sub("\ufffd", line)
            lines[i] = line
            cells = len(line)
            if not line.isascii() and (cells := cell_len(line)) != len(line):
                wide.add(i)  # CJK, emoji, combining marks: drawn whole, then cropped
            width = max(width, cells)
        return cls(text, lines, starts, width, frozenset(wide))

    def locate(self, offset: int) -> tuple[int, int]:
        """(line, column) of a character offset in `text`."""
        line = bisect_right(self.starts, offset) - 1
        return line, offset - self.starts[line]


def json_spans(line: str) -> list[tuple[int, int, Style]]:
    """Where to colour one line of indented JSON (character offsets)."""
    spans = []
    for m in _TOKEN.finditer(line):
        if m.lastgroup == "num":
            spans.append((m.start(), m.end(), NUMBER))
        elif m.lastgroup == "lit":
            spans.append((m.start(), m.end(), LITERAL))
        elif m.group("key"):
            spans.append((m.start(), m.start("key"), KEY))
        else:
            spans.append((m.start(), m.end(), STRING))
    return spans


class RawView(ScrollView, can_focus=True):
    """Lines of `doc`, numbered, coloured as JSON, scrolled both ways; one lit match."""

    ALLOW_SELECT = True

    def __init__(self, doc: RawDoc | None = None, *, id: str | None = None) -> None:
        """Without a `doc` the view says the text is being made; `load` gives it one."""
        super().__init__(id=id)
        self.doc = RawDoc("", [], [], 0)
        self.loaded = False
        self.match: tuple[int, int, int] | None = None  # (line, start, end) lit
        self.pattern: re.Pattern[str] | None = None  # the search: its hits are tinted
        self.rendered = 0  # lines drawn so far (tests check only visible ones are)
        self._gutter = 0
        self._base: Style | None = None  # the widget's own style, cached: costly to get
        # a few screens of lines either way: each Strip carries seven small caches of its
        # own (~15 objects the garbage collector walks on every full pass while it lives)
        self._spans: LRUCache[int, list[tuple[int, int, Style]]] = LRUCache(1024)
        self._strips: LRUCache[tuple[int, int, int], Strip] = LRUCache(256)
        if doc is not None:
            self.load(doc)

    def load(self, doc: RawDoc) -> None:
        """Show `doc`: cheap however long it is (lines are drawn as they come on screen)."""
        self.doc, self.loaded, self.match = doc, True, None
        self._gutter = len(str(len(doc.lines))) + 1
        self._spans.clear()
        self._strips.clear()
        self.virtual_size = Size(self._gutter + doc.width, len(doc.lines))
        self.refresh()

    # -- drawing ---------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base = None
        self._strips.clear()

    def selection_updated(self, selection: Selection | None) -> None:
        self._strips.clear()
        self.refresh()

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text, for ctrl+c (offsets are line and column of `doc.lines`)."""
        return selection.extract("\n".join(self.doc.lines)), "\n"

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        if self._base is None:
            self._base = self.rich_style
        if not self.loaded and y == 0:
            text = Text(" Formatting the exchange as JSON…", style=self._base + GUTTER, end="")
            return Strip(text.render(self.app.console)).crop_extend(0, width, self._base)
        if index >= len(self.doc.lines):
            return Strip.blank(width, self._base)
        body = max(0, width - self._gutter)
        key = (index, scroll_x, body)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render(index, scroll_x, body)
            if self.text_selection is None:
                self._strips[key] = strip
        return strip

    def _render(self, index: int, scroll_x: int, width: int) -> Strip:
        """Line `index` from column `scroll_x`, `width` cells, after its number."""
        self.rendered += 1
        base = self._base or self.rich_style
        number = Segment(f"{index + 1:>{self._gutter - 1}} ", base + GUTTER)
        line = self.doc.lines[index]
        spans = self._spans.get(index)
        if spans is None:
            spans = json_spans(line)
            if self.pattern is not None:
                spans += [(m.start(), m.end(), HIT) for m in self.pattern.finditer(line)
                          if m.end() > m.start()]
            self._spans[index] = spans
        if self.match is not None and self.match[0] == index:
            spans = [*spans, (self.match[1], self.match[2], MATCH)]
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(index)) is not None:
            start, end = span
            style = self.screen.get_component_rich_style("screen--selection")
            spans = [*spans, (start, len(line) if end == -1 else end, style)]
        if index not in self.doc.wide:
            # one cell per character: cut the visible slice first, however long the line
            lo, hi = scroll_x, scroll_x + width
            text = Text(line[lo:hi], style=base, no_wrap=True, end="")
            for start, end, style in spans:
                if end > lo and start < hi:
                    text.stylize(style, max(start, lo) - lo, min(end, hi) - lo)
            strip = Strip(text.render(self.app.console), text.cell_len)
            strip = strip.crop_extend(0, width, base)
        else:  # wide characters: draw the whole line, then crop by cells
            text = Text(line, style=base, no_wrap=True, end="")
            for start, end, style in spans:
                text.stylize(style, start, end)
            strip = Strip(text.render(self.app.console), text.cell_len)
            strip = strip.crop_extend(scroll_x, scroll_x + width, base)
        # offsets let the mouse select text (columns counted from the line's start)
        return Strip.join([Strip([number], self._gutter), strip.apply_offsets(scroll_x, index)])

    # -- keys ----------------------------------------------------------------------------------
    def action_scroll_home(self) -> None:
        """Jump (an animated scroll draws every line on the way) to line 1, column 1."""
        self.scroll_home(animate=False)

    def action_scroll_end(self) -> None:
        """Jump to the last line, keeping the column."""
        self.scroll_end(animate=False, x_axis=False)

    # -- the search ------------------------------------------------------------------------
    def highlight(self, pattern: re.Pattern[str] | None) -> None:
        """Tint every hit of `pattern` (found line by line, as lines are drawn)."""
        self.pattern = pattern
        self._spans.clear()
        self._strips.clear()
        self.refresh()

    # -- a lit match -------------------------------------------------------------------------
    def show_match(self, line: int, start: int, end: int) -> None:
        """Light columns `start:end` of `line` and scroll it to the middle of the view."""
        self.match = (line, start, end)
        self._strips.clear()
        self.refresh()
        self._scroll_to_match()
        # just mounted, the view has no size yet: scroll again once it is laid out
        self.call_after_refresh(self._scroll_to_match)

    def _scroll_to_match(self) -> None:
        if self.match is None:
            return
        line, start, end = self.match
        width = max(1, self.size.width - self._gutter)
        x = self.scroll_x
        if start < x or end > x + width:  # sideways only when the match is off screen
            x = max(0, start - width // 4)
        # forced: just loaded, the view may not have worked out its scrollbars yet, and
        # a scroll is refused until it has
        self.scroll_to(x=x, y=max(0, line - self.size.height // 2), animate=False,
                       force=True)

    def match_text(self) -> str | None:
        """The lit match's text."""
        if self.match is None:
            return None
        line, start, end = self.match
        return self.doc.lines[line][start:end]

    def match_visible(self) -> bool:
        """Is the lit match on screen?"""
        if self.match is None:
            return False
        line, start, end = self.match
        x, y = self.scroll_offset
        return (y <= line < y + self.size.height
                and x <= start and end <= x + self.size.width - self._gutter)
