"""The README keeps exactly two set-up commands, and CI runs the second one verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_two_setup_commands():
    commands = _setup_commands()
    assert len(commands) == 2
    assert "claude-inspect" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    test_cmd = _setup_commands()[1]
    install_and_test = test_cmd.split("&&", 2)[2].strip()  # after venv creation + activation
    assert install_and_test in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
