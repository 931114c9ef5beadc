"""`export --format otlp`: stored exchanges sent as spans to an OpenTelemetry collector."""

from __future__ import annotations

import time
from typing import Any

import click

from inspector.cli.common import Failure

#: tries of one batch before giving up (the exporter adds its own quick retries)
TRIES = 3


def send_spans(store: Any, f: Any, endpoint: str, header_pairs: tuple[str, ...],
               bodies: bool, console: Any) -> None:
    """Send every Messages exchange matching `f`, oldest first, in batches; one line at
    the end, or a `Failure` naming the collector and how far it got."""
    from rich.progress import Progress

    from inspector.export.otlp import (
        OtlpSender, is_messages_exchange, parse_headers, quiet_sdk_logs, span_data)
    from inspector.store.exchanges import iter_exchanges
    from inspector.store.queries import count_requests

    try:
        headers = parse_headers(header_pairs)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--header") from None
    quiet_sdk_logs()
    sender = OtlpSender(endpoint, headers)
    sent = 0
    started = time.perf_counter()
    batch: list[Any] = []

    def flush() -> None:
        nonlocal sent
        spans = sender.spans(batch)
        for attempt in range(TRIES):
            if sender.send(spans):
                sent += len(batch)
                batch.clear()
                return
            time.sleep(0.5 * 2 ** attempt)
        raise Failure(f"the collector at {sender.url} did not take the spans "
                      f"({sender.last_error}); {sent} sent before that")

    try:
        with Progress(transient=True, console=console) as progress:
            task = progress.add_task("sending spans", total=count_requests(store, f))
            for ex in iter_exchanges(store, f):
                progress.advance(task)
                if not is_messages_exchange(ex):
                    continue
                item = span_data(ex, bodies=bodies)
                if item is not None:
                    batch.append(item)
                if len(batch) >= 128:
                    flush()
            if batch:
                flush()
    finally:
        sender.close()
    took = time.perf_counter() - started
    click.echo(f"sent {sent} spans to {sender.url} ({took:.1f}s)", err=True)
