"""Commands that open the Textual app: tui. Textual is imported inside them only, so
headless commands start fast and never load it."""

from __future__ import annotations

import time

import click

from inspector.cli.common import (
    Failure,
    OtlpTrouble,
    handles_errors,
    home_options,
    load_config,
    log_to_file,
    proxy_options,
    start_live_otlp,
    stop_live_otlp,
)


@click.command()
@home_options
@proxy_options
@click.option("--no-proxy", is_flag=True, help="Only browse what is stored; start no proxy.")
@click.pass_context
@handles_errors
def tui(ctx: click.Context, no_proxy: bool = False, **opts) -> None:
    """Open the app (the default when no command is given)."""
    config = load_config(ctx, **opts)
    parent = ctx.find_root().obj or {}
    no_proxy = no_proxy or bool(parent.get("no_proxy"))
    # the table's first window is read in a thread while Textual is imported and starts
    from inspector.tui.backend import FIRST_WINDOW, Backend

    backend = Backend(config.db_path)
    backend.prefetch_window({}, FIRST_WINDOW)
    try:
        from inspector.tui.app import make_app
    except ImportError as e:  # pragma: no cover - textual is a dependency
        raise Failure(f"the app needs Textual: {e}") from None
    runtime = None
    if not no_proxy:
        # the proxy runs in a process of its own so that rendering never delays it
        from inspector.runtime.isolated import IsolatedRuntime

        runtime = IsolatedRuntime(config)
    log_to_file(config.home)
    # the collector's trouble is said on screen, not only in the log; what it had not
    # taken when the app closes, on the terminal after it
    otlp, started = OtlpTrouble(), time.time()
    follower = None
    if runtime is not None:
        runtime.add_listener(otlp)
        follower = start_live_otlp(config, console=False, notice=runtime.notice)
    app = make_app(config, runtime, backend=backend)
    try:
        app.run()
    finally:
        if runtime is not None:
            runtime.stop(timeout=10)  # a no-op when the app already stopped it
        stop_live_otlp(follower)
    otlp.say(started, config.otlp_endpoint)


def register(group: click.Group) -> None:
    group.add_command(tui)
