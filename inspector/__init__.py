"""claude-inspect: see what context Claude Code sends to the Claude API, source by source."""

__version__ = "0.1.0"
