"""Fixtures for the rapyuta.io sandbox tests: a real RapyutaSim on a loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ._support import Sandbox, start_sandbox


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

