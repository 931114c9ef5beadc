"""Records for store tests, built through the real capture path."""

from __future__ import annotations

import json
import time

from capture.fixtures import make_exchange, request_body, stream_bytes

from inspector.capture import build_capture
from inspector.model import Node
from inspector.store import Record, Store


def tree(source_tokens: dict[str, int]) -> Node:
    leaves = [Node(kind=s.split(":")[0], label=s, tokens=t, chars=t * 4, meta={"source": s},
                   path=f"/x/{i}") for i, (s, t) in enumerate(source_tokens.items())]
    return Node(kind="request", label="request", tokens=sum(source_tokens.values()),
                children=[Node(kind="tools", label="tools", tokens=sum(l.tokens for l in leaves),
                               children=leaves)])


def record(ago: float = 0.0, model: str = "claude-sonnet-4-5-20250929",
           session: str = "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f", status: int = 200,
           big: int = 2000, sources: dict[str, int] | None = None,
           cost: float | None = 0.01, user_text: str = "What's the weather?") -> Record:
    body = request_body(session=session, big=big, model=model)
    body["messages"][0]["content"][0]["text"] = user_text
    ex = make_exchange(json.dumps(body).encode(), stream_bytes(), status=status,
                       started_wall=time.time() - ago)
    attribution = tree(sources) if sources else None
    return Record(capture=build_capture(ex), attribution=attribution, cost_usd=cost)


def as_schema_6(path) -> None:
    """Make the database at `path` as schema 6 left it: captures, no search index."""
    old = Store(path)
    old.conn.executescript(
        """DROP TABLE search_fts; DROP TABLE search_docs; DROP TABLE search_links;
           DROP TABLE search_backlog; DROP INDEX blob_refs_child;
           DELETE FROM _sqlite_migrations WHERE name = '0007_text_search';
           PRAGMA user_version = 6;""")
    old.close()
