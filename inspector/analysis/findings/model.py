"""A finding: one thing about the traffic worth a user's attention, with what it cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: kinds in the order they are reported (most actionable first)
KINDS = ("cache_break", "unused_tool", "injection", "large_tool_result", "repeated_read",
         "compaction", "truncation", "what_if")


@dataclass
class Finding:
    """`request_id` is None for a finding about a whole session. `source` uses the
    attribution tree's source names (`mcp:docs`, `memory:<path>`, `tool:Bash`, ...), or
    a cause of its own for cache breaks (`model`, `ttl`, `unexplained`, ...). `tokens`
    and `cost_usd` are what the finding costs (see each kind's module); `cost_usd` is None
    when the model's price is unknown."""

    kind: str
    request_id: str | None
    session_id: str | None
    source: str
    tokens: int
    cost_usd: float | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def order(self) -> tuple[int, float, int]:
        return (KINDS.index(self.kind) if self.kind in KINDS else len(KINDS),
                -(self.cost_usd or 0.0), -self.tokens)
