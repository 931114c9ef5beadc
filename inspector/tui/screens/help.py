"""The help screen (`?`): every key, and how to point Claude Code at the proxy."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# claude-inspect

See what context Claude Code sends to the Claude API, source by source, live.

## Requests table
| Key | |
|---|---|
| `↑` `↓` `PgUp` `PgDn` | move; older rows load at the bottom edge |
| `Enter` | open the request: attribution tree, conversation, response… |
| `/` | filter: words, `model:opus`, `status:429`, `source:mcp:github` (or a family: `source:tool:`), `session:ab12`, `since:1h` |
| `Escape` | clear the filter |
| `f` | follow mode: oldest first, cursor follows new requests |
| `s` | sessions and how each prompt grew turn by turn |
| `t` | stats: usage and cost by source, model, day or session |
| `p` | pause / resume recording (traffic still flows) |
| `q` | quit (waits until every capture is written) |

## Request detail
| Key | |
|---|---|
| `1`…`7`, `[` `]` | Context, Conversation, Response, Headers, Raw, Timing, Diff |
| `d` | Diff: what changed since the previous request of the session (`u`: unchanged too) |
| `Enter` / `→` on a tree node | expand it; its content shows on the right |
| `g` / `+`, `b` / `-` | rate the answer good / bad; `n` rate with a note |
| `Escape` | back to the table |

## Stats
| Key | |
|---|---|
| `1` `7` `3` `a` | the last day, 7 days, 30 days, all time |
| `g` | group by source, model, day, session |
| `Enter` | the highlighted group's requests (a filtered table) |
| `r` | compute again (new captures are counted in within 2 s anyway) |
| `Escape` | back |

## Pointing Claude Code at the proxy
* `claude-inspect run -- claude`
* `HTTPS_PROXY=http://127.0.0.1:8443 NODE_EXTRA_CA_CERTS=~/.claude-inspect/ca.pem claude`
* `ANTHROPIC_BASE_URL=http://127.0.0.1:8443 claude` (no CA needed)

A client that refuses the certificate needs the CA trusted: see `claude-inspect ca`.
`claude-inspect demo` records a sample session to look at.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
