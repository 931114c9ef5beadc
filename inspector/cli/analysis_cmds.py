"""Commands that analyse captures: tree, stats, diff, rate, reattribute."""

from __future__ import annotations

import time
from typing import Any

import click

from inspector.cli.common import (
    Failure, echo_json, handles_errors, home_options, json_option, time_option,
)
from inspector.cli.stores import (
    no_captures_message, open_store, require_store, writable_copy,
)


def exchange_or_fail(store: Any, id_prefix: str) -> dict[str, Any]:
    from inspector.store import AmbiguousId, NotFound, get_exchange

    try:
        return get_exchange(store, id_prefix)
    except (NotFound, AmbiguousId) as e:
        raise Failure(str(e)) from None


def print_rich(renderable: Any) -> None:
    from rich.console import Console

    Console(soft_wrap=False).print(renderable)


@click.command()
@click.argument("request_id", metavar="ID")
@click.option("--depth", type=click.IntRange(min=1), default=None, metavar="N",
              help="Show N levels below the root.")
@json_option
@home_options
@click.pass_context
@handles_errors
def tree(ctx: click.Context, request_id: str, depth: int | None, as_json: bool, **opts) -> None:
    """What fills a request's prompt, source by source (ID: any unique prefix)."""
    from inspector.analysis.render import attribution_tree

    from inspector.counting.audit import annotate

    with open_store(ctx, opts) as (config, store):
        exchange = exchange_or_fail(require_store(config, store, request_id), request_id)
        annotate(store, exchange)  # what Claude Code's /context claimed, beside ours
    root = exchange.get("attribution")
    if root is None:
        raise Failure(f"{exchange['id']} has no attribution (not a Messages API request?)")
    if as_json:
        echo_json(_cut(root, depth) if depth else root)
        return
    from rich.console import Console

    # a terminal gets rows that fit its width; a pipe or file gets whole rows, unwrapped
    console = Console()
    if console.is_terminal:
        console.print(attribution_tree(root, depth, console.width), no_wrap=True,
                      overflow="ellipsis")
    else:
        console.print(attribution_tree(root, depth), soft_wrap=True)


def _cut(node: dict[str, Any], depth: int, level: int = 0) -> dict[str, Any]:
    out = dict(node)
    out["children"] = ([] if level >= depth else
                       [_cut(c, depth, level + 1) for c in node.get("children") or []])
    return out


@click.command()
@time_option("--since", "Only requests since then (default 7d; a duration or ISO time).")
@time_option("--until", "Only requests before then.")
@click.option("--by", "by", type=click.Choice(["source", "model", "day", "session"]),
              default="source", show_default=True, help="How to group.")
@json_option
@home_options
@click.pass_context
@handles_errors
def stats(ctx: click.Context, since: float | None, until: float | None, by: str,
          as_json: bool, **opts) -> None:
    """Usage and cost over a period: requests, prompt tokens (and parts), output, cost,
    cache hit ratio, ratings."""
    from inspector.analysis.render import stats_table
    from inspector.analysis.stats import compute_stats

    if since is None:
        since = time.time() - 7 * 86400
    def notice(n: int) -> None:
        click.echo(f"summing {n:,} captures stored before the analysis tables existed "
                   "(once; later runs are fast)...", err=True)

    with open_store(ctx, opts) as (config, store):
        if store is None:
            click.echo(no_captures_message(config), err=True)
            if as_json:
                echo_json(_empty_stats(since, until, by))
            return
        with writable_copy(store) as conn:
            result = compute_stats(conn, since, until, by, notice)
    if as_json:
        echo_json(result)
    elif not result["total"]["requests"]:
        click.echo(f"no captures since {result['since']}"
                   + (f" until {result['until']}" if result["until"] else "")
                   + "; --since 30d looks further back")
    else:
        from rich.console import Console

        console = Console(soft_wrap=False)
        console.print(stats_table(result, wide=console.width >= 110))
        line = caching_line(result["total"])
        if line:
            console.print(line)
        quota = result.get("quota_5h")
        if quota and quota["sources"]:
            top = list(quota["sources"].items())[:6]
            console.print("5-hour quota used, an apportioned estimate (utilization is "
                          "account-wide): " + ", ".join(f"{k} {v:.1%}" for k, v in top))


