"""Commands that run the proxy: proxy, run, ca."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    pass
