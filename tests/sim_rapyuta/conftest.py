"""Fixtures for the rapyuta.io sandbox tests: a real RapyutaSim on a loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ._support import PROJECT, TOKEN, Sandbox, start_sandbox


@pytest.fixture
def make_sandbox(tmp_path: Path) -> Iterator[Callable[..., Sandbox]]:
    started: list[Sandbox] = []

    def make(**kw: Any) -> Sandbox:
        sb = start_sandbox(tmp_path / f"sb{len(started)}", **kw)
        started.append(sb)
        return sb

    yield make
    for sb in started:
        sb.http.close()
        sb.server.stop()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox()


@pytest.fixture
def sdk(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The official SDK's Client on the sandbox; its process-global host config is restored."""
    import rapyuta_io
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
