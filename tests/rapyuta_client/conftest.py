"""Fixtures for the rapyuta client tests: a real RapyutaSim on loopback per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pytest_robofixtures.rapyuta import Client
from pytest_robofixtures.sim._wsgi import SimServer
from pytest_robofixtures.sim.rapyuta import RapyutaSim

from ._support import PROJECT, TOKEN, Sandbox


@pytest.fixture
def sandbox_delay() -> float:
    """Provisioning delay of the sandbox (override with parametrize)."""
    return 0.2


@pytest.fixture
def sandbox(tmp_path: Any, sandbox_delay: float) -> Iterator[Sandbox]:
    app = RapyutaSim(token=TOKEN, project=PROJECT, delay=sandbox_delay,
                     scratch_root=tmp_path / "devices")
    server = SimServer(app).start()
    try:
        yield Sandbox(app, server)
    finally:
        server.stop()


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    c = sandbox.client()
    yield c
    c.close()


