"""Small waiting helpers for pilot-driven tests (poll a condition instead of sleeping)."""

from __future__ import annotations

import time
from typing import Callable


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 5.0) -> float:
    """Let the app run until `condition()` holds; returns the seconds it took."""
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.02)
    return time.perf_counter() - start
