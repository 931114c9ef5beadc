"""`claude-inspect demo`: a realistic sample session, recorded through the real proxy."""

from __future__ import annotations

import click

import functools

from inspector.cli.common import Failure, handles_errors, home_options, load_config
from inspector.cli.stores import DEMO_DB
from inspector.config import ensure_home


@click.command()
@functools.partial(home_options, db_help="Where to record the sample (default: HOME/demo.db, "
                   "replaced on each run; the other commands read it until you record your own).")
@click.option("--headless", is_flag=True, help="Only record; do not open the app.")
@click.option("--sessions", default=2, show_default=True, type=click.IntRange(1, 50),
              help="How many sample sessions to record.")
@click.pass_context
@handles_errors
def demo(ctx: click.Context, headless: bool, sessions: int, **opts) -> None:
    """Record sample Claude Code sessions and open the app on them.

    A stand-in for the Claude API runs on loopback and the sessions go through the real
    proxy, so the sample shows what your own traffic will: system prompt, built-in tools,
    MCP servers, CLAUDE.md memory, a skill, tool results, cache reads and writes. No API
    key and no network needed. The sample goes to HOME/demo.db (replaced on each run)
    unless --db names another file. Until your own traffic is recorded (to
    HOME/captures.db), `list`, `tree`, `stats` and the other commands read the sample.
    """
    from inspector.demo.record import record_demo

    config = load_config(ctx, **opts)
    ensure_home(config.home)
    if config.db is None:
        config.db = config.home / DEMO_DB
        for suffix in ("", "-wal", "-shm"):
            config.db.with_name(DEMO_DB + suffix).unlink(missing_ok=True)
    total = sessions * 6
    with click.progressbar(length=total, label="Recording the demo", file=click.get_text_stream("stderr")) as bar:
        try:
            ids = record_demo(config, sessions=sessions,
                              progress=lambda done, _total: bar.update(done - bar.pos))
        except RuntimeError as e:
            raise Failure(f"demo failed: {e}") from None
    click.echo(f"Recorded {len(ids)} requests into {config.db_path}", err=True)
    if opts.get("db") is None and not (config.home / "captures.db").exists():
        click.echo("Try: claude-inspect stats --by source   (the commands read the sample "
                   "until you record your own)", err=True)
    click.echo(f"Browse again with: claude-inspect --no-proxy --db {config.db_path}", err=True)
    if headless:
        return
    make_demo_app(config).run()


def make_demo_app(config):
    """The app on the demo's sample: browsing only, its status line saying what it shows."""
    from dataclasses import replace

    from inspector.tui.app import make_app

    app = make_app(config, None)
    app.proxy_state = replace(app.proxy_state, browse_note=(
        f"the demo's sample ({config.db_path.name}, recorded by a stand-in API); "
        "`claude-inspect run -- claude` records your own"))
    return app


def register(group: click.Group) -> None:
    group.add_command(demo)
