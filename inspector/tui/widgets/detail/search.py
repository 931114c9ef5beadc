"""Search inside one request: the hits of a regular expression in the text each detail tab
shows (Conversation blocks, Context tree parts, the Raw JSON), in the order `n` visits them.
Pure (no Textual): the detail screen runs it in a worker thread and shows the hits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from inspector.model import Node
from inspector.store.search_terms import compile_text
from inspector.tui.exchange_view import content_text, resolve_path
from inspector.tui.widgets.detail.transcript_items import Item

#: more hits than this are not worth stepping through one by one
MOST = 5000
#: the tabs searched, in the order their hits are visited
SEARCHED = ("conversation", "context", "raw")


@dataclass(frozen=True)
class Hit:
    tab: str  # "conversation", "context" or "raw"
    where: int  # conversation: block index; context: index in `leaves`; raw: 0
    start: int  # character offsets of the match in that text
    end: int


def compile_search(text: str) -> re.Pattern[str]:
    """The pattern for `text`, as the table's `text:` filter and `list --text` read it
    (a request the filter found has its hits here): plain words in any case, anything
    else a regex as written; text that is not a valid regex is searched as it is."""
    try:
        return compile_text(text)
    except ValueError:
        return re.compile(re.escape(text), re.IGNORECASE)


def leaves(root: Node | None) -> list[Node]:
    """The tree's nodes that hold content of their own (no children, a path), in the
    tree's display order (largest first), so hits go down the tree as it is drawn."""
    found: list[Node] = []

    def walk(node: Node) -> None:
        for child in sorted(node.children, key=lambda n: n.tokens, reverse=True):
            if child.children:
                walk(child)
            elif child.path:
                found.append(child)

    if root is not None:
        walk(root)
    return found


def leaf_text(node: Node, request: Any) -> str:
    """Exactly what the Context tab shows for a leaf (so offsets line up)."""
    return content_text(resolve_path(request, node.path))


def _matches(pattern: re.Pattern[str], text: str) -> Iterator[tuple[int, int]]:
    for m in pattern.finditer(text):
        if m.end() > m.start():  # an empty match is no hit
            yield m.start(), m.end()


def find_hits(pattern: re.Pattern[str], items: list[Item], tree_leaves: list[Node],
              request: Any, raw_text: str | None) -> list[Hit]:
    """Every hit, tab by tab in SEARCHED order, at most MOST."""
    hits: list[Hit] = []

    def add(tab: str, where: int, text: str) -> bool:
        for start, end in _matches(pattern, text):
            hits.append(Hit(tab, where, start, end))
            if len(hits) >= MOST:
                return False
        return True

    for i, item in enumerate(items):
        if not add("conversation", i, item.text):
            return hits
    for i, node in enumerate(tree_leaves):
        if not add("context", i, leaf_text(node, request)):
            return hits
    if raw_text is not None:
        add("raw", 0, raw_text)
    return hits


def line_col(text: str, offset: int) -> tuple[int, int]:
    """(row, column) of a character offset, as a TextArea locates text."""
    row = text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1)
    return row, col
