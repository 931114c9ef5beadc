"""The Context tab: the attribution tree (tokens, share, a bar; largest first) beside the
content of the selected node, pulled out of the request JSON by the node's `path`."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static, TextArea, Tree
from textual.widgets.text_area import Selection

from inspector.model import Node
from inspector.tui import format as fmt
from inspector.tui.errors import guarded
from inspector.tui.exchange_view import content_text, group_text, resolve_path
from inspector.tui.widgets.detail.search import line_col


#: columns for a node's name at the top level; deeper names get less, so the numbers after
#: them line up in one column whatever the depth
NAME_WIDTH = 34
INDENT = 4


def node_label(node: Node, total: int, depth: int = 0, bar_width: int = 12) -> Text:
    """"github  3 tools ....   386  11.8% ██▍" with the numbers aligned across depths."""
    name = Text(node.label)
    if node.meta.get("tool_count"):
        name.append(f"  {node.meta['tool_count']} tools", style="dim")
    width = max(NAME_WIDTH - INDENT * depth - (2 if node.children else 0), 8)
    name.truncate(width, overflow="ellipsis", pad=True)
    text = Text()
    text.append_text(name)
    text.append(f" {fmt.tokens(node.tokens):>6}", style="bold")
    text.append(f" {fmt.percent(node.tokens, total):>6} ", style="dim")
    text.append(fmt.bar(node.tokens, total, bar_width), style="cyan")
    if node.cached:
        text.append(" cached", style="green")
    if node.meta.get("counted") == "api":
        text.append(" exact", style="magenta")  # counted by the API, not estimated
    return text


class ContextView(Horizontal):
    """Tree on the left, the selected node's content on the right."""

    def __init__(self, root: Node | None, request: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = root
        self.request = request
        self._tree_nodes: dict[int, Any] = {}  # id(Node) -> its TreeNode, to jump to a hit
        self._pending: tuple[Node, int, int] | None = None  # a hit to select once shown
        # groups whose children are not in the tree yet: id(Node) -> (TreeNode, depth)
        self._unfilled: dict[int, tuple[Any, int]] = {}
        self._total = root.tokens if root else 0

    def compose(self) -> ComposeResult:
        total = self.root.tokens if self.root else 0
        title = "Attribution"
        if self.root:
            window = self.root.meta.get("context_window")
            title = f"Prompt {fmt.tokens(total)} tokens"
            if window:
                title += f" of {fmt.tokens(window)} context window ({fmt.percent(total, window).strip()})"
            unknown = sum((self.root.meta.get("unknown") or {}).values())
            if unknown:  # sections this version does not recognise: a new Claude Code?
                title += f" · {unknown} unknown part{'s' if unknown > 1 else ''}"
        tree: Tree[Node] = Tree(Text(title, style="bold"), id="context-tree")
        tree.show_root = True
        tree.guide_depth = INDENT
        if self.root:
            tree.root.data = self.root
            self._add(tree.root, self.root, total, depth=0)
            tree.root.expand()
        with Vertical(id="context-left"):
            yield tree
        with Vertical(id="context-right"):
            yield Static("Select a source to see what it sends.", id="context-caption")
            yield TextArea("", read_only=True, id="context-content", soft_wrap=True,
                           show_line_numbers=False)

    def _add(self, parent, node: Node, total: int, depth: int) -> None:  # noqa: ANN001
        """Add `node`'s children under `parent`: two levels now (categories and what they
        hold), deeper groups when first expanded (a 300-turn session has ~1,500 nodes,
        most of them messages deep in the history groups)."""
        for child in sorted(node.children, key=lambda n: n.tokens, reverse=True):
            label = node_label(child, total, depth)
            if child.children:
                # categories start folded: the first view is the overview
                branch = parent.add(label, data=child, expand=False)
                self._tree_nodes[id(child)] = branch
                if depth < 1:
                    self._add(branch, child, total, depth + 1)
                else:
                    self._unfilled[id(child)] = (branch, depth + 1)
            else:
                self._tree_nodes[id(child)] = parent.add_leaf(label, data=child)

    def _fill(self, node: Node) -> None:
        """Put a lazily added group's children in the tree."""
        found = self._unfilled.pop(id(node), None)
        if found is not None:
            branch, depth = found
            self._add(branch, node, self._total, depth)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        if event.node.data is not None:
            self._fill(event.node.data)

    def _ancestors(self, target: Node) -> list[Node]:
        """The nodes from the root's child down to `target` (empty when not in the tree)."""
        def walk(node: Node, trail: list[Node]) -> list[Node] | None:
            for child in node.children:
                if child is target:
                    return trail + [child]
                if child.children:
                    found = walk(child, trail + [child])
                    if found:
                        return found
            return None

        return (walk(self.root, []) or []) if self.root else []

    def show_part(self, node: Node, start: int, end: int) -> None:
        """Open the tree down to `node`, select it and, once its content shows, select the
        characters start..end in it (a search hit)."""
        for group in self._ancestors(node)[:-1]:  # groups not yet in the tree come in
            self._fill(group)
        tree_node = self._tree_nodes.get(id(node))
        if tree_node is None:
            return
        parent = tree_node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        self._pending = (node, start, end)
        tree = self.query_one(Tree)
        # the tree numbers its lines again after expanding: move once it has
        self.call_after_refresh(lambda: tree.move_cursor(tree_node, animate=False))

    def on_mount(self) -> None:
        if self.root is None:
            self.query_one("#context-caption", Static).update(
                "No attribution tree was stored for this request (not a Messages API call?).")
        # no focus taken here: focusing pulls its tab to the front, and the user may have
        # chosen another while the request loaded (the screen focuses the active tab)

    @guarded
    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        node: Node | None = event.node.data
        if node is None:
            return
        caption = Text()
        caption.append(node.label, style="bold")
        how = (" (estimated)" if node.estimated else
               " (counted by the API)" if node.meta.get("counted") == "api" else "")
        caption.append(f"   {node.kind} · {node.tokens:,} tokens{how} · {node.chars:,} chars",
                       style="dim")
        source = node.meta.get("source")
        if source:
            caption.append(f" · source {source}", style="dim")
        if node.path:
            caption.append(f"  {node.path}", style="dim italic")
        self.query_one("#context-caption", Static).update(caption)
        # a group shows its own parts (each child, clipped), never its path's whole JSON
        if node.children:
            body = group_text(node, self.request)
        elif node.path:
            body = content_text(resolve_path(self.request, node.path))
        else:
            body = ""
        area = self.query_one("#context-content", TextArea)
        area.load_text(body)
        area.scroll_home(animate=False)
        if self._pending and self._pending[0] is node:
            _, start, end = self._pending
            self._pending = None
            area.selection = Selection(line_col(body, start), line_col(body, end))
            area.scroll_cursor_visible(center=True, animate=False)
