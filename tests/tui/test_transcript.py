"""The Conversation tab as a transcript: blocks per kind at their detail levels, folding,
lazy tabs and lazy mounting on a long request, and a search opened on its hits."""

from __future__ import annotations

import dataclasses
import json

import pytest
from textual.widgets import Static, TextArea, Tree

from inspector.attribution import attribute
from inspector.model import Usage
from inspector.store import Store
from inspector.tui.app import make_app
from inspector.tui.screens.detail import DetailScreen
from inspector.tui.widgets.detail.raw_view import RawView
from inspector.tui.widgets.detail.transcript import BATCH, Transcript, TranscriptBlock

from .helpers import wait_for
from .sample import demo_records, fixed_clock, make_record, sample_records, T0, SESSION_A

SIZE = (140, 36)
pytestmark = pytest.mark.anyio


def _text(widget) -> str:
    """A widget's content as plain text, as a console would print it."""
    from io import StringIO

    from rich.console import Console

    out = StringIO()
    shown = widget.content_renderable() if isinstance(widget, TranscriptBlock) else widget.content
    Console(file=out, width=130, color_system=None).print(shown)
    return out.getvalue()


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
        await wait_for(pilot, lambda: bool(screen.query(TranscriptBlock)))
        transcript = screen.query_one(Transcript)
        assert app.focused is transcript
        blocks = list(screen.query(TranscriptBlock))
        kinds = {b.item.kind for b in blocks}
        assert {"user", "assistant", "tool_call", "tool_result", "system"} <= kinds
        shown = lambda kind: [b for b in blocks if b.item.kind == kind and b.display]  # noqa: E731
        # default: the dialogue in full, tool results on one line
        result = shown("tool_result")[0]
        assert len(_text(result).strip().splitlines()) == 1
        # 5 cycles tool results: full (folded after 12 lines) -> hidden -> one line
        await pilot.press("5")
        await pilot.pause(0.05)
        assert "more lines (Enter to open)" in _text(result)
        folded = len(_text(result).splitlines())
        transcript.set_cursor(result.index)
        await pilot.press("enter")  # opens in place
        await pilot.pause(0.05)
        assert len(_text(result).splitlines()) > folded + 10
        await pilot.press("5")
        await pilot.pause(0.05)
        assert not shown("tool_result")
        # presets: just the dialogue, then everything
        await pilot.press("t")
        await pilot.pause(0.05)
        assert {b.item.kind for b in blocks if b.display} == {"user", "assistant"}
        legend = _text(screen.query_one("#transcript-legend"))
        assert "○ tool results" in legend and "● user" in legend
        await pilot.press("e")
        await pilot.pause(0.05)
        assert all(b.display for b in blocks)
        # the reminder reads as a reminder, not as the user's words
        reminder = next(b for b in blocks if "CLAUDE.md" in b.item.text)
        assert reminder.item.kind == "system" and "system reminder" in reminder.item.title


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
        # only the Context tab (and the Diff placeholder) are built
        assert set(screen.built) == {"context", "diff"}
        for tab in ("#conversation", "#raw", "#response", "#headers", "#timing"):
            assert not screen.query_one(tab).children, tab
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: bool(screen.query(TranscriptBlock)))
        await pilot.pause(0.3)
        mounted = len(screen.query(TranscriptBlock))
        assert mounted < count / 4, mounted  # a few screens, not 1,200 blocks
        transcript = screen.query_one(Transcript)
        # scrolling down mounts more as it goes
        await pilot.press("pagedown", "pagedown", "pagedown")
        await wait_for(pilot, lambda: len(screen.query(TranscriptBlock)) > mounted)
        # End mounts a window at the end, not everything in between
        await pilot.press("end")
        last = len(transcript.items) - 1
        await wait_for(pilot, lambda: transcript.block(last) is not None)
        assert len(screen.query(TranscriptBlock)) < count / 4
        assert "earlier blocks" in _text(screen.query_one("#transcript-earlier"))
        # scrolling up from there brings the earlier blocks back in
        lo = transcript.lo
        await wait_for(pilot, lambda: transcript.scroll_y > 0)
        transcript.scroll_home(animate=False)
        await wait_for(pilot, lambda: transcript.lo < lo)
        # Home: the first block again
        await pilot.press("home")
        await wait_for(pilot, lambda: transcript.lo == 0 and transcript.block(0) is not None)
        # just the dialogue, from the end upwards: the cursor walks across windows, on screen
        await pilot.press("t", "end")
        await wait_for(pilot, lambda: transcript.cursor == last)
        for _ in range(25):
            await pilot.press("up")
        await pilot.pause(0.2)
        block = transcript.block(transcript.cursor)
        assert block.item.kind in ("user", "assistant") and transcript._visible(block)
        assert transcript.cursor < last - 40 and transcript.lo < last - BATCH
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
        assert screen.query_one(Transcript).lo > 400
        await wait_for(pilot, lambda: bool(screen.query(".-hit")))
        block = screen.query_one(".-hit", TranscriptBlock)
        assert block.item.kind == "tool_result" and block.expanded and block.display
        assert "NeedleError" in _text(block)  # past the fold: opened in place
        # lit on screen: the transcript scrolled to it
        transcript = screen.query_one(Transcript)
        await wait_for(pilot, lambda: transcript.scroll_y > 0 and transcript._visible(block))
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


