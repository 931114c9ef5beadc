"""Which database a reading command opens, and the one line it prints when there is none.

Every command that reads captures goes through `open_store`, so they agree:
- a database named with `--db` (or `$CLAUDE_INSPECT_DB`, or `db` in config.toml) that
  does not exist is an error naming the file (exit 1);
- a home with no captures yet is not an error: listing commands print one "no captures
  yet" line and exit 0, commands given an ID fail as for any unknown ID;
- a home that only holds the demo's sample (`claude-inspect demo`) is read from there,
  with a note saying so, until the first real capture is recorded;
- a database the user may not write (a read-only file or folder) is opened read-only:
  browsing needs no write access.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any, Iterator

import click

from inspector.cli.common import Failure, load_config

#: the sample `claude-inspect demo` records, beside captures.db in the home folder
DEMO_DB = "demo.db"


def no_captures_message(config: Any) -> str:
    return f"no captures yet in {config.home}: run `claude-inspect run -- claude`"


def database_to_read(config: Any, demo_ok: bool = True) -> tuple[Path | None, str | None]:
    """(path to read or None when there is none yet, a note to print or None)."""
    path = config.db_path
    if path.exists():
        return path, None
    if config.db is not None:
        raise Failure(f"{path} does not exist (--db names the database file to read)")
    demo = config.home / DEMO_DB
    if demo_ok and demo.exists():
        return demo, (f"note: showing the demo's sample in {demo} until you record your own "
                      "(`claude-inspect run -- claude`)")
    return None, None


def open_readable(path: Path) -> Any:
    """A Store on `path`; read-only when the file or its folder may not be written."""
    from inspector.store import Store

    try:
        return Store(path)
    except (sqlite3.OperationalError, PermissionError) as e:
        text = str(e).lower()
        if not any(w in text for w in ("readonly", "read-only", "unable to open",
                                       "permission denied")):
            raise
    try:
        store = Store(path, readonly=True)
    except sqlite3.OperationalError:
        # a WAL database in a folder we cannot write: read the file as it stands
        store = Store(path, immutable=True)
    store.read_only = True
    return store


@contextlib.contextmanager
def writable_copy(store: Any) -> Iterator[sqlite3.Connection]:
    """A connection to `store`'s data that analysis may write to (its summary tables):
    the store's own, or for a read-only database a temporary copy of it."""
    if not getattr(store, "read_only", False):
        yield store.conn
        return
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        copy = sqlite3.connect(Path(folder) / "copy.db")
        try:
            store.conn.backup(copy)
            yield copy
        finally:
            copy.close()


@contextlib.contextmanager
def open_store(ctx: click.Context, opts: dict[str, Any], quiet: bool = False,
               demo_ok: bool = True) -> Iterator[tuple[Any, Any]]:
    """(config, store) for a reading command; store is None when there are no captures
    yet (the caller prints `no_captures_message` or fails for its ID). `demo_ok=False`
    for a command that must not act on the demo's sample (purge)."""
    config = load_config(ctx, home=opts.get("home"), db=opts.get("db"))
    path, note = database_to_read(config, demo_ok)
    if path is None:
        yield config, None
        return
    if note and not quiet:
        click.echo(note, err=True)
    store = open_readable(path)
    try:
        yield config, store
    finally:
        store.close()


def require_store(config: Any, store: Any, what: str) -> Any:
    """`store`, or a failure saying there is nothing to look `what` up in."""
    if store is None:
        raise Failure(f"no capture with id {what!r}: {no_captures_message(config)}")
    return store
