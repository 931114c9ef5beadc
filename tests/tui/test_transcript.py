"""The Conversation tab as a transcript: blocks per kind at their detail levels, folding,
lazy tabs and lazy mounting on a long request, and a search opened on its hits."""

from __future__ import annotations

import dataclasses
import json

import pytest
from textual.widgets import TextArea, Tree

from inspector.attribution import attribute
from inspector.store import Store
from inspector.tui.app import make_app
from inspector.tui.screens.detail import DetailScreen
from inspector.tui.widgets.detail.raw_view import RawView
from inspector.tui.widgets.detail.transcript import Transcript

from .helpers import wait_for
from .sample import fixed_clock, make_record, sample_records, T0, SESSION_A

SIZE = (140, 36)
pytestmark = pytest.mark.anyio


def _text(widget) -> str:
    """A widget's content as plain text, as a console would print it."""
    from io import StringIO

    from rich.console import Console

    out = StringIO()
    Console(file=out, width=130, color_system=None).print(widget.content)
    return out.getvalue()


def _on_screen(transcript: Transcript) -> str:
    """The transcript's lines in view, as drawn."""
    return "\n".join(transcript.render_line(y).text.rstrip()
                     for y in range(transcript.scrollable_content_region.height))


async def _open(app, pilot, capture_id, search=None):
    await wait_for(pilot, lambda: app.main.counts.total > 0)
    app.push_screen(DetailScreen(app.backend, capture_id, search=search))
    # loaded: the Context tab is built, or the tab of the search's first hit is shown
    await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                   and (bool(app.screen.query("#context-tree")) or app.screen.hit_index >= 0))
    return app.screen


async def test_transcript_levels_presets_and_folding(filled):
    rec = sample_records()[3]  # four turns: a CLAUDE.md reminder, tool calls and results
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, rec.capture.id)
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: bool(screen.query(Transcript)))
        transcript = screen.query_one(Transcript)
        await wait_for(pilot, lambda: transcript.rendered > 0)
        assert app.focused is transcript
        items = transcript.items
        kinds = {i.kind for i in items}
        assert {"user", "assistant", "tool_call", "tool_result", "system"} <= kinds
        shown = lambda kind: [i for i, it in enumerate(items)  # noqa: E731
                              if it.kind == kind and transcript.shown(i)]
        # default: the dialogue in full, tool results on one line
        result = shown("tool_result")[0]
        assert len(transcript.block_text(result).splitlines()) == 1
        assert transcript.block_text(result).split()[0] in _on_screen(transcript)
        # 5 cycles tool results: full (folded after 12 lines) -> hidden -> one line
        await pilot.press("5")
        await pilot.pause(0.05)
        assert "more lines (Enter to open)" in transcript.block_text(result)
        folded = len(transcript.block_text(result).splitlines())
        transcript.set_cursor(result)
        await pilot.press("enter")  # opens in place
        await pilot.pause(0.05)
        assert len(transcript.block_text(result).splitlines()) > folded + 10
        # the lines below moved down with it: heights are exact where the view is
        assert transcript.top(result + 1) - transcript.top(result) >= folded + 10
        await pilot.press("enter")  # and folds again
        await pilot.pause(0.05)
        assert len(transcript.block_text(result).splitlines()) == folded
        await pilot.press("5")
        await pilot.pause(0.05)
        assert not shown("tool_result")
        assert transcript.top(result + 1) == transcript.top(result)  # no line at all
        # presets: just the dialogue, then everything
        await pilot.press("t")
        await pilot.pause(0.05)
        assert {items[i].kind for i in range(len(items)) if transcript.shown(i)} == {
            "user", "assistant"}
        assert transcript.shown(transcript.cursor)  # the cursor left the hidden blocks
        legend = _text(screen.query_one("#transcript-legend"))
        assert "○ tool results" in legend and "● user" in legend
        await pilot.press("e")
        await pilot.pause(0.05)
        assert all(transcript.shown(i) for i in range(len(items)))
        # the reminder reads as a reminder, not as the user's words
        reminder = next(i for i in items if "CLAUDE.md" in i.text)
        assert reminder.kind == "system" and "system reminder" in reminder.title
        # the cursor walks the blocks, kept in view; a click opens the block clicked
        await pilot.press("home")
        for _ in range(len(items) - 1):
            await pilot.press("down")
        await pilot.pause(0.05)
        assert transcript.cursor == len(items) - 1 and transcript.on_screen(transcript.cursor)
        first = transcript.item_at(round(transcript.scroll_y) + 1)
        await pilot.click(Transcript, offset=(5, 1))
        await pilot.pause(0.05)
        assert transcript.cursor == first and first in transcript.expanded
        # a selection over lines on screen copies their text (columns from the block's)
        from textual.geometry import Offset
        from textual.selection import Selection

        top = round(transcript.scroll_y)
        shown = _on_screen(transcript).splitlines()
        screen.selections = {transcript: Selection(Offset(3, top), Offset(9, top + 1))}
        await pilot.pause(0.05)
        assert screen.get_selected_text() == shown[0][1 + 3:].rstrip() + "\n" + shown[1][1:1 + 9]


