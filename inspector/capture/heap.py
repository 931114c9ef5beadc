"""Giving the memory of big bodies back to the system once they are stored.

glibc's malloc serves blocks of 128 KiB and more with mmap, and frees them back to the
system, until the first such block is freed: then its threshold rises (up to 32 MiB) and
later big blocks come from the heap, where what is freed stays in the process. A recorder
that has stored one 30 MB body would keep tens of megabytes it no longer uses. Fixing
the threshold at 1 MiB keeps every copy of a big body in mmapped blocks that go back to
the system when freed (and lets a growing buffer be resized without copying it).
"""

from __future__ import annotations

import ctypes
import sys

_M_MMAP_THRESHOLD = -3
_done = False


def return_big_blocks_to_the_system(threshold: int = 1 << 20) -> None:
    """Once per process; does nothing where malloc is not glibc's."""
    global _done
    if _done:
        return
    _done = True
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, threshold)
    except (OSError, AttributeError):
        pass
