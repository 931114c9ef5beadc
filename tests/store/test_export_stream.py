"""Export reads exchanges in groups bounded by their bodies' bytes, so a long session of
megabyte requests is never held in memory at once."""

from __future__ import annotations

import io
import json

from inspector.export import WRITERS
from inspector.store import Filter, Store, exchanges

from .helpers import record


def test_exchanges_are_read_in_groups_bounded_by_body_bytes(tmp_path, monkeypatch):
    store = Store(tmp_path / "c.db")
    recs = [record(ago=100 - i, big=20_000 + 1000 * i) for i in range(12)]
    store.write(recs)
    sizes = {r.capture.id: r.capture.request_bytes for r in recs}
    limit = 3 * 22_000
    monkeypatch.setattr(exchanges, "EXPORT_BATCH_BYTES", limit)
    groups: list[list[str]] = []
    real = exchanges.exchange_dicts

    def spy(store_, ids, parse_bodies=True):
        groups.append(list(ids))
        return real(store_, ids, parse_bodies=parse_bodies)

    monkeypatch.setattr(exchanges, "exchange_dicts", spy)
    out = io.StringIO()
    assert WRITERS["har"](exchanges.iter_exchanges(store, Filter(), parse_bodies=False), out) == 12
    assert [i for g in groups for i in g] == [r.capture.id for r in recs]  # all, in order
    assert len(groups) > 3
    for g in groups:
        assert len(g) == 1 or sum(sizes[i] for i in g) <= limit
    entries = json.loads(out.getvalue())["log"]["entries"]
    assert [json.loads(e["request"]["postData"]["text"]) for e in entries] == [
        r.capture.request_json for r in recs]
    store.close()
