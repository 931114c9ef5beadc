"""`claude-inspect findings`: why the cache broke, what is injected, what is never used."""

from __future__ import annotations

import time
from typing import Any

import click

from inspector.analysis.findings.model import KINDS
from inspector.cli.common import echo_json, handles_errors, home_options, json_option, time_option


@click.command("findings")
@click.option("--session", default=None, help="Only this session (id or prefix).")
@time_option("--since", "Only requests since then (default 1d; a duration or ISO time).")
@time_option("--until", "Only requests before then.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), metavar="KIND",
              help=f"Only this kind (repeatable): {', '.join(KINDS)}.")
@json_option
@home_options
@click.pass_context
@handles_errors
def findings(ctx: click.Context, session: str | None, since: float | None,
             until: float | None, kinds: tuple[str, ...], as_json: bool, **opts: Any) -> None:
    """Cache breaks and their cause, tools never called, injected reminders, large and
    repeated tool results, compactions, truncated listings, and what removing a source
    would save, each with its tokens and cost."""
    from inspector.analysis.findings import find
    from inspector.cli.stores import no_captures_message, open_store

    if since is None and session is None:
        since = time.time() - 86400
    with open_store(ctx, opts) as (config, store):
        if store is None:
            click.echo(no_captures_message(config), err=True)
            found = []
        else:
            found = find(store, since=since, until=until, session=session,
                         kinds=kinds or None)
    if as_json:
        echo_json({"findings": [f.to_dict() for f in found]})
        return
    _print(found)


def _print(found: list) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(soft_wrap=False)
    if not console.is_terminal:  # a pipe or a file gets whole rows, never a wrapped column
        console = Console(soft_wrap=False, width=1000)
    if not found:
        console.print("no findings")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name, justify in (("kind", "left"), ("request", "left"), ("session", "left"),
                          ("source", "left"), ("tokens", "right"), ("cost", "right"),
                          ("detail", "left")):
        table.add_column(name, justify=justify, no_wrap=name != "detail")
    for f in found:
        table.add_row(f.kind, (f.request_id or "")[:12], (f.session_id or "")[:8],
                      escape(f.source), f"{f.tokens:,}",
                      "" if f.cost_usd is None else f"${f.cost_usd:.4f}", escape(f.detail))
    console.print(table)


def register(group: click.Group) -> None:
    group.add_command(findings)