async def test_a_group_node_shows_its_parts_not_the_messages_json(filled):
    rec = sample_records()[3]
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, rec.capture.id)
        tree = screen.query_one("#context-tree", Tree)
        history = next(n for n in tree.root.children if n.data.label == "Messages")
        history.expand()
        await pilot.pause(0.05)
        group = next(n for n in history.children if n.data.label == "Tool results")
        assert group.data.path == "/messages"  # the path a group used to show whole
        tree.move_cursor(group)
        await pilot.pause(0.1)
        content = screen.query_one("#context-content", TextArea).text
        assert '"role"' not in content and '"messages"' not in content
        for child in group.data.children:  # each part, and what its own parts are
            assert f"{child.label}: {child.tokens:,} tokens" in content
        assert "2 parts: Bash, Bash" in content
        # deeper groups join the tree when first expanded
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert [c.data.label for c in group.children] == ["Bash", "github (MCP)"]
        assert not group.children[0].children  # not yet: its own turn
        group.children[0].expand()
        await pilot.pause(0.05)
        assert [c.data.label for c in group.children[0].children] == ["Bash", "Bash"]


def _long_record(turns: int = 300):
    """A request after `turns` tool-using turns (~600 messages), the sample's shape."""
    rec = make_record(900, T0 + 4000, SESSION_A, 0)
    body = json.loads(rec.capture.request_text)
    messages = body["messages"]
    for t in range(turns):
        use = f"toolu_long_{t}"
        messages.append({"role": "assistant", "content": [
            {"type": "text", "text": f"Step {t}: reading **module {t}**."},
            {"type": "tool_use", "id": use, "name": "Read", "input": {"file_path": f"/src/m{t}.py"}}]})
        lines = "".join(f"{i:>4}\tdef f_{t}_{i}(): pass\n" for i in range(40))
        if t == 250:
            lines += "    raise NeedleError('the token expired')\n"
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": use, "content": lines}]})
    text = json.dumps(body)
    capture = dataclasses.replace(rec.capture, request_text=text, request_json=body,
                                  request_bytes=len(text))
    node = attribute(body, None, headers={})
    return dataclasses.replace(rec, capture=capture, attribution=node), len(messages)


