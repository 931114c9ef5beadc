"""Fixtures for the app's tests: a home folder whose database holds real captures written
through the store, and a helper that runs the app headless on it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inspector.config import Config
from inspector.store import Store
from inspector.timeparse import iso_utc
from .sample import SESSION_A, _id, demo_records, make_record, sample_records


@pytest.fixture
def config(home) -> Config:
    return Config.load(home)


@pytest.fixture
def filled(config) -> Config:
    """Seven synthetic captures in two sessions plus the six-turn demo session."""
    with Store(config.db_path) as store:
        store.write(sample_records() + demo_records())
    return config


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests are async; anyio's pytest plugin runs them on asyncio."""
    return "asyncio"


@pytest.fixture
def many(config):
    """Two windows of the main screen's worth of captures (400), a second apart."""
    from inspector.tui.screens.main import WINDOW

    t = 1_795_000_000.0
    base = make_record(0, t, SESSION_A, 0)
    with Store(config.db_path) as store:
        store.write([type(base)(capture=replace(base.capture, id=_id(n, t + n), ts=iso_utc(t + n)),
                                attribution=base.attribution, cost_usd=base.cost_usd)
                     for n in range(WINDOW * 2)])
    return config
