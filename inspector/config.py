"""Configuration: one dataclass, read from `config.toml` in the home folder, then the
environment, then command-line flags (each later source wins).

The home folder holds everything claude-inspect keeps: the CA, the database, the config
file. It is `--home`, else `$CLAUDE_INSPECT_HOME`, else `~/.claude-inspect`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from inspector.model import ProxySettings

HOME_ENV = "CLAUDE_INSPECT_HOME"
DEFAULT_LISTEN = "127.0.0.1:8443"
DEFAULT_INTERCEPT = ("api.anthropic.com", "claude.ai")
DEFAULT_UPSTREAM = "https://api.anthropic.com"
#: the log file in the home folder: the app, `run` and the child processes write there
LOG_FILE = "claude-inspect.log"


class ConfigError(Exception):
    """A setting is wrong; the message says which and how to fix it."""


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """The home folder to use (not created here)."""
    if home:
        return Path(home).expanduser()
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".claude-inspect"


def ensure_home(home: Path) -> Path:
    """Create the home folder (mode 0700) if needed and return it.

    A folder that already exists keeps its mode: `--home` may name a folder shared with
    others, and tightening it would lock them out. The private files inside are written
    owner-only whatever the folder's mode."""
    try:
        home.mkdir(parents=True, mode=0o700)
    except FileExistsError:
        if not home.is_dir():
            raise ConfigError(f"{home} is not a folder: --home names the folder to use") from None
        return home
    except OSError as e:
        raise ConfigError(f"cannot create the home folder {home} ({e.strerror or e}): "
                          "--home or $CLAUDE_INSPECT_HOME names another") from None
    try:
        os.chmod(home, 0o700)  # mkdir's mode is narrowed by the umask, never widened
    except OSError:
        pass
    return home


def create_private_file(path: Path) -> None:
    """Create `path` empty and owner-only (0600) if it does not exist yet, so a database
    SQLite then opens (and its -wal and -shm files, which copy its mode) are never
    readable by others, wherever `--db` puts them."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def parse_hostport(text: str, default_port: int | None = None) -> tuple[str, int]:
    """'127.0.0.1:8443' -> ('127.0.0.1', 8443); '[::1]:8443' works too."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_s = rest.lstrip(":")
    else:
        host, sep, port_s = text.rpartition(":")
        if not sep:
            host, port_s = text, ""
    if not port_s:
        if default_port is None:
            raise ConfigError(f"{text!r}: expected HOST:PORT")
        return host, default_port
    try:
        port = int(port_s)
    except ValueError:
        raise ConfigError(f"{text!r}: port {port_s!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{text!r}: port must be 0-65535")
    return host or "127.0.0.1", port


def parse_resolve(text: str) -> tuple[tuple[str, int], tuple[str, int]]:
    """curl's --resolve: 'HOST:PORT:ADDR:PORT' -> ((host, port), (addr, port))."""
    parts = text.split(":")
    if len(parts) < 4:
        raise ConfigError(f"--resolve {text!r}: expected HOST:PORT:ADDR:PORT")
    host, port_s, port2_s = parts[0], parts[1], parts[-1]
    addr = ":".join(parts[2:-1]).strip("[]")
    try:
        return (host.lower(), int(port_s)), (addr, int(port2_s))
    except ValueError:
        raise ConfigError(f"--resolve {text!r}: ports must be numbers") from None


