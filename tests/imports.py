"""What a fresh interpreter has imported after some statements: the tests of what starts
light (the CLI without Textual, the forwarding process without the recorder's work, the
app without its other screens) ask it the same way."""

from __future__ import annotations

import ast
import subprocess
import sys


def modules_after(statements: str, *packages: str) -> list[str]:
    """The modules of `packages` (each a module and everything below it) loaded in a new
    interpreter once `statements` ran, sorted."""
    code = (f"{statements}\nimport sys\npackages = {packages!r}\n"
            "print(sorted(m for m in sys.modules\n"
            "             if any(m == p or m.startswith(p + '.') for p in packages)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return ast.literal_eval(out.stdout.strip())
