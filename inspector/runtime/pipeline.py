"""What the recorder process does to each exchange and to the database it writes.

Kept apart from `local` so that the proxy's process never imports capture, attribution
or the store: only the recorder child (and the tests and benchmarks) loads this module.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from inspector.attribution import attribute, cost
from inspector.capture import build_capture
from inspector.capture.elide import ELIDE_BODIES_ABOVE, restore_sizes
from inspector.capture.heap import return_big_blocks_to_the_system
from inspector.model import Exchange
from inspector.capture.redact import scrub_url
from inspector.store import Record, Store, pending
from inspector.store.pending import PendingDrop, PendingStart
from inspector.timeparse import iso_utc

log = logging.getLogger(__name__)


def prepare_record(ex: Exchange) -> Record:
    """Turn what the proxy saw into what we store: capture (redact, decode, reassemble),
    then attribution and cost for Messages requests. Frees the exchange's body copies."""
    return_big_blocks_to_the_system()
    try:
        capture = build_capture(ex)
    finally:
        for body in (ex.request_body, ex.response_body):
            if body is not None:
                body.close()
    node = None
    cost_usd = None
    body = capture.request_json
    if isinstance(body, dict) and ("messages" in body or "system" in body):
        usage = capture.usage if capture.usage.input_tokens is not None else None
        try:
            node = attribute(body, usage, headers=dict(capture.request_headers))
            if len(capture.request_text or "") >= ELIDE_BODIES_ABOVE:
                # a huge body was parsed without its media data (see capture.elide)
                restore_sizes(node, body)
        except Exception:  # attribution must never cost us the capture itself
            log.exception("attribution failed for %s", capture.id)
        if capture.model:
            cost_usd = cost(capture.model, capture.usage)
    return Record(capture=capture, attribution=node, cost_usd=cost_usd)


def pending_item(note: tuple) -> PendingStart | PendingDrop:
    """A note from the proxy's side as the writer's item: a request started (its target
    scrubbed of secrets, as the capture's is), or one that will not be stored."""
    kind, value = note
    if kind == "drop":
        return PendingDrop(str(value))
    capture_id, started, method, host, target = value
    return PendingStart(capture_id, iso_utc(started), method, host, scrub_url(target or ""))


def prepare_database(path: Path | str, retention_days: int) -> None:
    """Create or migrate the database and purge captures older than `retention_days` (0: keep)."""
    try:
        store = Store(Path(path))
        try:
            with store.conn:
                orphans = pending.forget_orphans(store.conn)
            if orphans:
                log.info("forgot %d pending requests of a recorder that stopped", orphans)
            n = store.purge(time.time() - retention_days * 86400) if retention_days > 0 else 0
        finally:
            store.close()
        if n:
            log.info("purged %d captures older than %d days", n, retention_days)
    except Exception:
        log.exception("preparing the database failed; the writer will retry")
