"""How long the proxy waits on its peers, and how many files it may hold open.

Every wait has a bound, so a client that never finishes its headers, a connection left
idle for hours or an upstream that never answers cannot pin a file descriptor for ever.
The bounds on silence (`client_idle`, `client_body`, `upstream_response`) restart with
every byte received, so a long SSE stream that keeps sending is never cut; the one on a
request head (`request_head`) counts from its first byte, so a head sent one byte at a
time cannot stretch it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds; the defaults suit real use, tests pass smaller ones."""

    #: a client's whole request head, counted from its first byte (from the connection's
    #: start for the first request of a plain connection)
    request_head: float = 30.0
    #: a kept-alive client connection with no request in progress (clients reopen)
    client_idle: float = 300.0
    #: silence from a client in the middle of sending a request body
    client_body: float = 120.0
    #: silence from the upstream once a request was sent: the Anthropic SDKs themselves
    #: wait 600 s for a reply that is not streamed, so no less than that
    upstream_response: float = 600.0
    #: after an early reply (e.g. 413 to a large upload), how long the rest of the
    #: client's body is read and dropped before closing, so the client sees the reply
    #: rather than a reset
    linger: float = 5.0


def raise_file_limit() -> int | None:
    """Raise this process's soft limit on open files to its hard limit, so many idle
    connections cannot starve new ones at a low default (1024 is common). Returns the
    new soft limit, or None where that is not possible (no `resource`, not permitted)."""
    try:
        import resource
    except ImportError:  # not POSIX
        return None
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = hard
        if hard == resource.RLIM_INFINITY:
            # the kernel caps it below "infinity" (Linux nr_open, macOS OPEN_MAX)
            target = 1 << 20 if soft == resource.RLIM_INFINITY else max(soft, 65536)
        if soft != resource.RLIM_INFINITY and soft >= target:
            return soft
        for attempt in (target, 65536, 10240):
            if soft != resource.RLIM_INFINITY and attempt <= soft:
                break
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (attempt, hard))
                return attempt
            except (ValueError, OSError):
                continue
    except (ValueError, OSError) as e:
        log.debug("cannot raise the open-file limit: %s", e)
    return None
