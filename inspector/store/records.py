"""What the writer stores for one exchange."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.model import Capture, Node


@dataclass
class Record:
    """A capture with its attribution tree and cost (both optional: attribution may fail
    or not apply, and then the capture is still stored)."""

    capture: Capture
    attribution: Node | None = None
    cost_usd: float | None = None
