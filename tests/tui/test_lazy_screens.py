"""Opening the app imports only what its first screen needs."""

from __future__ import annotations

import subprocess
import sys

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
    code = (
        "import sys, inspector.cli, inspector.cli.app_cmds, inspector.tui.app\n"
        f"later = {LATER!r}\n"
        "print(sorted(m for m in sys.modules if m.startswith(later)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
