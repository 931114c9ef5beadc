"""The `claude-inspect` command: a click group whose bare form opens the app.

Subcommands live in sibling modules, each with a `register(group)` function, so the
group stays small and headless commands never import Textual.
"""

from __future__ import annotations

import sys

import click

from inspector import __version__
from inspector.cli import (
    analysis_cmds,
    app_cmds,
    count_cmd,
    data_cmds,
    demo_cmd,
    findings_cmd,
    import_cmd,
    index_cmd,
    prices_cmd,
    proxy_cmds,
    run_cmd,
    serve_cmd,
)
from inspector.cli.common import Failure, home_options, proxy_options


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
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
        ctx.invoke(app_cmds.tui, **{k: v for k, v in opts.items()})


for _module in (
    proxy_cmds,
    run_cmd,
    demo_cmd,
    data_cmds,
    analysis_cmds,
    findings_cmd,
    app_cmds,
    serve_cmd,
    import_cmd,
    index_cmd,
    prices_cmd,
    count_cmd,
):
    _module.register(cli)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except Failure as e:  # pragma: no cover - click handles it inside standalone mode
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
