"""Fixtures for the app's tests: a home folder whose database holds real captures written
through the store, and a helper that runs the app headless on it."""

from __future__ import annotations

import pytest

from inspector.config import Config
from inspector.store import Store
from .sample import demo_records, sample_records


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
