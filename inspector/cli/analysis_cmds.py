"""Commands that analyse captures: tree, stats, diff, rate, reattribute."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    pass
