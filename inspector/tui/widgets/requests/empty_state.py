"""What the table area shows before anything was captured: how to get started."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from inspector.tui.widgets.status.status_bar import ProxyState


class EmptyState(Static):
    """Three lines on pointing Claude Code at the proxy, and the demo."""

    state: reactive[ProxyState] = reactive(ProxyState, always_update=True)
    filtered: reactive[bool] = reactive(False)
    #: why the database cannot be read (one line), shown instead of the first-run text
    problem: reactive[str | None] = reactive(None)

    def render(self) -> Text:
        text = Text()
        if self.problem:
            text.append(self.problem, style="bold red")
            return text
        if self.filtered:
            text.append("No request matches this filter.\n\n", style="bold")
            text.append("Press / to change it, Escape in the filter box to clear it.", style="dim")
            return text
        text.append("Nothing captured yet.\n\n", style="bold")
        url = self.state.url or "http://127.0.0.1:8443"
        ca = self.state.ca_path or "~/.claude-inspect/ca.pem"
        text.append("1. ", style="bold cyan")
        text.append("claude-inspect run -- claude", style="bold")
        text.append("   runs Claude Code through this proxy\n")
        text.append("2. ", style="bold cyan")
        text.append(f"HTTPS_PROXY={url} NODE_EXTRA_CA_CERTS={ca} claude", style="bold")
        text.append("   or, with no CA, ")
        text.append(f"ANTHROPIC_BASE_URL={url} claude\n", style="bold")
        text.append("3. ", style="bold cyan")
        text.append("claude-inspect demo", style="bold")
        text.append("   shows a sample session; ")
        text.append("claude-inspect ca", style="bold")
        text.append(" explains trusting the CA")
        if self.state.mode == "failed":
            text.append(f"\n\n{self.state.error}", style="red")
        return text