def test_search_is_smart_about_case_and_takes_any_text():
    from inspector.tui.widgets.detail.search import compile_search, line_col

    assert compile_search("needle").search("a NEEDLE")
    assert not compile_search("Needle").search("a NEEDLE")
    assert compile_search("f(x").search("call f(x now")  # not a valid regex: as it is
    assert line_col("ab\ncd\nef", 7) == (2, 1)


async def test_the_footer_recomposes_only_when_its_keys_change(filled):
    from textual.widgets import Tabs
    from textual.widgets._footer import FooterKey

    from inspector.tui.widgets.footer import KeysFooter

    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, sample_records()[3].capture.id)
        footer = screen.query_one(KeysFooter)
        tree = screen.query_one("#context-tree", Tree)
        await wait_for(pilot, lambda: app.focused is tree and footer.recomposed == 1)
        keys = lambda: {k.description for k in footer.query(FooterKey)}  # noqa: E731
        assert {"Back", "Next tab"} <= keys() and "Dialogue" not in keys()
        # the tab bar and the tree show the same keys: focus moves, the footer stays
        screen.query_one(Tabs).focus()
        await pilot.pause(0.1)
        tree.focus()
        await pilot.pause(0.1)
        assert footer.recomposed == 1
        # the transcript has keys of its own: they come in, and go when it loses focus
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: "Dialogue" in keys())
        assert footer.recomposed == 2
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: "Dialogue" not in keys())
        assert footer.recomposed == 3


async def test_opened_on_a_search_the_footer_shows_the_hits_tab_keys_at_once(config):
    from textual.widgets._footer import FooterKey

    from inspector.tui.widgets.footer import KeysFooter

    rec, _ = _long_record()  # slow enough to load that the footer would compose before
    with Store(config.db_path) as store:
        store.write([rec])
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await _open(app, pilot, rec.capture.id, search=r"Needle\w+")
        footer = screen.query_one(KeysFooter)
        keys = lambda: {k.description for k in footer.query(FooterKey)}  # noqa: E731
        # the hit is in the transcript: its keys, composed once (not first the keys of
        # what had focus while the request loaded)
        await wait_for(pilot, lambda: isinstance(app.focused, Transcript) and "Dialogue" in keys())
        await pilot.pause(0.1)
        assert footer.recomposed == 1 and {"Back", "Next hit"} <= keys()


async def test_a_late_focus_notice_does_not_pull_a_tab_back(filled):
    from textual.widgets import TabPane

    app = make_app(filled, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, sample_records()[3].capture.id)
        tabs = screen.query_one("#detail-tabs")
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: app.focused is screen.query_one(Transcript))
        # the tree took the keyboard as the request arrived; a key chose another tab before
        # the Context pane's notice of it came in: that notice does not pull Context back
        context = screen.query_one("#context", TabPane)
        context.post_message(TabPane.Focused(context))
        await pilot.pause(0.1)
        assert tabs.active == "conversation"
        assert app.focused is screen.query_one(Transcript)


def test_a_one_line_block_is_measured_without_rendering_and_stays_one_line():
    from io import StringIO

    from rich.console import Console
    from textual.geometry import Size

    from inspector.tui.widgets.detail.transcript_items import FULL, LINE, Item

    # a tool name with a line break in it (a request may hold anything)
    item = Item("tool_call", "→ odd\nname  assistant #1", '{\n  "a": 1\n}', "json", 1,
                summary='{"a": 1}')
    block = TranscriptBlock(item, 0, LINE)
    size = Size(60, 20)
    assert block.one_line and block.get_content_height(size, size, 60) == 1
    console = Console(width=60, file=StringIO())
    lines = console.render_lines(block.content_renderable(), console.options)
    assert len(lines) == 1 and "odd name" in "".join(s.text for s in lines[0])
    block.expanded = True  # opened: measured as what it shows
    assert not block.one_line
    assert not TranscriptBlock(item, 0, FULL).one_line
