"""Commands that run the proxy or set up trust in it: `proxy` and `ca`.

`proxy` runs headless: the proxy lives on its own thread and loop; its sink only puts
lines on a queue, and this (main) thread prints them, so a slow terminal never slows
forwarding.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import sys
import threading
import time
from typing import Any

import click

from inspector.cli.common import (
    Failure,
    OtlpTrouble,
    handles_errors,
    home_options,
    load_config,
    proxy_options,
    start_live_otlp,
    stop_live_otlp,
)
from inspector.config import Config, ensure_home
from inspector.capture.redact import scrub_url
from inspector.model import Exchange

# The proxy (and cryptography) is imported inside the commands, so other commands start fast.


def exchange_line(ex: Exchange) -> str:
    """One line for a finished exchange: time, method, host and path, status, ms."""
    t = ex.timings
    when = time.strftime("%H:%M:%S", time.localtime(t.started_wall))
    total = t.ms(t.ended)
    status = ex.status if ex.status is not None else "---"
    line = f"{when}  {ex.method:<6} {ex.host}{scrub_url(ex.target)}  {status}  {total or 0:.0f} ms"
    if ex.error:
        line += f"  [{ex.error}]"
    return line


def line_listener(lines: queue.Queue[tuple[bool, str]]) -> Any:
    """A runtime listener that queues one line per finished exchange and per notice, as
    (for stderr, text); the main thread prints them, so a slow terminal never slows
    forwarding. What the recorder and the OTLP export say goes to stderr (faults as
    warnings)."""

    def listen(event: str, data: Any) -> None:
        if event == "exchange_finished":
            lines.put((False, exchange_line(data)))
        elif event == "notice" and data[0] in ("recorder_fault", "otlp_fault"):
            lines.put((True, f"warning: {data[1]}"))
        elif event == "notice" and data[0].startswith(("recorder_", "otlp_")):
            lines.put((True, f"note: {data[1]}"))  # beside the warnings it follows
        elif event == "notice" and data[0] != "listening":
            lines.put((False, f"note: {data[1]}"))

    return listen


class Console:
    """Prints the proxy's lines. A closed stdout (`claude-inspect proxy | head -3`) stops
    the exchange lines, never the proxy: the rest of stdout goes to the null device."""

    def __init__(self) -> None:
        self.stdout_open = True

    def echo(self, text: str, err: bool = False) -> None:
        if not err and not self.stdout_open:
            return
        try:
            click.echo(text, err=err)
            (sys.stderr if err else sys.stdout).flush()
        except (BrokenPipeError, OSError, ValueError):
            if err:
                return
            self.stdout_open = False
            _stdout_to_null()
            self.echo("note: stdout is closed; the proxy goes on without printing "
                      "exchanges", err=True)


def _stdout_to_null() -> None:
    """Point file descriptor 1 at the null device, so the bytes still buffered (and the
    flush at exit) go nowhere instead of raising BrokenPipeError again."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass


def load_ca(config: Config) -> Any:
    """The CA in the home folder (created on first use), or a one-line `Failure`."""
    from inspector.proxy.certs import CertificateAuthority, CertificateError

    ensure_home(config.home)
    try:
        return CertificateAuthority.load_or_create(config.home)
    except CertificateError as e:
        raise Failure(str(e)) from None


def env_lines(host: str, port: int, ca_path: str) -> list[str]:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)
    return [
        f"  HTTPS_PROXY=http://{shown}:{port} NODE_EXTRA_CA_CERTS={ca_path}",
        f"  ANTHROPIC_BASE_URL=http://{shown}:{port}   (reverse mode, no CA needed)",
    ]