async def test_a_long_request_opens_without_building_everything(config):
    rec, count = _long_record()
    with Store(config.db_path) as store:
        store.write([rec])
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open(app, pilot, rec.capture.id)
        assert count > 600
        # only the Context tab is built
        assert set(screen.built) == {"context"}
        for tab in ("#conversation", "#raw", "#response", "#headers", "#timing", "#diff"):
            assert not screen.query_one(tab).children, tab
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: bool(screen.query(Transcript)))
        transcript = screen.query_one(Transcript)
        await wait_for(pilot, lambda: transcript.rendered > 0)
        await pilot.pause(0.3)
        rendered = transcript.rendered
        assert rendered < 100, rendered  # what shows (and a screen more), not 1,200 blocks
        assert "system prompt 1/" in _on_screen(transcript)
        # scrolling down renders more as it goes; the lines on screen are the blocks there
        await pilot.press("pagedown", "pagedown", "pagedown")
        await wait_for(pilot, lambda: transcript.rendered > rendered)
        top = transcript.item_at(round(transcript.scroll_y))
        assert top > 0 and transcript.items[top].title.split()[0] in _on_screen(transcript)
        # End: the last block at the bottom, the blocks in between never rendered
        await pilot.press("end")
        last = len(transcript.items) - 1
        await wait_for(pilot, lambda: transcript.cursor == last and transcript.on_screen(last))
        assert transcript.scroll_y == transcript.max_scroll_y
        assert transcript.rendered < 250, transcript.rendered
        assert "f_299_" in _on_screen(transcript) or "Read result" in _on_screen(transcript)
        # Home: the first block again
        await pilot.press("home")
        await wait_for(pilot, lambda: transcript.scroll_y == 0)
        assert "system prompt 1/" in _on_screen(transcript)
        # just the dialogue, from the end upwards: the cursor walks the blocks, on screen
        await pilot.press("t", "end")
        said = max(i for i, it in enumerate(transcript.items) if it.kind in ("user", "assistant"))
        await wait_for(pilot, lambda: transcript.cursor == said)
        for _ in range(25):
            await pilot.press("up")
        await pilot.pause(0.2)
        cursor = transcript.cursor
        assert transcript.items[cursor].kind in ("user", "assistant")
        assert transcript.on_screen(cursor) and cursor < last - 40
        assert transcript.items[cursor].text.split()[0] in _on_screen(transcript)
        assert not screen.query_one("#raw").query(RawView)


async def test_search_opens_the_hit_and_steps_through_hits(config):
    rec, _ = _long_record()
    with Store(config.db_path) as store:
        store.write([rec])
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open(app, pilot, rec.capture.id, search=r"Needle\w+")
        await wait_for(pilot, lambda: screen.hit_index == 0 and screen.search_final, timeout=10)
        status = _text(screen.query_one("#detail-search"))
        # the tool result in the conversation, its part in the tree, the raw JSON
        assert "hit 1/3" in status and "Conversation" in status
        tabs = screen.query_one("#detail-tabs")
        assert tabs.active == "conversation"
        # the hit's tab was the first built, its window mounted at the hit
        assert "context" not in screen.built
        transcript = screen.query_one(Transcript)
        hit = transcript.hit
        assert hit is not None and hit > 400 and transcript.rendered < 100
        item = transcript.items[hit]
        assert item.kind == "tool_result" and hit in transcript.expanded
        # lit on screen, past the fold: opened in place, the transcript scrolled to it
        await wait_for(pilot, lambda: "NeedleError" in _on_screen(transcript))
        assert "NeedleError" in transcript.block_text(hit)
        await pilot.press("n")
        await wait_for(pilot, lambda: tabs.active == "context")
        content = screen.query_one("#context-content", TextArea)
        await wait_for(pilot, lambda: content.selected_text == "NeedleError")
        await pilot.press("n")
        await wait_for(pilot, lambda: tabs.active == "raw")
        await wait_for(pilot, lambda: screen.query("#raw-text")
                       and screen.query_one("#raw-text", RawView).match_text() == "NeedleError")
        assert "hit 3/3" in _text(screen.query_one("#detail-search"))
        await pilot.press("N", "N")
        await wait_for(pilot, lambda: tabs.active == "conversation")
        assert "hit 1/3" in _text(screen.query_one("#detail-search"))


