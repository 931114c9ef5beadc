"""Subscription quota headers: `anthropic-ratelimit-unified-*` on a reply.

Claude Code's own quota display reads them (status, 5-hour and 7-day utilization and
reset, the representative claim); we keep them per exchange, values exactly as sent.
"""

from __future__ import annotations

from inspector.model import Headers

PREFIX = "anthropic-ratelimit-unified-"


def quota_fields(headers: Headers) -> dict[str, str] | None:
    """{"status": "allowed", "5h_utilization": "0.052", ...} from the reply's headers, or
    None when it carries none. Keys drop the prefix and use `_` for `-`."""
    found: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        if name.startswith(PREFIX) and len(name) > len(PREFIX):
            found[name[len(PREFIX):].replace("-", "_")] = value
    return found or None
