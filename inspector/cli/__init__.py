"""The `claude-inspect` command: a click group whose bare form opens the app.

Subcommands live in sibling modules, each with a `register(group)` function, so the
group stays small and headless commands never import Textual. The group imports a
module only when one of its commands is asked for (`COMMANDS` says which module holds
which command): opening the app, or running one command, loads nothing of the others.
`--help` still lists every command (it imports them all to read their help).
"""

from __future__ import annotations

import importlib
import sys

import click

from inspector import __version__
from inspector.cli.common import Failure, home_options, proxy_options

#: command name -> the module of this package that registers it (`register(group)`);
#: tests/cli/test_lazy_commands.py checks this against what the modules register
COMMANDS = {
    "proxy": "proxy_cmds",
    "ca": "proxy_cmds",
    "run": "run_cmd",
    "demo": "demo_cmd",
    "list": "data_cmds",
    "show": "data_cmds",
    "export": "data_cmds",
    "purge": "data_cmds",
    "tree": "analysis_cmds",
    "stats": "analysis_cmds",
    "diff": "analysis_cmds",
    "rate": "analysis_cmds",
    "reattribute": "analysis_cmds",
    "findings": "findings_cmd",
    "tui": "app_cmds",
    "serve": "serve_cmd",
    "import": "import_cmd",
    "index": "index_cmd",
    "prices": "prices_cmd",
    "count": "count_cmd",
}


class LazyGroup(click.Group):
    """A click group that imports a command's module the first time the command is
    looked up (to run it, or to list its help)."""

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module = importlib.import_module(f"{__name__}.{self.lazy_commands[cmd_name]}")
            module.register(self)  # adds every command of that module
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="claude-inspect")
@home_options
@proxy_options
@click.option("--no-proxy", is_flag=True, help="Only browse what is stored; start no proxy.")
@click.pass_context
def cli(ctx: click.Context, **opts) -> None:
    """See what context Claude Code sends to the Claude API, source by source.

    With no command, opens the app with the proxy running.
    """
    ctx.ensure_object(dict)
    ctx.obj.update({k: v for k, v in opts.items()})
    if ctx.invoked_subcommand is None:
        ctx.invoke(ctx.command.get_command(ctx, "tui"), **{k: v for k, v in opts.items()})


def main() -> None:
    try:
        cli(standalone_mode=True)
    except Failure as e:  # pragma: no cover - click handles it inside standalone mode
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
