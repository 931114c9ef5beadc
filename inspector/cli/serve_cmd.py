"""`claude-inspect serve`: the same app in a browser tab, through textual-serve.

Each browser tab runs its own copy of the app in browse mode (`--no-proxy`), reading the
store as the terminal app does; one headless proxy, started beside the web server unless
`--no-proxy`, records into that store. textual-serve is an optional dependency
(`pip install 'claude-inspect[serve]'`), imported only here.
"""

from __future__ import annotations

import logging
import shlex
import signal
import subprocess
import sys
from typing import Any

import click

from inspector.cli.common import Failure, handles_errors, home_options, load_config, proxy_options

log = logging.getLogger(__name__)

#: the proxy options as the `proxy` command spells them, for the child proxy
_PASSED = (("listen", "--listen"), ("intercept", "--intercept"), ("upstream", "--upstream"),
           ("resolve", "--resolve"), ("upstream_ca", "--upstream-ca"),
           ("max_capture_bytes", "--max-capture-bytes"), ("otlp_endpoint", "--otlp-endpoint"),
           ("otlp_headers", "--otlp-header"))


def _home_args(config: Any) -> list[str]:
    args = ["--home", str(config.home)]
    if config.db is not None:
        args += ["--db", str(config.db)]
    return args


def proxy_args(config: Any, opts: dict[str, Any]) -> list[str]:
    """The flags given here, passed on to the child `proxy` (config.toml it reads itself)."""
    args: list[str] = []
    for key, flag in _PASSED:
        value = opts.get(key)
        for item in (value if isinstance(value, (list, tuple)) else [value]):
            if item not in (None, ""):
                args += [flag, str(item)]
    if opts.get("otlp_bodies"):
        args.append("--otlp-bodies")
    return args


@click.command("serve")
@home_options
@proxy_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address the web server listens on (loopback: only this machine).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the web server.")
@click.option("--no-proxy", is_flag=True, help="Only browse what is stored; start no proxy.")
@click.pass_context
@handles_errors
def serve(ctx: click.Context, host: str, port: int, no_proxy: bool, **opts: Any) -> None:
    """Open the app in a browser tab instead of the terminal (needs textual-serve)."""
    try:
        Server = _orderly_server()
    except ImportError:
        raise Failure("serve needs textual-serve: pip install 'claude-inspect[serve]'") from None
    config = load_config(ctx, **opts)
    app_command = shlex.join([sys.executable, "-m", "inspector", *_home_args(config),
                              "--no-proxy"])
    proxy = None
    if not no_proxy:
        proxy = subprocess.Popen([sys.executable, "-m", "inspector", "proxy",
                                  *_home_args(config), *proxy_args(config, opts)],
                                 stdin=subprocess.DEVNULL, start_new_session=True)
    click.echo(f"claude-inspect in a browser: http://{host}:{port}  (Ctrl-C stops)", err=True)
    sys.stderr.flush()
    try:
        Server(app_command, host=host, port=port, title="claude-inspect").serve()
    finally:
        if proxy is not None and proxy.poll() is None:
            proxy.send_signal(signal.SIGTERM)  # it stores what it relayed, then ends
            try:
                proxy.wait(15)
            except subprocess.TimeoutExpired:
                proxy.kill()
                proxy.wait()


def _orderly_server() -> type:
    """textual-serve's Server, ending in order: on Ctrl-C or SIGTERM it exits at once,
    while the app of a tab may still be running or quitting, and the app's process
    transport is then collected after the loop closed (a traceback on the console).
    This one tells every tab's app to quit, waits for them (5 s at most) and closes
    their pipes before it exits."""
    import asyncio

    from aiohttp.web_runner import GracefulExit
    from textual_serve import server as web_server

    live: set[Any] = set()

    class TrackedService(web_server.AppService):
        async def start(self, width: int, height: int) -> None:
            live.add(self)
            await super().start(width, height)

        async def stop(self) -> None:
            try:
                await super().stop()
                # the app's output has ended, but its stdin pipe stays open and the
                # process may not be reaped yet, so asyncio keeps its transport until
                # it is collected, maybe after the loop closed (a traceback at exit)
                process = getattr(self, "_process", None)
                if process is not None:
                    if process.stdin is not None:
                        process.stdin.close()
                    # reaped too (its output ending is not its exit), so the transport
                    # finishes while the loop runs
                    try:
                        await asyncio.wait_for(process.wait(), 5)
                    except asyncio.TimeoutError:
                        log.warning("a browser tab's app did not end within 5 s")
                    await asyncio.sleep(0)
            finally:
                live.discard(self)

    # the server makes one service per browser tab, by this module-level name
    web_server.AppService = TrackedService

    class OrderlyServer(web_server.Server):
        def request_exit(self) -> None:
            asyncio.get_event_loop().create_task(self._exit_after_apps())

        async def _exit_after_apps(self) -> None:
            loop = asyncio.get_running_loop()
            for service in list(live):
                try:  # a tab still open: its app quits, then its handler stops it
                    await service.send_meta({"type": "quit"})
                except (OSError, RuntimeError):
                    pass  # quitting already
            end = loop.time() + 5
            while live and loop.time() < end:
                await asyncio.sleep(0.05)
            raise GracefulExit()

    return OrderlyServer


def register(group: click.Group) -> None:
    group.add_command(serve)