@dataclass
class Config:
    """All settings. Field names are also the keys of `config.toml`."""

    home: Path = field(default_factory=resolve_home)
    """Folder for the CA, the database and config.toml."""
    db: Path | None = None
    """Database file; default `<home>/captures.db`."""
    listen: str = DEFAULT_LISTEN
    """Where the proxy listens, HOST:PORT (port 0 picks a free one)."""
    intercept: list[str] = field(default_factory=lambda: list(DEFAULT_INTERCEPT))
    """Hosts whose TLS is terminated and recorded; others are tunnelled untouched."""
    upstream: str = DEFAULT_UPSTREAM
    """Where plain (reverse-mode) requests are sent."""
    resolve: list[str] = field(default_factory=list)
    """curl-style HOST:PORT:ADDR:PORT overrides for upstream connections."""
    upstream_ca: str | None = None
    """Extra CA file trusted for upstream TLS."""
    max_capture_bytes: int = 64 << 20
    """Cap on each stored body copy; forwarding is never capped."""
    retention_days: int = 30
    """Captures older than this are purged at start (0 keeps everything)."""
    otlp_endpoint: str | None = None
    """OpenTelemetry collector (OTLP/HTTP) that each stored exchange is sent to as a span."""
    otlp_headers: list[str] = field(default_factory=list)
    """KEY=VALUE headers for the collector (e.g. an API key of the tracing backend)."""
    otlp_bodies: bool = False
    """Send request and response bodies with the spans (scrubbed); off by default."""
    exact: bool = False
    """Count each source exactly with the API's count_tokens, using each request's own
    credentials (held in memory only)."""
    count_per_minute: int = 50
    """At most this many count_tokens calls a minute with `exact`."""

    @property
    def db_path(self) -> Path:
        return self.db if self.db is not None else self.home / "captures.db"

    @property
    def ca_path(self) -> Path:
        return self.home / "ca.pem"

    @property
    def listen_hostport(self) -> tuple[str, int]:
        return parse_hostport(self.listen, 8443)

    def proxy_settings(self) -> ProxySettings:
        host, port = self.listen_hostport
        resolve = dict(parse_resolve(r) for r in self.resolve)
        return ProxySettings(
            listen_host=host,
            listen_port=port,
            intercept=tuple(h.lower() for h in self.intercept),
            upstream_url=self.upstream,
            resolve=resolve,
            upstream_ca=self.upstream_ca,
            max_capture_bytes=self.max_capture_bytes,
            ca_dir=str(self.home),
        )

    def count_settings(self) -> Any:
        """Settings for exact counting when `exact` is on, else None."""
        if not self.exact:
            return None
        from inspector.counting.client import Upstream
        from inspector.counting.worker import CountSettings

        return CountSettings(Upstream(resolve=dict(parse_resolve(r) for r in self.resolve),
                                      ca_file=self.upstream_ca,
                                      per_minute=max(1, self.count_per_minute)))

    @classmethod
    def load(cls, home: str | os.PathLike[str] | None = None, **overrides: Any) -> Config:
        """Defaults, then `<home>/config.toml`, then the environment, then `overrides`
        (flags; a value of None or an empty list means "not given")."""
        cfg = cls(home=resolve_home(home))
        path = cfg.home / "config.toml"
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as e:
                raise ConfigError(f"{path}: {e} (fix or delete the file)") from None
            cfg._apply(data, source=str(path))
        env = {
            "listen": os.environ.get("CLAUDE_INSPECT_LISTEN"),
            "db": os.environ.get("CLAUDE_INSPECT_DB"),
        }
        cfg._apply({k: v for k, v in env.items() if v}, source="environment")
        cfg._apply({k: v for k, v in overrides.items() if v not in (None, [], ())}, "flags")
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Raise ConfigError for a setting that cannot work, before anything starts."""
        self.listen_hostport
        for r in self.resolve:
            parse_resolve(r)
        parts = urlsplit(self.upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"--upstream {self.upstream!r}: expected http(s)://HOST[:PORT]")
        if self.max_capture_bytes < 0:
            raise ConfigError("max_capture_bytes must be 0 or more")
        if self.otlp_endpoint:
            parts = urlsplit(self.otlp_endpoint)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(f"--otlp-endpoint {self.otlp_endpoint!r}: expected "
                                  "http(s)://HOST[:PORT][/v1/traces]")
        for pair in self.otlp_headers:
            if "=" not in pair or not pair.split("=", 1)[0].strip():
                raise ConfigError(f"--otlp-header {pair.split('=')[0]!r}: expected KEY=VALUE")

    def _apply(self, data: dict[str, Any], source: str) -> None:
        known = {f.name: f for f in fields(self)}
        for key, value in data.items():
            key = key.replace("-", "_")
            if key not in known or key == "home":
                raise ConfigError(f"{source}: unknown setting {key!r}")
            if key == "db":
                value = Path(value).expanduser()
            elif key in ("intercept", "resolve", "otlp_headers"):
                value = [value] if isinstance(value, str) else list(value)
            elif key == "exact":
                if not isinstance(value, bool):
                    raise ConfigError(f"{source}: exact must be true or false")
            elif key in ("max_capture_bytes", "retention_days", "count_per_minute"):
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise ConfigError(f"{source}: {key} must be a whole number") from None
            elif key == "otlp_bodies" and not isinstance(value, bool):
                raise ConfigError(f"{source}: {key} must be true or false")
            setattr(self, key, value)
