"""What the detail screen makes of a stored exchange before it shows anything: the request
body, the transcript's items, the attribution tree and, when it opens on a search, the
hits in the Conversation and Context tabs. Pure (no Textual): the screen makes it in its
load worker, so the UI thread only mounts the first tab.

Knowing the hits at load time lets the screen build the tab of the first hit, with the
transcript's window already at it, instead of the Context tab first and the hit's after.
The Raw tab's hits come later, from another worker: its text is the slowest to make.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from inspector.model import Node
from inspector.tui import exchange_view as xv
from inspector.tui.widgets.detail.search import Hit, compile_search, find_hits, leaves
from inspector.tui.widgets.detail.transcript_items import Item, transcript_items


@dataclass
class Loaded:
    exchange: dict[str, Any]
    request: Any  # the request body (parsed JSON)
    items: list[Item]  # the Conversation tab's blocks
    tree: Node | None  # the attribution tree (the Context tab)
    pattern: re.Pattern[str] | None = None  # the search, if the screen opened on one
    hits: list[Hit] = field(default_factory=list)  # its hits outside the Raw tab

    @classmethod
    def make(cls, exchange: dict[str, Any], search: str | None = None) -> Loaded:
        request = xv.request_json(exchange)
        loaded = cls(exchange, request, transcript_items(request), xv.tree(exchange))
        if search:
            loaded.pattern = compile_search(search)
            loaded.hits = find_hits(loaded.pattern, loaded.items, leaves(loaded.tree),
                                    request, None)
        return loaded
