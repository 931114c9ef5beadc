"""The detail view marks what the figures rest on: a price assumed from the model's tier,
and parts of the request this version does not recognise."""

from __future__ import annotations

import dataclasses

import pytest
from textual.widgets import Tree

from inspector.attribution import attribute
from inspector.store import Store
from inspector.tui.app import make_app
from inspector.tui.screens.detail import DetailScreen
from .helpers import wait_for
from .sample import T0, fixed_clock, make_record

pytestmark = pytest.mark.anyio


def _record(model: str, extra: dict):
    rec = make_record(1, T0, "s-drift", 0, model=model)
    body = {**rec.capture.request_json, **extra}
    node = attribute(body, rec.capture.usage, headers={})
    return dataclasses.replace(rec, attribution=node)


@pytest.mark.parametrize("model,extra,price_mark,unknown_mark", [
    ("claude-opus-6", {"diagnostics": {"previous_message_id": "msg_1"}}, True, "1 unknown part"),
    ("claude-opus-4-7", {}, False, None),
])
async def test_detail_marks_assumed_prices_and_unknown_parts(config, model, extra, price_mark, unknown_mark):
    rec = _record(model, extra)
    with Store(config.db_path) as store:
        store.write([rec])
    app = make_app(config, None, clock=fixed_clock, strict=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause(0.2)
        app.open_detail(rec.capture.id)
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen)
                       and bool(app.screen.query("#context-tree")))
        title = app.screen.query_one("#context-tree", Tree).root.label.plain
        header = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert ("price assumed" in header) is price_mark
        if unknown_mark:
            assert unknown_mark in title
        else:
            assert "unknown" not in title
