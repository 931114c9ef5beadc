"""`claude-inspect import FILE.har`: reopen exchanges recorded elsewhere or earlier.

Each Anthropic API entry goes through the recorder's own path (redaction, decoding, SSE
reassembly, attribution, pricing) into the store, so an exported session comes back with
the same tree, stats and findings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from inspector.cli.common import (
    Failure,
    echo_json,
    handles_errors,
    home_options,
    json_option,
    load_config,
)

BATCH = 64


@click.command("import")
@click.argument("har_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@json_option
@home_options
@click.pass_context
@handles_errors
def import_cmd(ctx: click.Context, har_file: Path, as_json: bool, **opts: Any) -> None:
    """Import the Anthropic API exchanges of a HAR 1.2 file (ours or another tool's)."""
    from inspector.config import ensure_home
    from inspector.export.har_import import HarError, har_exchanges, is_api_entry, read_har
    from inspector.runtime.pipeline import prepare_database, prepare_record
    from inspector.store import Store

    config = load_config(ctx, **opts)
    try:
        entries = read_har(har_file.read_text(encoding="utf-8", errors="surrogatepass"))
    except HarError as e:
        raise Failure(f"{har_file}: {e}") from None
    wanted = sum(1 for e in entries if is_api_entry(e))
    if config.db is None:
        ensure_home(config.home)
    prepare_database(config.db_path, retention_days=0)
    imported = 0
    with Store(config.db_path) as store:
        batch = []
        try:
            for exchange in har_exchanges(entries, config.max_capture_bytes):
                batch.append(prepare_record(exchange))
                if len(batch) >= BATCH:
                    store.write(batch)
                    imported += len(batch)
                    batch = []
        except HarError as e:
            raise Failure(f"{har_file}: {e}") from None
        store.write(batch)
        imported += len(batch)
    skipped = len(entries) - wanted
    if as_json:
        echo_json({"imported": imported, "skipped": skipped, "db": str(config.db_path)})
        return
    note = f" ({skipped} entries of other hosts skipped)" if skipped else ""
    click.echo(f"imported {imported} exchanges from {har_file} into {config.db_path}{note}")


def register(group: click.Group) -> None:
    group.add_command(import_cmd)
