"""The official rapyuta-io SDK pointed at a sandbox (an independent client, for comparisons)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ._support import PROJECT, TOKEN, Sandbox


@pytest.fixture
def sdk(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An SDK Client on the sandbox; its process-global host config is restored afterwards."""
    rapyuta_io = pytest.importorskip("rapyuta_io")
    from rapyuta_io.utils import settings

    monkeypatch.delenv("RIO_CONFIG", raising=False)  # it would take precedence
    saved = dict(settings.default_host_config)
    settings.default_host_config.update(
        catalog_host=sandbox.url, core_api_host=sandbox.url, rip_host=sandbox.url)
    try:
        yield rapyuta_io.Client(auth_token=TOKEN, project=PROJECT)
    finally:
        settings.default_host_config.clear()
        settings.default_host_config.update(saved)