def register(group: click.Group) -> None:
    @group.command("proxy")
    @home_options
    @proxy_options
    @click.option("--no-record", is_flag=True,
                  help="Relay and log only; store nothing (as the app's pause).")
    @click.pass_context
    @handles_errors
    def proxy(ctx: click.Context, no_record: bool = False, **opts: Any) -> None:
        """Run the proxy headless, recording to the database; one line per exchange.

        Ctrl-C or SIGTERM stops it after everything relayed is stored."""
        from inspector.runtime.local import Runtime

        logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
        config = load_config(ctx, **opts)
        ca = load_ca(config)
        # Not a SimpleQueue: the main thread waits on it while Ctrl-C can arrive, and
        # CPython 3.11's SimpleQueue.get(timeout=...) waits for ever when a signal lands
        # just before its deadline (the time left, gone negative, means "no timeout").
        # Queue waits on threading's locks, which treat that case as a timeout.
        lines: queue.Queue[tuple[bool, str]] = queue.Queue()
        console = Console()
        runtime = Runtime(config)
        runtime.add_listener(line_listener(lines))
        runtime.recording = not no_record
        follower = None
        stopping = threading.Event()
        # SIGINT too, explicitly: a shell without job control starts background commands
        # with SIGINT ignored, and Python then never raises KeyboardInterrupt for it
        stops = [signal.SIGINT, signal.SIGTERM] + (
            [signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
        previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in stops}
        # From here on a Ctrl-C (or SIGTERM) at any moment stops cleanly: the runtime is
        # stopped in `finally`, however far its start got.
        otlp, started = OtlpTrouble(), time.time()
        runtime.add_listener(otlp)
        try:
            follower = None if no_record else start_live_otlp(config, notice=runtime.notice)
            runtime.start()
            if runtime.proxy_error:
                raise Failure(runtime.proxy_error)
            assert runtime.proxy_address is not None
            host, port = runtime.proxy_address
            where = "not recording" if no_record else f"recording to {config.db_path}"
            if follower is not None:
                where += f", sending spans to {config.otlp_endpoint}"
            console.echo(f"claude-inspect proxy listening on {host}:{port}, {where}")
            console.echo("Point a client at it with one of:")
            for line in env_lines(host, port, str(ca.cert_path)):
                console.echo(line)
            while not stopping.is_set():
                try:
                    console.echo(*reversed(lines.get(timeout=0.2)))
                except queue.Empty:
                    pass
        except KeyboardInterrupt:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            runtime.stop()  # bounded: what could not be stored is counted and said
            # after the recorder's drain, the follower sends what was stored last
            stop_live_otlp(follower)
            while True:
                try:
                    console.echo(*reversed(lines.get_nowait()))
                except queue.Empty:
                    break
        otlp.say(started, config.otlp_endpoint)
        recorder = runtime.writer
        if recorder is not None and recorder.not_stored:
            console.echo(f"warning: {recorder.not_stored} of {runtime.captured} exchanges "
                         f"relayed were not stored (see the warnings above)", err=True)
            console.echo("proxy stopped")
            ctx.exit(1)
        console.echo("proxy stopped")

    @group.command("ca")
    @home_options
    @click.option("--path", "path_only", is_flag=True, help="Print the CA certificate's path only.")
    @click.option("--pem", "pem_only", is_flag=True, help="Print the CA certificate (PEM).")
    @click.pass_context
    @handles_errors
    def ca(ctx: click.Context, home: str | None, db: str | None, path_only: bool, pem_only: bool) -> None:
        """Where the CA certificate is, and how to make clients trust it."""
        config = load_config(ctx, home=home, db=db)
        authority = load_ca(config)
        path = str(authority.cert_path)
        if path_only:
            click.echo(path)
            return
        if pem_only:
            click.echo(authority.pem(), nl=False)
            return
        from inspector.runtime.launch import write_ca_bundle

        bundle = write_ca_bundle(config.home, authority.pem())
        click.echo(TRUST_HELP.format(path=path, bundle=bundle))


TRUST_HELP = """\
claude-inspect CA certificate: {path}

Clients must trust it to let claude-inspect read their HTTPS traffic.

Claude Code (Node):   NODE_EXTRA_CA_CERTS={path} claude
                      (or simply: claude-inspect run -- claude)
Python (anthropic SDK, httpx, requests): these variables replace the default store,
                      so use the bundle of the system's CAs plus this one, written here:
                      SSL_CERT_FILE={bundle} REQUESTS_CA_BUNDLE={bundle}
                      (or simply: claude-inspect run -- python my_agent.py)
Linux system store:   Debian/Ubuntu: sudo cp {path} /usr/local/share/ca-certificates/claude-inspect.crt
                                     && sudo update-ca-certificates
                      Fedora/RHEL:   sudo cp {path} /etc/pki/ca-trust/source/anchors/claude-inspect.pem
                                     && sudo update-ca-trust
macOS keychain:       sudo security add-trusted-cert -d -r trustRoot \\
                        -k /Library/Keychains/System.keychain {path}

No CA at all: ANTHROPIC_BASE_URL=http://127.0.0.1:8443 (reverse mode) needs no trust.
The private key (ca-key.pem beside it) never leaves this folder; delete both files to
make a new CA."""
