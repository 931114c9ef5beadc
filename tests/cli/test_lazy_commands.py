"""The CLI group imports a subcommand's module only when that command is asked for."""

from __future__ import annotations

import importlib

import click
from click.testing import CliRunner

from inspector.cli import COMMANDS, cli
from imports import modules_after


def test_the_map_names_what_each_module_registers():
    """`COMMANDS` is the group's only list of commands: every module registers exactly
    the commands mapped to it."""
    for module_name in set(COMMANDS.values()):
        group = click.Group()
        importlib.import_module(f"inspector.cli.{module_name}").register(group)
        mapped = {name for name, module in COMMANDS.items() if module == module_name}
        assert set(group.commands) == mapped, module_name


def test_help_lists_every_command():
    out = CliRunner().invoke(cli, ["--help"])
    assert out.exit_code == 0, out.output
    listed = out.output.split("Commands:")[1].split()
    for name in COMMANDS:
        assert name in listed, name


def test_a_command_runs_and_has_its_help():
    out = CliRunner().invoke(cli, ["prices", "--help"])
    assert out.exit_code == 0, out.output
    assert "Usage: cli prices" in out.output
    out = CliRunner().invoke(cli, ["nosuch"])
    assert out.exit_code == 2 and "No such command" in out.output


def test_opening_the_app_imports_no_other_command():
    """The bare command resolves only `tui`: the app's start skips the analysis,
    findings, proxy and export code of the other commands."""
    loaded = modules_after("import inspector.cli as c\n"
                           "ctx = c.cli.make_context('claude-inspect', [])\n"
                           "c.cli.get_command(ctx, 'tui')", "inspector.cli")
    assert loaded == ["inspector.cli", "inspector.cli.app_cmds", "inspector.cli.common"]
