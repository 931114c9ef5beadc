"""Opening the app imports only what its first screen needs."""

from __future__ import annotations

from imports import modules_after

LATER = (
    "inspector.tui.screens.detail",
    "inspector.tui.screens.sessions",
    "inspector.tui.screens.stats",
    "inspector.tui.screens.findings",
    "inspector.tui.screens.help",
    "inspector.tui.widgets.detail",
    "inspector.attribution",
    "inspector.analysis",
    "inspector.capture",
    "markdown_it",
)


def test_the_app_module_leaves_the_other_screens_unimported():
    assert modules_after("import inspector.cli, inspector.cli.app_cmds, inspector.tui.app",
                         *LATER) == []
