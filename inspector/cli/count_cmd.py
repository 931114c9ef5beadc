"""`claude-inspect count`: exact per-source counts for stored requests."""

from __future__ import annotations

import os
from typing import Any

import click

from inspector.cli.common import Failure, handles_errors, home_options, load_config, time_option


@click.command("count")
@click.argument("request_id", metavar="[ID]", required=False)
@time_option("--since", "Count every Messages request since then (a duration or ISO time).")
@home_options
@click.pass_context
@handles_errors
def count(ctx: click.Context, request_id: str | None, since: float | None, **opts: Any) -> None:
    """Count a stored request's sources exactly with the API's count_tokens.

    Uses ANTHROPIC_API_KEY for the counts only (never stored); reaches the API as the
    proxy does (--upstream, --resolve, --upstream-ca in config.toml). ID is any unique
    prefix; or --since 1h for every request since then.
    """
    from inspector.analysis.stats import period
    from inspector.counting.stored import count_stored
    from inspector.store import AmbiguousId, Store

    if (request_id is None) == (since is None):
        raise click.UsageError("give a request ID or --since, not both")
    key = os.environ.get("ANTHROPIC_API_KEY", "").strip()
    if not key:
        raise Failure("count needs ANTHROPIC_API_KEY in the environment "
                      "(used for count_tokens calls only, never stored)")
    config = load_config(ctx, home=opts.get("home"), db=opts.get("db"))
    if not config.db_path.exists():
        raise Failure(f"no captures yet: {config.db_path} does not exist")
    config.exact = True
    settings = config.count_settings()
    with Store(config.db_path) as store:
        if request_id is not None:
            try:
                full = store.resolve_id(request_id)
            except AmbiguousId as e:
                raise Failure(str(e)) from None
            if full is None:
                raise Failure(f"no capture with id {request_id!r}")
            ids = [full]
        else:
            lo, hi = period(since, None)
            ids = [r[0] for r in store.execute(
                "SELECT id FROM requests WHERE ts >= ? AND ts < ? AND path NOT LIKE ?"
                " ORDER BY ts, id", (lo, hi, "/v1/messages/count_tokens%"))]
        done = count_stored(store, ids, key, config.upstream, settings.upstream,
                            report=lambda i, s: click.echo(f"{i}  {s}"))
    click.echo(f"counted {done} of {len(ids)} requests")


def register(group: click.Group) -> None:
    group.add_command(count)
