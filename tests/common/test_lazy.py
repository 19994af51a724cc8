"""Lazy package re-exports: nothing imported up front, never a stale class after a reload."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    root = tmp_path / "lazypkg"
    root.mkdir()
    (root / "__init__.py").write_text(textwrap.dedent("""
        from pytest_robofixtures.common.lazy import lazy_exports
        _WHERE = {"Thing": ".thing", "helper": ".thing"}
        __getattr__, __dir__ = lazy_exports(__name__, _WHERE)
    """))
    (root / "thing.py").write_text("class Thing: ...\ndef helper(): return 'h'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "lazypkg"
    for name in [m for m in sys.modules if m == "lazypkg" or m.startswith("lazypkg.")]:
        del sys.modules[name]


def test_nothing_is_imported_until_a_name_is_used(package: str) -> None:
    pkg = importlib.import_module(package)
    assert f"{package}.thing" not in sys.modules
    assert pkg.helper() == "h"
    assert f"{package}.thing" in sys.modules
    assert {"Thing", "helper"} <= set(dir(pkg))
    with pytest.raises(AttributeError, match="has no attribute 'Missing'"):
        pkg.Missing  # noqa: B018


def test_a_reimported_submodule_is_what_the_package_gives(package: str) -> None:
    pkg = importlib.import_module(package)
    first = pkg.Thing
    del sys.modules[f"{package}.thing"]  # what pytester's in-process runs do after a run
    fresh = importlib.import_module(f"{package}.thing")
    assert fresh.Thing is not first
    assert pkg.Thing is fresh.Thing  # not the stale class
    from lazypkg import Thing  # type: ignore[import-not-found]
    assert Thing is fresh.Thing
