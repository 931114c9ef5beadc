"""Storage of captures in SQLite: schema, the writer thread, and queries."""

from inspector.store.db import AmbiguousId, Store, retention_purge
from inspector.store.exchanges import get_exchange, iter_exchanges
from inspector.store.queries import Filter, NotFound, count_requests, iter_list_rows, list_requests
from inspector.store.records import Record
from inspector.store.search import TextHit, find_hits, index_progress
from inspector.store.sessions import sessions
from inspector.store.writer import Writer

__all__ = [
    "AmbiguousId", "Filter", "NotFound", "Record", "Store", "TextHit", "Writer",
    "count_requests", "find_hits", "get_exchange", "index_progress", "iter_exchanges",
    "iter_list_rows", "list_requests", "retention_purge", "sessions",
]
