"""Rollups added per written batch (from the trees in memory) equal the ones `refresh`
sums in bulk from the stored trees, through rewrites and reattribution."""

from __future__ import annotations

import time

import pytest

from inspector.analysis import rollup
from inspector.store import Store

from .conftest import write_demo


def _tables(store: Store) -> tuple[list, list]:
    per_request = store.conn.execute(
        "SELECT request_id, source, ts, day, leaves, chars, tokens, cost"
        " FROM analysis_request_sources ORDER BY request_id, source").fetchall()
    days = store.conn.execute(
        "SELECT day, source, requests, leaves, chars, tokens, cost FROM analysis_source_days"
        " WHERE requests != 0 ORDER BY day, source").fetchall()
    return per_request, days


def _same(a: list, b: list) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x[:-1] == y[:-1]
        assert (x[-1] is None) == (y[-1] is None)
        if x[-1] is not None:
            assert x[-1] == pytest.approx(y[-1], rel=1e-9)


def test_batch_rollups_equal_a_full_refresh(home):
    home.mkdir(parents=True, exist_ok=True)
    live = Store(home / "live.db")
    old = time.time() - 2 * 86400
    write_demo(live, seed=1, turns=5, start=old)
    ids = write_demo(live, seed=2, turns=4)
    write_demo(live, seed=3, turns=3, model="claude-unknown-9")
    # nothing left for refresh to do: every tree with usage was rolled as it was written
    assert rollup.refresh(live.conn, None, None) == 0
    incremental = _tables(live)
    assert incremental[0] and incremental[1]

    # the same content rolled the other way: in bulk from the stored trees
    live.conn.executescript(
        "DELETE FROM analysis_request_sources; DELETE FROM analysis_source_days;"
        " DELETE FROM analysis_rolled;")
    assert rollup.refresh(live.conn, None, None) == 12
    _same(_tables(live)[0], incremental[0])
    _same(_tables(live)[1], incremental[1])

    # a tree replaced through set_attribution is taken away and added again, once
    from inspector.model import Node
    from inspector.store import get_exchange

    ex = get_exchange(live, ids[1])
    live.set_attribution(ids[1], Node.from_dict(ex["attribution"]), ex["cost_usd"])
    _same(_tables(live)[0], incremental[0])
    _same(_tables(live)[1], incremental[1])
    live.close()
