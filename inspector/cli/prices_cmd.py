"""`claude-inspect prices`: the price table, and refreshing it from LiteLLM's list."""

from __future__ import annotations

import logging
from typing import Any

import click

from inspector.cli.common import Failure, echo_json, handles_errors, home_options, load_config
from inspector.config import ensure_home

log = logging.getLogger(__name__)


@click.command()
@home_options
@click.option("--update", "update", is_flag=False, flag_value="", default=None, metavar="[FILE|URL]",
              help="Refresh exact model prices from a LiteLLM-format price list: a file, a URL, "
                   "or by default LiteLLM's own list (the bundled snapshot when offline).")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.pass_context
@handles_errors
def prices(ctx: click.Context, update: str | None, as_json: bool, **opts: Any) -> None:
    """Show the model prices used for costs (USD per million tokens), or --update them.

    A model the table lacks is priced as the newest known model of its tier (Opus, Sonnet,
    Haiku) and marked assumed."""
    from inspector.attribution import litellm, pricing

    config = load_config(ctx, **opts)
    if update is not None:
        source = update or litellm.URL
        try:
            text = litellm.fetch(source)
        except (OSError, ValueError) as e:
            if update:
                raise Failure(f"cannot read {source}: {e}") from None
            click.echo(f"cannot reach {source} ({e}); using the bundled snapshot", err=True)
            source, text = "the bundled snapshot", litellm.snapshot_text()
        try:
            kept, count = litellm.refreshed(text)
        except ValueError as e:
            raise Failure(f"{source}: {e}") from None
        ensure_home(config.home)
        path = pricing.user_price_file()
        path.write_text(kept, encoding="utf-8")
        pricing.use_price_file(path)
        click.echo(f"{count} Claude model prices from {source} saved to {path}")
        return
    table = pricing.default_prices()
    rows = [{"model": name, "family": p.family, "source": "price list", **_rates(p)}
            for name, p in table.exact]
    rows += [{"model": ", ".join(pats), "family": p.family, "source": "built in", **_rates(p)}
             for pats, p in table.entries]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        long = f"  >{r['long_above'] // 1000}k: {r['long_input']:g}/{r['long_output']:g}" if r.get("long_input") else ""
        click.echo(f"{r['family']:<28} in {r['input']:>6g}  out {r['output']:>6g}  "
                   f"cache 5m {r['cache_write_5m']:g} 1h {r['cache_write_1h']:g} read {r['cache_read']:g}"
                   f"{long}  [{r['source']}]")


def _rates(p: Any) -> dict[str, Any]:
    out = {"input": p.input, "output": p.output, "cache_write_5m": p.cache_write_5m,
           "cache_write_1h": p.cache_write_1h, "cache_read": p.cache_read}
    if p.long is not None:
        out.update(long_above=p.long_above, long_input=p.long.input, long_output=p.long.output)
    return out


def register(group: click.Group) -> None:
    group.add_command(prices)