async def test_a_search_whose_first_hit_is_in_the_tree_opens_there(filled):
    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        # a tool's description: in the Context tree, not in the transcript
        screen = await _open(app, pilot, sample_records()[3].capture.id, search="Executes")
        await wait_for(pilot, lambda: bool(screen.query("#context-content")) and screen.query_one(
            "#context-content", TextArea).selected_text == "Executes")
        assert screen.query_one("#detail-tabs").active == "context"
        assert app.focused is screen.query_one("#context-tree")  # arrows move in the tree
        assert "conversation" not in screen.built

async def test_no_hit_says_so_and_n_still_rates(filled):
    from inspector.tui.widgets.detail.rating_prompt import RatingPrompt

    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, sample_records()[0].capture.id, search="zzz_nowhere")
        await wait_for(pilot, lambda: "no hit" in _text(screen.query_one("#detail-search")))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, RatingPrompt))


def test_items_say_what_each_block_is():
    from inspector.tui.widgets.detail.transcript_items import transcript_items

    request = {"system": "Be brief.", "messages": [
        {"role": "system", "content": "From the host."},
        {"role": "user", "content": [
            {"type": "text", "text": "<system-reminder>todo list</system-reminder>"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
            {"type": "text", "text": "Fix it"}]},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "Look first."},
            {"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "a.py"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "is_error": True, "content": "no such file"},
            {"type": "mystery", "x": 1}]}]}
    items = transcript_items(request)
    assert [i.kind for i in items] == ["system", "system", "system", "media", "user", "thinking",
                                       "tool_call", "tool_result", "media"]
    assert items[7].title.startswith("← Read result (error)") and items[7].error
    assert items[6].summary == '{"file_path": "a.py"}' and items[6].form == "json"
    assert items[4].path == "/messages/1/content/2"
    # results: code from the file the call named, JSON when they parse as JSON
    request["messages"][3]["content"] = [
        {"type": "tool_result", "tool_use_id": "t1", "content": "import os\n"},
        {"type": "tool_result", "tool_use_id": "t2", "content": '[{"id": 1}]'}]
    results = [i for i in transcript_items(request) if i.kind == "tool_result"]
    assert [(i.form, i.source) for i in results] == [("code", "a.py"), ("json", "")]


def test_search_reads_a_pattern_as_the_filter_does_and_takes_any_text():
    from inspector.store.search_terms import compile_text
    from inspector.tui.widgets.detail.search import compile_search, line_col

    # plain words in any case (a row `text:Cause` found for "find the cause" has its hit)
    assert compile_search("Cause").search("find the cause")
    assert compile_search("needle").search("a NEEDLE")
    # a regex as written, as the filter reads it
    for pattern, text in ((r"Need\w+", "a NeedleError"), (r"Need\w+", "a needleError")):
        assert bool(compile_search(pattern).search(text)) == bool(
            compile_text(pattern).search(text))
    assert not compile_search(r"Need\w+").search("a needleError")
    assert compile_search("f(x").search("call f(x now")  # not a valid regex: as it is
    assert line_col("ab\ncd\nef", 7) == (2, 1)


async def test_the_footer_changes_only_when_its_keys_do(filled):
    from inspector.tui.widgets.footer import KeysFooter

    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, sample_records()[3].capture.id)
        footer = screen.query_one(KeysFooter)
        tree = screen.query_one("#context-tree", Tree)
        await wait_for(pilot, lambda: app.focused is tree and footer.changes == 1)
        keys = lambda: {k.description for k in footer.keys}  # noqa: E731
        assert {"Back", "Next tab"} <= keys() and "Dialogue" not in keys()
        # the same keys again (focus leaves the tree and comes back): the footer stays
        screen.set_focus(None)
        tree.focus()
        await pilot.pause(0.1)
        assert footer.changes == 1
        # the transcript has keys of its own: they come in, and go when it loses focus
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: "Dialogue" in keys())
        assert footer.changes == 2
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: "Dialogue" not in keys())
        assert footer.changes == 3


