"""`claude-inspect run -- CMD ARGS...`: run a client with the proxy for its lifetime."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

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
from inspector.config import ensure_home
from inspector.runtime.launch import (
    child_environment, gateway_host, run_child, write_ca_bundle, write_node_extra_certs,
)

log = logging.getLogger(__name__)


@click.command(context_settings={"ignore_unknown_options": True,
                                 "allow_interspersed_args": False})
@home_options
@proxy_options
@click.option("--reverse", is_flag=True,
              help="Point ANTHROPIC_BASE_URL at the proxy instead (no CA needed).")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
@handles_errors
def run(ctx: click.Context, command: tuple[str, ...], reverse: bool, **opts) -> None:
    """Run COMMAND with the proxy, recording its Claude API traffic.

    \b
    Examples:
      claude-inspect run -- claude
      claude-inspect run --reverse -- python my_agent.py

    Reuses a claude-inspect proxy of the same home that is already running; otherwise
    starts one on a free port for the life of COMMAND. Exits with COMMAND's exit code.
    """
    from inspector.runtime.local import Runtime, running_proxy

    config = load_config(ctx, **opts)
    try:
        ensure_home(config.home)
    except OSError as e:
        raise Failure(f"cannot create the home folder {config.home}: "
                      f"{e.strerror or e}; --home names another") from None
    log_to_file(config.home)
    base_env = dict(os.environ)
    gateway = gateway_host(base_env)
    listen_given = bool(opts.get("listen") or (ctx.find_root().obj or {}).get("listen"))

    runtime = follower = None
    faults: list[str] = []  # said after COMMAND ends: its terminal is its own until then
    otlp = OtlpTrouble()
    # A running proxy knows nothing of a gateway set here, so reuse one only without it.
    address = None if gateway else running_proxy(config)
    if address is None:
        if gateway and not reverse and gateway[0] == "https":
            # a company gateway: keep it, and record the traffic on its way there
            config.intercept.append(gateway[1])
        if gateway and reverse:
            config.upstream = base_env["ANTHROPIC_BASE_URL"]
        if not listen_given:
            config.listen = f"{config.listen_hostport[0]}:0"
        runtime = Runtime(config)
        runtime.add_listener(fault_listener(faults))
        runtime.add_listener(otlp)
        follower = start_live_otlp(config, console=False, notice=runtime.notice)
        runtime.start()
        if runtime.proxy_error:
            runtime.stop()
            stop_live_otlp(follower)
            raise Failure(runtime.proxy_error)
        address = runtime.proxy_address
        assert address is not None
    else:
        click.echo(f"claude-inspect: using the proxy already running on "
                   f"{address[0]}:{address[1]}", err=True)

    bundle = None
    node_ca = config.ca_path
    if not reverse:
        bundle, node_ca = trust_files(config, base_env)
    env = child_environment(base_env, address, ca_path=node_ca, bundle_path=bundle,
                            reverse=reverse)
    started = time.time()
    try:
        code = run_child(list(command), env)
    except FileNotFoundError as e:
        code = None
        error = str(e)
    finally:
        if runtime is not None:
            runtime.stop()
        stop_live_otlp(follower)
    for line in faults[-5:]:
        click.echo(f"claude-inspect: warning: {line}", err=True)
    otlp.say(started, config.otlp_endpoint)
    if code is None:
        raise Failure(error)
    click.echo(summary_line(config, started, reused=runtime is None), err=True)
    ctx.exit(code)


def fault_listener(faults: list[str]):
    """A runtime listener keeping the recorder's fault lines (from its threads)."""

    def listen(event: str, data) -> None:
        if event == "notice" and data[0] == "recorder_fault" and data[1] not in faults:
            faults.append(data[1])

    return listen


def trust_files(config, base_env: dict[str, str]) -> tuple[Path, Path]:
    """(SSL_CERT_FILE bundle, NODE_EXTRA_CA_CERTS file) for the child: our CA added to
    what the user already trusts (their own files when they set these variables, which
    the child would otherwise lose), never replacing it."""
    ca_pem = config.ca_path.read_text(encoding="ascii")
    home = config.home.resolve()

    def users(var: str) -> str | None:
        value = base_env.get(var)
        if not value or Path(value).expanduser().resolve().parent == home:
            return None  # unset, or one of ours (a run inside a run)
        return str(Path(value).expanduser())

    node_ca = config.ca_path
    theirs = users("NODE_EXTRA_CA_CERTS")
    if theirs:
        try:
            node_ca = write_node_extra_certs(config.home, ca_pem, theirs)
        except OSError as e:
            click.echo(f"claude-inspect: NODE_EXTRA_CA_CERTS={theirs} cannot be read "
                       f"({e.strerror}); the child trusts claude-inspect's CA only", err=True)
    base = users("SSL_CERT_FILE")
    try:
        bundle = write_ca_bundle(config.home, ca_pem, base)
    except OSError as e:
        click.echo(f"claude-inspect: SSL_CERT_FILE={base} cannot be read ({e.strerror}); "
                   "using the system's roots", err=True)
        bundle = write_ca_bundle(config.home, ca_pem)
    return bundle, node_ca


def summary_line(config, since: float, reused: bool = False) -> str:
    """One line: what this run captured, and how to browse it."""
    from inspector.store import Store
    from inspector.store.queries import Filter, totals

    if not config.db_path.exists():
        return "claude-inspect: nothing captured"
    if reused:  # our own runtime drained on stop; another proxy's recorder may lag a little
        time.sleep(0.5)
    try:
        store = Store(config.db_path)
        try:
            t = totals(store, Filter(since=since, limit=0))
        finally:
            store.close()
    except sqlite3.DatabaseError as e:  # said as a warning already; keep COMMAND's exit code
        return f"claude-inspect: {config.db_path.name} cannot be read ({e})"
    if not t["requests"]:
        return ("claude-inspect: nothing captured (see `claude-inspect ca` if the client "
                "refused the certificate, or try `run --reverse`)")
    cost = "cost unknown" if t["cost_usd"] is None else f"${t['cost_usd']:.4f}"
    home = "" if os.environ.get("CLAUDE_INSPECT_HOME") else f" --home {config.home}"
    return (f"claude-inspect: {t['requests']} requests captured, "
            f"{t['prompt_tokens']:,} prompt tokens, {t['output_tokens']:,} output tokens, "
            f"{cost}; browse: claude-inspect{home}")


def register(group: click.Group) -> None:
    group.add_command(run)