def caching_line(total: dict[str, Any]) -> str | None:
    """What caching saved and cost over the period, in one line (None without prices)."""
    from inspector.analysis.render import money

    saved, extra = total.get("cache_saved_usd"), total.get("cache_write_extra_usd")
    if saved is None and extra is None:
        return None
    return (f"prompt cache saved {money((saved or 0) - (extra or 0))}: reads "
            f"{money(saved or 0)} below the uncached price, writes {money(extra or 0)} above")


def _empty_stats(since: float | None, until: float | None, by: str) -> dict[str, Any]:
    """What `stats --json` says of a home without a database: the figures of an empty one."""
    import tempfile
    from pathlib import Path

    from inspector.analysis.stats import compute_stats
    from inspector.store import Store

    with tempfile.TemporaryDirectory() as folder:
        with Store(Path(folder) / "empty.db") as store:
            return compute_stats(store.conn, since, until, by, None)


@click.command()
@click.argument("request_id", metavar="ID")
@click.argument("other_id", metavar="[OTHER]", required=False)
@click.option("--all", "show_all", is_flag=True, help="Also list unchanged sources.")
@json_option
@home_options
@click.pass_context
@handles_errors
def diff(ctx: click.Context, request_id: str, other_id: str | None, show_all: bool,
         as_json: bool, **opts) -> None:
    """What changed between a request and the previous one of its session (or OTHER)."""
    from inspector.analysis.render import diff_table
    from inspector.analysis.turns import NoPrevious, diff_exchanges
    from inspector.store import AmbiguousId, NotFound

    with open_store(ctx, opts) as (config, store):
        try:
            result = diff_exchanges(require_store(config, store, request_id), request_id,
                                    other_id)
        except (NotFound, AmbiguousId, NoPrevious) as e:
            raise Failure(str(e)) from None
    if as_json:
        echo_json(result)
    else:
        print_rich(diff_table(result, show_unchanged=show_all))


@click.command()
@click.argument("request_id", metavar="ID")
@click.argument("rating", type=click.Choice(["good", "bad"], case_sensitive=False))
@click.option("--note", default=None, metavar="TEXT", help="Why (kept with the rating).")
@json_option
@home_options
@click.pass_context
@handles_errors
def rate(ctx: click.Context, request_id: str, rating: str, note: str | None, as_json: bool,
         **opts) -> None:
    """Rate the answer to a request good or bad (shown by `show`, counted by `stats`)."""
    from inspector.analysis.ratings import rate as store_rating
    from inspector.store import AmbiguousId

    with open_store(ctx, opts) as (config, store):
        try:
            full = require_store(config, store, request_id).resolve_id(request_id)
        except AmbiguousId as e:
            raise Failure(str(e)) from None
        if full is None:
            raise Failure(f"no capture with id {request_id!r}")
        stored = store_rating(store, full, rating, note)
    if as_json:
        echo_json(stored)
    else:
        click.echo(f"rated {full} {stored['rating']}" + (f": {note}" if note else ""))


@click.command()
@time_option("--since", "Only requests since then (default: all).")
@time_option("--until", "Only requests before then.")
@click.option("--batch", type=click.IntRange(min=1), default=200, show_default=True,
              help="Requests per transaction.")
@home_options
@click.pass_context
@handles_errors
def reattribute(ctx: click.Context, since: float | None, until: float | None, batch: int,
                **opts) -> None:
    """Recompute the attribution and cost of stored requests (after the rules or the
    price table changed)."""
    from rich.progress import Progress

    from inspector.analysis import reattribute as work
    from inspector.analysis.stats import period

    lo, hi = period(since, until)
    with open_store(ctx, opts) as (config, store):
        if store is None:
            click.echo(no_captures_message(config), err=True)
            return
        total = work.count(store, lo, hi)
        with Progress(transient=True) as progress:
            task = progress.add_task("reattributing", total=total)
            outcome = work.reattribute(store, lo, hi, batch,
                                       progress=lambda n: progress.advance(task, n))
    click.echo(f"reattributed {outcome.attributed} of {outcome.seen} requests"
               + (f" ({outcome.skipped} without a Messages API body)" if outcome.skipped else ""))


def register(group: click.Group) -> None:
    for command in (tree, stats, diff, rate, reattribute):
        group.add_command(command)