async def test_opened_on_a_search_the_footer_shows_the_hits_tab_keys_at_once(config):
    from inspector.tui.widgets.footer import KeysFooter

    rec, _ = _long_record()  # slow enough to load that the footer would compose before
    with Store(config.db_path) as store:
        store.write([rec])
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open(app, pilot, rec.capture.id, search=r"Needle\w+")
        footer = screen.query_one(KeysFooter)
        keys = lambda: {k.description for k in footer.keys}  # noqa: E731
        # the hit is in the transcript: its keys, composed once (not first the keys of
        # what had focus while the request loaded)
        await wait_for(pilot, lambda: isinstance(app.focused, Transcript) and "Dialogue" in keys())
        await pilot.pause(0.1)
        assert footer.changes == 1 and {"Back", "Next hit"} <= keys()


async def test_tabs_change_when_asked_not_when_focus_moves(filled):
    from textual.widgets import Tree

    from inspector.tui.widgets.detail.tabs import TabBar

    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, sample_records()[3].capture.id)
        tabs = screen.query_one("#detail-tabs")
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: app.focused is screen.query_one(Transcript))
        # focus going back into the Context pane (as the tree took it when the request
        # arrived, had a key chosen another tab meanwhile) does not pull Context back
        screen.query_one("#context-tree", Tree).focus()
        await pilot.pause(0.1)
        assert tabs.active == "conversation"
        # a click on a title shows its tab, lit in the bar, its content taking the keyboard
        bar = screen.query_one(TabBar)
        start, _, _ = next(spot for spot in bar._spots if spot[2] == "raw")
        await pilot.click(TabBar, offset=(start + 1, 0))
        await wait_for(pilot, lambda: tabs.active == "raw" and bar.active == "raw")
        await wait_for(pilot, lambda: app.focused is screen.query_one("#raw-text"))
        assert " Raw " in bar.render().plain.splitlines()[0]


def test_a_block_is_sized_before_it_is_rendered_and_a_hit_found_on_its_line():
    from io import StringIO

    from rich.console import Console

    from inspector.tui.widgets.detail.search import compile_search
    from inspector.tui.widgets.detail.transcript_items import Item
    from inspector.tui.widgets.detail.transcript_render import (
        FOLD, block_renderable, estimate_rows, hit_row)

    console = Console(width=60, file=StringIO())
    lines = lambda renderable: console.render_lines(renderable, console.options)  # noqa: E731
    # a tool name with a line break in it (a request may hold anything): one line still
    item = Item("tool_call", "→ odd\nname  assistant #1", '{\n  "a": 1\n}', "json", 1,
                summary='{"a": 1}')
    shown = lines(block_renderable(item, True, False, None))
    assert estimate_rows(item, True, False, 60) == len(shown) == 1
    assert "odd name" in "".join(s.text for s in shown[0])
    # plain text: the estimate is the rendered height, folded or opened
    text = "\n".join(f"line {i} " + "word " * (i % 25) for i in range(40))
    result = Item("tool_result", "← Bash result", text, "text", 2)
    for opened in (False, True):
        rendered = lines(block_renderable(result, False, opened, None))
        assert estimate_rows(result, False, opened, 60) == len(rendered)
    assert len(lines(block_renderable(result, False, False, None))) < FOLD * 3
    # one long line (minified JSON, say) folds too: by characters
    wide = Item("tool_result", "← Fetch result", "word " * 10_000, "text", 3)
    folded = lines(block_renderable(wide, False, False, None))
    assert "more characters (Enter to open)" in "".join(s.text for s in folded[-1])
    assert len(folded) < 50
    # (words wrap short of the width: an estimate, made exact once rendered)
    assert abs(estimate_rows(wide, False, False, 60) - len(folded)) <= len(folded) // 10
    assert estimate_rows(wide, False, True, 60) > 500  # opened: all of it
    # the line of a hit: where the search's lit text shows it
    pattern = compile_search("line 33 ")
    offset = text.index("line 33 ")
    lit = lines(block_renderable(result, False, True, pattern))
    row = hit_row(result, offset, 60, console)
    assert "".join(s.text for s in lit[row]).strip().startswith("line 33")
    assert hit_row(result, 0, 60, console) == 1  # the first line under the title
