"""The Raw tab: a long request's JSON drawn line by line (only what is on screen), End and
Home, and a search hit lit and scrolled to, sideways too."""

from __future__ import annotations

import re

import pytest
from textual.geometry import Offset
from textual.selection import Selection

from inspector.store import Store
from inspector.tui.app import make_app
from inspector.tui.widgets.detail.raw_view import (
    HIT, KEY, MATCH, NUMBER, STRING, RawDoc, RawView, json_spans)

from .helpers import wait_for
from .sample import fixed_clock
from .test_transcript import _long_record, _open

pytestmark = pytest.mark.anyio


def _screen_lines(view: RawView) -> list[str]:
    """What the view shows, line by line, as plain text."""
    return [view.render_line(y).text for y in range(view.size.height)]


async def _raw(config):
    rec, _ = _long_record()
    with Store(config.db_path) as store:
        store.write([rec])
    return rec, make_app(config, None, clock=fixed_clock, strict=True)


async def test_raw_of_a_long_request_draws_only_the_lines_on_screen(config):
    rec, app = await _raw(config)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open(app, pilot, rec.capture.id)
        # opened: the tree has the keyboard (else it takes it, and its tab, back from Raw)
        await wait_for(pilot, lambda: app.focused is screen.query_one("#context-tree"))
        await pilot.press("5")
        await wait_for(pilot, lambda: bool(screen.query("#raw-text")), timeout=10)
        view = screen.query_one("#raw-text", RawView)
        assert app.focused is view  # at once, while its text is made
        await wait_for(pilot, lambda: view.loaded and view.rendered > 0)
        await pilot.pause(0.1)
        assert app.focused is view
        lines = view.doc.lines
        assert len(lines) > 5000
        assert view.rendered <= 2 * view.size.height, view.rendered
        shown = _screen_lines(view)
        assert shown[0].startswith("   1 {")
        assert not any(line.startswith(f"{len(lines)} ") for line in shown)
        # End: the last line on screen, drawn without drawing those in between
        before = view.rendered
        await pilot.press("end")
        await wait_for(pilot, lambda: view.scroll_y == view.max_scroll_y)
        await pilot.pause(0.1)
        assert any(line.startswith(f"{len(lines)} ") for line in _screen_lines(view))
        assert view.rendered - before < len(lines) / 10, view.rendered - before
        # a mouse selection's text, for ctrl+c: columns of the lines, not of the screen
        chosen = Selection(Offset(4, 1), Offset(11, 2))
        assert view.get_selection(chosen)[0] == lines[1][4:] + "\n" + lines[2][:11]
        # PgUp, Home: back up to the first line
        await pilot.press("pageup")
        await wait_for(pilot, lambda: view.scroll_y < view.max_scroll_y)
        await pilot.press("home")
        await wait_for(pilot, lambda: view.scroll_y == 0)
        assert _screen_lines(view)[0].startswith("   1 {")


async def test_a_search_hit_in_raw_is_lit_and_scrolled_to(config):
    rec, app = await _raw(config)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open(app, pilot, rec.capture.id, search=r"Needle\w+")
        await wait_for(pilot, lambda: screen.search_final, timeout=10)
        await pilot.press("N")  # the last hit: the raw JSON's
        await wait_for(pilot, lambda: bool(screen.query("#raw-text")), timeout=10)
        view = screen.query_one("#raw-text", RawView)
        await wait_for(pilot, lambda: view.match_text() == "NeedleError" and view.match_visible())
        line, start, _ = view.match
        # far down and far right in a long line: scrolled both ways to show it
        assert view.scroll_y > 1000 and view.scroll_x > 0
        assert start > view.size.width
        row = line - int(view.scroll_y)
        strip = view.render_line(row)
        lit = [seg for seg in strip if seg.style and seg.style.bgcolor == MATCH.bgcolor]
        assert "".join(seg.text for seg in lit) == "NeedleError"
        assert view.pattern is screen.pattern  # the search's other hits are tinted too
        assert app.focused is view
        # Home: back to line 1, column 1
        await pilot.press("home")
        await wait_for(pilot, lambda: view.scroll_offset == (0, 0))


def test_the_raw_doc_locates_offsets_and_colours_json():
    text = '{\n  "a": 1,\n  "b": "x\\ty",\n\t"c": null\n}'
    doc = RawDoc.build(text)
    assert doc.lines[3] == '        "c": null'  # tab expanded
    offset = text.index('"x')
    assert doc.locate(offset) == (2, 7)
    assert doc.width == max(len(line) for line in doc.lines)
    assert not doc.wide
    # an arrow is one cell (drawn from a slice like ASCII); CJK takes two cells a character
    doc = RawDoc.build('"a → b"\n"日本"')
    assert doc.wide == {1} and doc.width == 7
    spans = json_spans('  "a": 12, "b": "q \\" r"')
    assert [(s, e, style) for s, e, style in spans] == [
        (2, 5, KEY), (7, 9, NUMBER), (11, 14, KEY), (16, 24, STRING)]


async def test_long_lines_scroll_sideways_with_wide_characters_cropped_by_cells():
    from textual.app import App

    arrow = '"' + "x → " * 50 + '"'  # one cell a character: cut as a slice
    cjk = '"' + "日本" * 50 + '"'  # two cells a character: drawn whole, cropped by cells

    class One(App):
        def compose(self):
            yield RawView(RawDoc.build(arrow + "\n" + cjk), id="raw-text")

    app = One()
    async with app.run_test(size=(40, 6)) as pilot:
        view = app.query_one(RawView)
        await pilot.pause()
        assert view.render_line(0).text == "1 " + arrow[:38]
        view.scroll_to(x=10, animate=False)
        await pilot.pause()
        assert view.render_line(0).text == "1 " + arrow[10:48]
        # a search's hits tinted, in the drawn slice only
        view.highlight(re.compile("→"))
        tinted = [seg.text for seg in view.render_line(0)
                  if seg.style and seg.style.bgcolor == HIT.bgcolor]
        assert tinted == ["→"] * arrow[10:48].count("→")
        # from cell 10, the second half of the fifth 日: half characters show as spaces
        shown = view.render_line(1)
        assert shown.text == "2 " + " " + "本日" * 9 + " " and shown.cell_length == 40
