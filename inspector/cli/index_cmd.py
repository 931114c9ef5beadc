"""`claude-inspect index`: index for text search the captures stored before the search
index existed (a database made by an older version)."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from inspector.cli.common import (
    Failure, echo_json, handles_errors, home_options, json_option, load_config,
)

#: captures indexed per transaction: a writer beside it (a recording proxy) waits at
#: most one batch
BATCH = 500
#: seconds between two progress lines
EVERY = 2.0


@click.command("index")
@json_option
@click.option("--quiet", is_flag=True, help="No progress lines (the app runs it so).")
@home_options
@click.pass_context
@handles_errors
def index(ctx: click.Context, as_json: bool, quiet: bool, **opts: Any) -> None:
    """Index the captures stored before text search existed, so searches stop scanning.

    A recording proxy does this by itself when idle, and the app while it browses
    without one; this finishes it now (100k captures: about a minute). Safe beside a
    running proxy; stopping it loses nothing (the next run goes on from there).
    """
    from inspector.store import Store
    from inspector.store.search import index_progress

    config = load_config(ctx, home=opts.get("home"), db=opts.get("db"))
    if not config.db_path.exists():
        raise Failure(f"no captures yet: {config.db_path} does not exist")
    start = time.monotonic()
    with Store(config.db_path) as store:
        indexed, total = index_progress(store)
        left, done, said = total - indexed, 0, start
        while (n := store.index_backlog(BATCH)) > 0:
            done += n
            if not (quiet or as_json) and time.monotonic() - said >= EVERY:
                said = time.monotonic()
                click.echo(f"indexed {done:,} of {left:,} captures "
                           f"({100 * done // max(left, 1)}%)…", err=True)
    seconds = round(time.monotonic() - start, 1)
    if as_json:
        echo_json({"indexed_now": done, "captures": total, "seconds": seconds})
    elif not quiet:
        click.echo(f"indexed {done:,} captures in {seconds} s: text search covers all "
                   f"{total:,}" if done else f"nothing to index: text search covers all "
                   f"{total:,} captures")
    sys.stdout.flush()


def register(group: click.Group) -> None:
    group.add_command(index)
