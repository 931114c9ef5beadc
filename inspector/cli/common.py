"""Options and helpers shared by every subcommand.

`--home`/`--db` and the proxy options are accepted both before and after the subcommand
(`claude-inspect --home H list` and `claude-inspect list --home H`); `load_config` merges
the two, the subcommand's value winning.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable

import click

from inspector.config import LOG_FILE, Config, ConfigError
from inspector.timeparse import parse_time

#: the live OTLP follower's status lines, in the log file of the app
otlp_log = logging.getLogger("inspector.otlp")


class Failure(click.ClickException):
    """A one-line error for the user; exit code 1."""

    exit_code = 1

    def show(self, file=None) -> None:  # noqa: D102 - same output for people and scripts
        click.echo(f"error: {self.format_message()}", err=True)


def home_options(f: Callable, db_help: str = "Database file (default: HOME/captures.db).") -> Callable:
    f = click.option(
        "--db", "db", type=click.Path(dir_okay=False), default=None, help=db_help,
    )(f)
    f = click.option(
        "--home", "home", type=click.Path(file_okay=False), default=None,
        envvar="CLAUDE_INSPECT_HOME", show_envvar=True,
        help="Folder for the CA, database and config (default: ~/.claude-inspect).",
    )(f)
    return f


def proxy_options(f: Callable) -> Callable:
    """Options of the proxy, shared by the app, `proxy`, `run` and `demo`."""
    opts = [
        click.option("--listen", default=None, metavar="HOST:PORT",
                     help="Where the proxy listens (default 127.0.0.1:8443; port 0 picks one)."),
        click.option("--intercept", multiple=True, metavar="HOST",
                     help="Host to intercept and record (repeatable; default api.anthropic.com, claude.ai)."),
        click.option("--upstream", default=None, metavar="URL",
                     help="Where plain (reverse-mode) requests go (default https://api.anthropic.com)."),
        click.option("--resolve", multiple=True, metavar="HOST:PORT:ADDR:PORT",
                     help="As curl's: send upstream traffic for HOST:PORT to ADDR:PORT, still verifying TLS for HOST."),
        click.option("--upstream-ca", default=None, type=click.Path(dir_okay=False, exists=True),
                     help="Extra CA file to trust for upstream TLS."),
        click.option("--max-capture-bytes", default=None, type=click.IntRange(min=0), metavar="N",
                     help="Cap on each stored body copy (default 64 MiB); forwarding is never capped."),
        click.option("--otlp-endpoint", default=None, metavar="URL",
                     help="Send each stored exchange as a span to this OpenTelemetry "
                          "collector (OTLP/HTTP; /v1/traces is added)."),
        click.option("--otlp-header", "otlp_headers", multiple=True, metavar="KEY=VALUE",
                     help="Header for the collector (repeatable)."),
        click.option("--otlp-bodies", is_flag=True, default=None,
                     help="Send bodies with the spans too (scrubbed of secrets)."),
        click.option("--exact", is_flag=True, default=None,
                     help="Count each source with the API's count_tokens, using each request's own credentials."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


PROXY_KEYS = ("listen", "intercept", "upstream", "resolve", "upstream_ca", "max_capture_bytes",
              "otlp_endpoint", "otlp_headers", "otlp_bodies", "exact")


def load_config(ctx: click.Context, **opts: Any) -> Config:
    """Config from the home folder's file, the environment and the flags given before and
    after the subcommand. Raises `Failure` with a one-line reason."""
    merged: dict[str, Any] = {}
    parent = ctx.find_root().obj or {}
    root = ctx.find_root()
    for key in ("home", "db", *PROXY_KEYS):
        value = opts.get(key)
        if value in (None, (), []) or (
                key == "home" and parent.get(key) and _from_env(ctx, key)
                and not _from_env(root, key)):
            # `--home H` before the subcommand beats $CLAUDE_INSPECT_HOME after it
            value = parent.get(key)
        merged[key] = list(value) if isinstance(value, tuple) else value
    home = merged.pop("home")
    try:
        config = Config.load(home, **merged)
    except ConfigError as e:
        raise Failure(str(e)) from None
    from inspector.attribution.pricing import use_price_file
    use_price_file(config.home / "prices.json")  # prices refreshed by `prices --update`
    return config


def start_live_otlp(config: Config, console: bool = True,
                    notice: Callable[[str, str], None] | None = None) -> Any:
    """The process that sends each newly stored exchange to the configured collector, or
    None without one. Its status lines go to the terminal, or to the log file when
    something else owns the terminal; with `notice`, to the log and to
    `notice(kind, line)` as well ("otlp_fault" when the collector fails, "otlp_ok" when
    it answers again), from a thread. Stop it after the recorder has drained."""
    if not config.otlp_endpoint:
        return None
    from inspector.export.otlp import parse_headers
    from inspector.export.otlp_follow import start_follower

    if notice is not None:
        def on_status(fault: bool | None, line: str) -> None:
            otlp_log.log(logging.INFO if fault is False else logging.WARNING, "%s", line)
            if fault is not None:
                notice("otlp_fault" if fault else "otlp_ok", line)

        return start_follower(config.db_path, config.otlp_endpoint,
                              parse_headers(config.otlp_headers),
                              bodies=config.otlp_bodies, on_status=on_status)
    output = None
    if not console:
        config.home.mkdir(parents=True, exist_ok=True)
        output = open(config.home / LOG_FILE, "a", encoding="utf-8")
    try:
        return start_follower(config.db_path, config.otlp_endpoint,
                              parse_headers(config.otlp_headers),
                              bodies=config.otlp_bodies, output=output)
    finally:
        if output is not None:
            output.close()  # the child holds its own copy


class OtlpTrouble:
    """A runtime listener keeping the live OTLP export's last fault (None once the
    collector answers again), to be said when the process ends: what the follower had
    not sent by then, no later follower sends (each starts from the newest capture)."""

    def __init__(self) -> None:
        self.fault: str | None = None

    def __call__(self, event: str, data: Any) -> None:
        if event == "notice" and data[0] in ("otlp_fault", "otlp_ok"):
            self.fault = data[1] if data[0] == "otlp_fault" else None

    def say(self, started: float, endpoint: str | None) -> None:
        """The warning on stderr, with the command that sends what was not sent."""
        if self.fault is None:
            return
        minutes = int((time.time() - started) // 60) + 2
        click.echo(f"claude-inspect: warning: {self.fault.removesuffix('; retrying')}; "
                   f"the spans not sent are stored: `claude-inspect export --since "
                   f"{minutes}m --format otlp --endpoint {endpoint}` sends them", err=True)


def stop_live_otlp(follower: Any) -> None:
    if follower is not None:
        follower.stop()


def _from_env(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is click.core.ParameterSource.ENVIRONMENT


def time_option(name: str, help: str) -> Callable:
    def convert(ctx, param, value):
        if value is None:
            return None
        try:
            return parse_time(value)
        except ValueError as e:
            raise click.BadParameter(str(e)) from None

    return click.option(name, default=None, callback=convert, metavar="WHEN", help=help)


def json_option(f: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def echo_json(data: Any) -> None:
    """`data` as indented JSON. A lone surrogate (JSON allows `"\\ud800"`; it cannot be
    written as UTF-8) stays the escape it was sent as, so the output is valid UTF-8 JSON."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    click.echo(_LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def handles_errors(f: Callable) -> Callable:
    """Turn expected errors (bad config, OS errors) into one-line failures."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except ConfigError as e:
            raise Failure(str(e)) from None
        except OSError as e:
            raise Failure(f"{e.strerror or e}: {e.filename or ''}".rstrip(": ")) from None
        except sqlite3.DatabaseError as e:
            if "readonly" in str(e):
                raise Failure(f"the database is read-only ({e}): this command changes it; "
                              "reading commands still work") from None
            raise Failure(f"the database cannot be read ({e}); is it a claude-inspect "
                          f"database? --db names another file") from None

    return wrapper


def log_to_file(home: Path) -> None:
    """Send log lines to `HOME/claude-inspect.log` while something else owns the terminal
    (the app's screen, or the command that `run` started)."""
    try:
        home.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(home / LOG_FILE, encoding="utf-8")
    except OSError:
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
