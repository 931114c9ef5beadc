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
| `↑` `↓` `PgUp` `PgDn` `Home` `End` | move; older rows load at the bottom edge |
| `g` | the newest request |
| `Enter` (or a click on the highlighted row) | open the request: attribution tree, conversation, response… |
| `/` | filter: words, `model:opus`, `status:429`, `source:mcp` (a category), `source:github` (a name) or `source:mcp:github`, `session:ab12`, `since:1h` |
| `Escape` | clear the filter |
| `f` | follow mode: oldest first, cursor follows new requests |
| `s` | sessions and how each prompt grew turn by turn |
| `t` | stats: usage and cost by source, model, day or session |
| `i` | findings: cache breaks and their cause, unused tools, injections, what a source costs |
| `p` | pause / resume recording (traffic still flows) |
| `q` | quit (waits until every capture is written) |

## Requests table columns
| Column | |
|---|---|
| ! | a finding about the request: `✖` cache break, `▲` large tool result, `↻` a file read again, `⇊` compaction, `…` truncated listing (`i`: Findings) |
| Time | when the request was sent, local time; `11-24 22:15` for a day other than today |
| Session | the Claude Code session it belongs to (its first characters) |
| Model | the model asked for, without `claude-` and the date |
| Endpoint | the API path (`/v1/messages`); other methods are named |
| Status | HTTP status: green ok, yellow client error, red 429 or server error, `…` in flight, `ERR` no answer |
| S | `≋` streamed reply, `✂` stream cut off before its end |
| Prompt tokens | the whole prompt (input + cache read + cache write), `(… cached)` the part read from cache |
| Out | output tokens of the answer |
| Cost | what the request cost at list prices (`-`: model without a known price) |
| Latency | from sending the request to the end of the answer |
| Largest source | the source that takes most of the prompt (`tool:Bash`, `mcp:github`, …) |

Narrow terminals show fewer columns: Prompt ends in the cached share (`93%c`), Took is Latency.

## Request detail
| Key | |
|---|---|
| `1`…`7`, `[` `]` | Context, Conversation, Response, Headers, Raw, Timing, Diff |
| `d` | Diff: what changed since the previous request of the session (`u`: unchanged too) |
| `Enter` / `→` on a tree node | expand it; its content shows on the right |
| `g` / `+`, `b` / `-` | rate the answer good / bad; `n` rate with a note |
| `n` / `N` | after a search: next / previous hit (the hit opens, lit, in its tab) |
| `Escape` | back to the table |

## Conversation (transcript)
| Key | |
|---|---|
| `1`…`7` | cycle a kind's detail level (full ●, hidden ○, one line ◐): user, assistant, thinking, tool calls, tool results, system prompt & reminders, images & other |
| `t` / `e` / `0` | just the dialogue / everything in full / the default levels |
| `↑` `↓` (`k` `j`) | previous / next block |
| `Enter`, `Space`, click | open a folded block in place, or fold it again |
| `PgUp` / `PgDn`, mouse wheel | scroll a screen / a few lines |
| `Home` / `End` | first block / last block |

In the transcript the number keys set levels; `[` `]` still switch tabs.

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
