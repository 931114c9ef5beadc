"""A database written by an earlier version (schema 2: one row per tree node, trees and
shared parts as plain text, rollups installed by `stats` or not at all) migrates and
reads as before."""

from __future__ import annotations

import json

import pytest
from sqlite_utils import Database

from inspector.analysis.stats import compute_stats
from inspector.attribution import attribute, cost
from inspector.demo.traffic import demo_session
from inspector.model import Node, Usage
from inspector.store import Store, get_exchange, rollups, rows
from inspector.store.migrations import migrations
from inspector.store.version import SCHEMA_VERSION
from inspector.timeparse import iso_utc

from .helpers import record


def _old_rows(request_id: str, tree: Node) -> list[tuple]:
    """The per-node rows schema 2 kept: pre-order ids, `source` apart from `meta`."""
    out: list[tuple] = []

    def walk(node: Node, parent: int | None) -> None:
        node_id = len(out)
        meta = {k: v for k, v in node.meta.items() if k != "source"}
        out.append((request_id, node_id, parent, node.kind, node.label,
                    node.meta.get("source"), node.chars, node.tokens, int(node.estimated),
                    int(node.cached), node.path, json.dumps(meta) if meta else None))
        for child in node.children:
            walk(child, node_id)

    walk(tree, None)
    return out


def _split_v2(text: str) -> tuple[str, dict[str, str]]:
    """Schema 2's body form: `system`, `tools` and each message of 1 KB or more cut out
    and named by a marker (no history chains)."""
    import hashlib

    from inspector.store.bodies import _value_spans

    others, messages = _value_spans(text)
    parts, out, pos = {}, [], 0
    for start, end in sorted(others + messages):
        if end - start < 1024:
            continue
        digest = hashlib.sha256(text[start:end].encode()).hexdigest()
        parts[digest] = text[start:end]
        out += [text[pos:start], f"\x01{digest}\x01"]
        pos = end
    return "".join(out) + text[pos:], parts


def _schema_2(path, with_rollups: bool) -> list[tuple[str, dict, Node]]:
    db = Database(path)
    migrations.apply(db, stop_before="0003_rollup_tables")
    db.execute("PRAGMA user_version = 2")
    conn = db.conn
    written = []
    for i, turn in enumerate(demo_session(seed=3, turns=3)):
        u = turn.response["usage"]
        usage = Usage(input_tokens=u["input_tokens"], output_tokens=u["output_tokens"],
                      cache_read_input_tokens=u["cache_read_input_tokens"],
                      cache_creation_input_tokens=u["cache_creation_input_tokens"])
        tree = attribute(turn.request, usage, headers=turn.headers)
        rid = f"0000old{i}"
        text = json.dumps(turn.request)
        body, parts = _split_v2(text)
        conn.execute("INSERT INTO requests (id, ts, model, body, cost_usd, top_source,"
                     " attribution) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (rid, iso_utc(1.7e9 + i), turn.request["model"], body,
                      cost(turn.request["model"], usage), "tool:Bash",
                      rows.dumps(tree.to_dict())))
        conn.executemany("INSERT OR IGNORE INTO blobs VALUES (?, ?, ?)",
                         [(h, t, len(t)) for h, t in parts.items()])
        conn.executemany("INSERT INTO request_blobs VALUES (?, ?)", [(rid, h) for h in parts])
        conn.execute("INSERT INTO responses (request_id, status, body, input_tokens,"
                     " output_tokens, cache_read_tokens, cache_creation_tokens, complete)"
                     " VALUES (?, 200, ?, ?, ?, ?, ?, 1)",
                     (rid, json.dumps(turn.response), usage.input_tokens, usage.output_tokens,
                      usage.cache_read_input_tokens, usage.cache_creation_input_tokens))
        conn.executemany("INSERT INTO attributions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         _old_rows(rid, tree))
        written.append((rid, turn.request, tree))
    if with_rollups:  # as `stats` left them: tables, a version view, a trigger on the rows
        conn.executescript(rollups.SCHEMA)
        conn.execute("CREATE VIEW analysis_schema_v4 AS SELECT 4 AS version")
        conn.execute("CREATE TRIGGER analysis_tree_removed AFTER DELETE ON attributions "
                     "BEGIN DELETE FROM analysis_rolled WHERE request_id = OLD.request_id; END")
        rid, _, tree = written[0]
        sums = rows_groups(tree)
        rollups.add_written(conn, [(rid, iso_utc(1.7e9), sums)])
    conn.commit()
    db.close()
    return written


def rows_groups(tree: Node) -> dict[str, list]:
    from inspector.store.compact import summarize

    return summarize(tree.to_dict()).groups


@pytest.mark.parametrize("with_rollups", [False, True])
def test_schema_2_database_migrates(tmp_path, with_rollups):
    path = tmp_path / "old.db"
    written = _schema_2(path, with_rollups)
    store = Store(path)
    try:
        assert store.version == SCHEMA_VERSION
        names = {r[0] for r in store.execute("SELECT name FROM sqlite_master")}
        assert "attributions" not in names and "analysis_tree_removed" not in names
        assert "analysis_schema_v4" not in names
        for rid, body, tree in written:
            ex = get_exchange(store, rid)
            assert ex["request"]["body"] == body
            assert Node.from_dict(ex["attribution"]) == tree
        # every old tree was summed once, by the migration
        expect: dict[str, int] = {}
        for _, _, tree in written:
            for leaf in tree.leaves():
                key = leaf.meta.get("source") or leaf.kind
                expect[key] = expect.get(key, 0) + leaf.tokens
        data = compute_stats(store.conn, None, None, "source")
        got = {g["key"]: g["prompt_tokens"] for g in data["groups"] if g["key"] != "(output)"}
        assert got == expect
        assert all(g["requests"] <= 3 for g in data["groups"])
        # new captures go in beside the old ones, in the new form
        new = record(sources={"mcp:github": 40})
        store.write([new])
        stored = store.execute("SELECT attribution FROM requests WHERE id = ?",
                               (new.capture.id,)).fetchone()[0]
        assert get_exchange(store, new.capture.id)["attribution"] == new.attribution.to_dict()
        assert stored is None or isinstance(stored, (bytes, str))
        assert store.purge(2e9) == 4
        assert store.execute("SELECT count(*) FROM analysis_source_days").fetchone()[0] == 0
    finally:
        store.close()
