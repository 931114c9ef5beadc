"""The guard between the proxy and whatever sink it was given."""

from __future__ import annotations

import logging
from typing import Any

from inspector.model import Exchange, ExchangeSink

log = logging.getLogger(__name__)


class SafeSink:
    """Calls the real sink, logging (once per kind) and swallowing anything it raises, so a
    broken sink never breaks forwarding."""

    def __init__(self, sink: ExchangeSink) -> None:
        self._sink = sink
        self._failed: set[str] = set()

    def _call(self, name: str, *args: Any) -> None:
        try:
            getattr(self._sink, name)(*args)
        except Exception:  # noqa: BLE001 - fail open by design
            if name not in self._failed:
                self._failed.add(name)
                log.exception("sink.%s failed; forwarding goes on (logged once)", name)

    def started(self, ex: Exchange) -> None:
        self._call("exchange_started", ex)

    def finished(self, ex: Exchange) -> None:
        self._call("exchange_finished", ex)

    def notice(self, kind: str, message: str) -> None:
        self._call("notice", kind, message)
