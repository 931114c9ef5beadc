"""Commands over stored captures: list, show, export, purge."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable

import click

from inspector.cli.common import (
    Failure, echo_json, handles_errors, home_options, json_option, time_option,
)
from inspector.cli.stores import no_captures_message, open_store, require_store


def filter_options(f: Callable) -> Callable:
    """--since/--until/--model/--session/--status/--source, shared by listing commands."""
    opts = [
        time_option("--since", "Only captures since WHEN (30m, 1h, 7d or an ISO time)."),
        time_option("--until", "Only captures before WHEN (a duration ago or an ISO time)."),
        click.option("--model", default=None, help="Only this model (* as a wildcard)."),
        click.option("--session", default=None, help="Only this session (id or prefix)."),
        click.option("--status", default=None, type=int, help="Only this HTTP status."),
        click.option("--source", default=None,
                     help="Only requests with this source: a category (mcp, tool, memory), "
                          "a name (github, Bash) or both (mcp:github)."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _filter(opts: dict[str, Any], limit: int = 20, offset: int = 0):
    from inspector.store.queries import Filter

    return Filter(since=opts.get("since"), until=opts.get("until"), model=opts.get("model"),
                  session=opts.get("session"), status=opts.get("status"),
                  source=opts.get("source"), text=opts.get("text"), limit=limit,
                  offset=offset)


def _short_model(model: str | None) -> str:
    if not model:
        return ""
    model = model.removeprefix("claude-")
    # drop a trailing date stamp: sonnet-4-5-20250929 -> sonnet-4-5
    head, _, tail = model.rpartition("-")
    return head if head and len(tail) == 8 and tail.isdigit() else model


def _local_time(ts: str) -> str:
    from datetime import datetime

    try:
        dt = datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return ts
    return dt.strftime("%m-%d %H:%M")


def _num(v: Any) -> str:
    return "" if v is None else f"{v:,}"


def _ms(v: Any) -> str:
    return "" if v is None else f"{v:,.0f}"


def _cost(v: Any) -> str:
    return "" if v is None else f"${v:.4f}"


# -- list ---------------------------------------------------------------------------------


def _regex(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A `--text` pattern, refused at once (a usage error) if it is not a regex."""
    if value is None:
        return None
    from inspector.store.search_terms import compile_text

    try:
        compile_text(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    return value


@click.command("list")
@filter_options
@click.option("--text", default=None, metavar="REGEX", callback=_regex,
              help="Only captures whose request or response (system prompt, tools and "
                   "every message included) matches REGEX; plain text (no regex syntax) "
                   "matches in any case.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=0),
              help="How many captures (0: all).")
@click.option("--offset", default=0, type=click.IntRange(min=0), help="Skip this many first.")
@click.option("--pending", is_flag=True,
              help="Also list requests still in flight (their head only), first.")
@json_option
@home_options
@click.pass_context
@handles_errors
def list_cmd(ctx: click.Context, limit: int, offset: int, pending: bool, as_json: bool,
             **opts: Any) -> None:
    """List captured requests, newest first: completed exchanges, and with --pending
    those in flight too."""
    from inspector.store.queries import count_requests, list_requests, pending_rows

    with open_store(ctx, opts) as (config, store):
        if store is None:
            click.echo(no_captures_message(config), err=True)
            if as_json:
                echo_json([])
            return
        f = _filter(opts, limit, offset)
        if f.text:
            from inspector.store.search import index_progress

            indexed, stored = index_progress(store)
            if indexed < stored:  # older captures not indexed yet: searched slowly
                click.echo(f"search index: {indexed} of {stored} captures indexed;"
                           " the rest are scanned", err=True)
        rows = list_requests(store, f)
        live = [r.as_dict() for r in pending_rows(store, f)] if pending and not offset else []
        if as_json:
            from inspector.analysis.findings.threads import annotate_rows

            rows = annotate_rows(store, rows)
            if pending:
                rows = live + [{**r, "state": "done"} for r in rows]
            echo_json(rows)
            return
        if not f.text:
            total: int | None = count_requests(store, f)
        elif not limit or len(rows) < limit:
            total = offset + len(rows)  # the last page: the count is known
        else:
            total = None  # counting every match of a common word would read everything
    _print_list(live + rows, total, offset, len(live))


def _print_list(rows: list[dict[str, Any]], total: int | None, offset: int,
                live: int = 0) -> None:
    from rich.console import Console
    from rich.table import Table

    from inspector.analysis.render import markup_safe

    console = Console()
    if not rows:
        console.print("no captures match")
        return
    # one space between columns, so the list fits an 80-column terminal or pipe
    table = Table(box=None, header_style="bold", pad_edge=False, collapse_padding=True)
    for name, justify, width in (("id", "left", 12), ("time", "left", 11),
                                 ("model", "left", 10), ("status", "right", None),
                                 ("prompt", "right", 6), ("out", "right", 5),
                                 ("ms", "right", 5),
                                 ("cost", "right", None), ("top source", "left", None)):
        table.add_column(name, justify=justify, no_wrap=True, min_width=width)
    for r in rows:
        status = "" if r["status"] is None else str(r["status"])
        if r.get("state") == "pending":
            status = "[cyan]live[/cyan]"
        elif r["error"]:
            status = f"[red]{status or 'err'}[/red]"
        elif r["stream_complete"] is False:
            status = f"[yellow]{status}…[/yellow]"
        prompt = None
        if r["input_tokens"] is not None:
            prompt = (r["input_tokens"] + (r["cache_read_tokens"] or 0)
                      + (r["cache_creation_tokens"] or 0))
        table.add_row(
            markup_safe(r["id"][:12]), _local_time(r["ts"]), markup_safe(_short_model(r["model"])),
            status, _num(prompt), _num(r["output_tokens"]),
            _ms(r["total_ms"]), _cost(r["cost_usd"]), markup_safe(r["top_source"]),
        )
    console.print(table)
    done = len(rows) - live
    shown = f"{offset + 1}-{offset + done}" if done else "none"
    of = f"of {total}" if total is not None else \
        f"of more (--offset {offset + done} for the next)"
    in_flight = f" and {live} in flight" if live else ""
    console.print(f"[dim]{shown} {of}{in_flight}; `claude-inspect show ID` for one[/dim]")


# -- show ---------------------------------------------------------------------------------


@click.command("show")
@click.argument("capture_id", metavar="ID")
@json_option
@home_options
@click.pass_context
@handles_errors
def show_cmd(ctx: click.Context, capture_id: str, as_json: bool, **opts: Any) -> None:
    """Show one capture: request, response, reassembled answer, usage, timings, headers.

    ID is any unique prefix of a capture id.
    """
    from inspector.store import AmbiguousId, NotFound, get_exchange

    with open_store(ctx, opts) as (config, store):
        try:
            ex = get_exchange(require_store(config, store, capture_id), capture_id)
        except (AmbiguousId, NotFound) as e:
            raise Failure(str(e.args[0]) if e.args else str(e)) from None
        from inspector.counting.audit import annotate

        annotate(store, ex)  # what Claude Code's /context claimed, beside ours
    from inspector.attribution.pricing import price_assumed
    ex["price_assumed"] = price_assumed((ex.get("request") or {}).get("model"))
    ex.update(cost_figures(ex))
    if as_json:
        echo_json(ex)
        return
    _print_exchange(ex)


def cost_figures(ex: dict[str, Any]) -> dict[str, Any]:
    """Why the request cost what it did: each kind of token at its rate (`cost_lines`),
    and what caching saved and cost against the uncached price (None: no price known)."""
    from inspector.analysis.caching import request_effect
    from inspector.attribution.pricing import cost_lines
    from inspector.model import Usage

    model, usage = (ex.get("request") or {}).get("model"), Usage.from_stored(ex.get("usage"))
    lines = cost_lines(model, usage)
    effect = request_effect(model, usage)
    return {
        "cost_lines": None if lines is None else [
            {"kind": line.name, "tokens": line.tokens, "usd_per_million": round(line.rate, 6),
             "usd": line.usd} for line in lines],
        "cache_saved_usd": None if effect is None else effect[0],
        "cache_write_extra_usd": None if effect is None else effect[1],
    }


def _cost_rows(ex: dict[str, Any]) -> list[tuple[str, str]]:
    """The `show` rows saying what each kind of token cost, and what caching did."""
    from inspector.analysis.caching import describe

    rows = []
    for line in ex.get("cost_lines") or []:
        if line["tokens"]:
            rows.append((f"  {line['kind']}", f"{_num(line['tokens'])} × "
                         f"${line['usd_per_million']:g}/M = {_cost(line['usd'])}"))
    saved, extra = ex.get("cache_saved_usd"), ex.get("cache_write_extra_usd")
    if saved or extra:
        headline, detail = describe(saved or 0.0, extra or 0.0, _cost)
        rows.append(("caching", f"{headline} ({detail})"))
    return rows


def _answer_lines(message: Any) -> list[str]:
    """The reassembled answer, block by block, for people."""
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        return []
    lines = []
    for block in message["content"]:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            lines.append(block.get("text", ""))
        elif kind == "thinking":
            text = block.get("thinking", "")
            lines.append(f"[thinking] {text[:500]}{'…' if len(text) > 500 else ''}")
        elif kind in ("tool_use", "server_tool_use"):
            lines.append(f"[{kind}] {block.get('name')}("
                         f"{json.dumps(block.get('input'), ensure_ascii=False)[:500]})")
        else:
            lines.append(f"[{kind}]")
    return lines


def _print_exchange(ex: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from inspector.analysis.render import markup_safe

    escape = markup_safe

    console = Console()
    req, resp = ex["request"], ex["response"]
    console.print(f"[bold]{escape(ex['id'])}[/bold]  {escape(ex['ts'])}")
    console.print(f"{escape(req['method'])} {escape(req['url'] or '')}  ->  "
                  f"{resp['status'] if resp['status'] is not None else 'no response'} "
                  f"{escape(resp['reason'] or '')}")
    facts = [("model", req["model"]), ("stream", req["stream"]), ("session", req["session_id"]),
             ("stop reason", resp["stop_reason"]), ("stream complete", resp["stream_complete"]),
             ("error", resp["error"]), ("cost", _cost(ex["cost_usd"]) or None),
             *_cost_rows(ex),
             ("top source", ex["top_source"]), ("request note", req["note"]),
             ("response note", resp["note"])]
    grid = Table.grid(padding=(0, 2))
    for name, value in facts:
        if value is not None and value != "":
            grid.add_row(f"[dim]{name}[/dim]", escape(str(value)))
    for name, value in list(ex["usage"].items()) + list(ex["timings"].items()):
        if value is not None:
            grid.add_row(f"[dim]{name}[/dim]", _num(value) if "tokens" in name else f"{value} ms")
    for fb in ex.get("feedback") or []:
        word = {1: "good", -1: "bad"}.get(fb.get("rating"), str(fb.get("rating")))
        note = f": {fb['note']}" if fb.get("note") else ""
        grid.add_row("[dim]rated[/dim]", escape(f"{word}{note} ({fb.get('ts', '')})"))
    console.print(grid)
    answer = _answer_lines(resp["body"])
    if answer:
        console.rule("answer")
        for line in answer:
            console.print(markup_safe(line, multiline=True))
    for title, headers in (("request headers", req["headers"]),
                           ("response headers", resp["headers"])):
        if headers:
            console.rule(title)
            for name, value in headers:
                console.print(f"[dim]{escape(name)}:[/dim] {escape(value)}")
    body = req["body"]
    if isinstance(body, dict):
        console.rule("request body")
        msgs = body.get("messages") if isinstance(body.get("messages"), list) else []
        tools = body.get("tools") if isinstance(body.get("tools"), list) else []
        console.print(f"{len(msgs)} messages, {len(tools)} tools, "
                      f"{_num(req['body_bytes'])} bytes; `--json` for everything")


# -- export -------------------------------------------------------------------------------


@click.command("export")
@filter_options
@click.option("--format", "fmt", type=click.Choice(["jsonl", "json", "csv", "har", "otlp"]),
              default="jsonl", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to FILE (default: standard output).")
@click.option("--endpoint", default=None, metavar="URL",
              help="With --format otlp: the OpenTelemetry collector (OTLP/HTTP).")
@click.option("--header", "headers", multiple=True, metavar="KEY=VALUE",
              help="With --format otlp: a header for the collector (repeatable).")
@click.option("--bodies", is_flag=True,
              help="With --format otlp: send bodies too (scrubbed of secrets).")
@home_options
@click.pass_context
@handles_errors
def export_cmd(ctx: click.Context, fmt: str, output: str | None, endpoint: str | None,
               headers: tuple[str, ...], bodies: bool, **opts: Any) -> None:
    """Export captures (oldest first): JSONL of full exchanges, a JSON array, CSV of the
    list fields, a HAR 1.2 log for browser devtools, or OpenTelemetry spans sent to a
    collector (--format otlp --endpoint URL)."""
    from inspector.export import WRITERS, counted
    from inspector.store.exchanges import iter_exchanges
    from inspector.store.queries import count_requests, iter_list_rows

    if fmt == "otlp" or endpoint:
        if fmt != "otlp" or not endpoint or output:
            raise click.UsageError("spans go to a collector: --format otlp --endpoint URL "
                                   "(without -o)")
        with open_store(ctx, opts) as (config, store):
            if store is None:
                click.echo(no_captures_message(config), err=True)
                return
            from inspector.cli.otlp_export import send_spans

            send_spans(store, _filter(opts, limit=0), endpoint, headers, bodies,
                       _stderr_console())
        return
    with open_store(ctx, opts) as (config, store):
        f = _filter(opts, limit=0)
        if store is None:  # an empty export, as for a period without captures
            click.echo(no_captures_message(config), err=True)
            items: Any = []
        else:
            items = (iter_list_rows(store, f) if fmt == "csv"
                     else iter_exchanges(store, f, parse_bodies=False))
        writer = WRITERS[fmt]
        if output is None:
            try:
                writer(items, sys.stdout)
                sys.stdout.flush()
            except BrokenPipeError:  # `export | head`: the reader has had enough
                pass
            return
        total = count_requests(store, f) if store is not None else 0
        from rich.progress import Progress

        started = time.perf_counter()
        with open(output, "w", encoding="utf-8", newline="") as out, \
                Progress(transient=True, console=_stderr_console()) as progress:
            task = progress.add_task(f"exporting {fmt}", total=total)
            n = writer(counted(items, lambda k: progress.advance(task, k)), out)
        took = time.perf_counter() - started
    click.echo(f"exported {n} captures to {output} ({took:.1f}s)", err=True)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


# -- purge --------------------------------------------------------------------------------


@click.command("purge")
@time_option("--older-than", "Delete captures older than this (7d, 12h) or before an ISO time.")
@json_option
@home_options
@click.pass_context
@handles_errors
def purge_cmd(ctx: click.Context, older_than: float | None, as_json: bool, **opts: Any) -> None:
    """Delete old captures (and the shared body parts no capture uses any more)."""
    if older_than is None:
        raise click.UsageError("give --older-than, e.g. --older-than 30d")
    with open_store(ctx, opts, quiet=True, demo_ok=False) as (_config, store):
        n = store.purge(older_than) if store is not None else 0
    if as_json:
        echo_json({"purged": n})
    else:
        click.echo(f"purged {n} capture{'s' if n != 1 else ''}")


def register(group: click.Group) -> None:
    for command in (list_cmd, show_cmd, export_cmd, purge_cmd):
        group.add_command(command)


__all__ = ["filter_options", "register"]
