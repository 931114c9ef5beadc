"""The tree JSON written in the flattening walk is exactly `dumps(node.to_dict())`."""

from __future__ import annotations

from inspector.attribution import attribute
from inspector.demo.traffic import demo_session
from inspector.model import Node, Usage
from inspector.store import rows


def _trees() -> list[Node]:
    out = []
    for turn in demo_session(seed=9, turns=5):
        u = turn.response["usage"]
        usage = Usage(input_tokens=u["input_tokens"], output_tokens=u["output_tokens"],
                      cache_read_input_tokens=u["cache_read_input_tokens"],
                      cache_creation_input_tokens=u["cache_creation_input_tokens"])
        out += [attribute(turn.request, usage, headers=turn.headers), attribute(turn.request)]
    odd = Node("prompt", 'quote " and \u2028 é \x01', meta={"a": [1, 2], "source": "s"}, children=[
        Node("k", "l", meta={"z": 1, "source": "q"}),
        Node("k", "l", meta={"source": 5}),
        Node("k", "l", meta={"source": "x", "cost_usd": float("nan"), "big": 10**30}),
        Node("k", "l", chars=3, tokens=2, meta={"cost_usd": 1e-300, "deferred": True}),
        Node("k", ("not", "a", "string"), meta={"source": "t"}),  # falls back to dumps
    ])
    return out + [odd, Node("prompt", "empty")]


def test_tree_json_equals_dumps_and_rows_are_complete():
    for tree in _trees():
        sums: dict = {}
        node_rows, text, top, totals = rows.flatten_tree("rid", tree, sums)
        assert text == rows.dumps(tree.to_dict())
        assert len(node_rows) == sum(1 for _ in _walk(tree))
        leaves = list(tree.leaves()) if tree.children else [tree]
        assert sum(s[0] for s in sums.values()) == len(leaves)
        assert sum(s[2] for s in sums.values()) == sum(leaf.tokens for leaf in leaves)
        for row, node in zip(node_rows, _walk(tree)):
            meta = {k: v for k, v in node.meta.items() if k != "source"}
            if row[11] is not None:
                assert row[11] == rows.dumps(meta)


def _walk(node: Node):
    yield node
    for child in node.children:
        yield from _walk(child)
