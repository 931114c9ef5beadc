"""Commands that open the Textual app: tui, demo. Textual is imported inside them only."""

from __future__ import annotations

import click

from inspector.cli.common import Failure, home_options, proxy_options


@click.command()
@home_options
@proxy_options
@click.option("--no-proxy", is_flag=True, help="Only browse what is stored; start no proxy.")
@click.pass_context
def tui(ctx: click.Context, **opts) -> None:
    """Open the app (the default when no command is given)."""
    raise Failure("the app is not built yet; use `claude-inspect proxy`")


def register(group: click.Group) -> None:
    group.add_command(tui)
