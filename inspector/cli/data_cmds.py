"""Commands over stored captures: list, show, export, purge."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    pass
