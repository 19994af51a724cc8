"""Issue 12's port check: SDK-written test code runs against the sandbox, then ported by one
textual replacement (``rapyuta_io`` -> ``pytest_robofixtures.rapyuta``) and run again."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ._support import PROJECT, TOKEN, Sandbox

SOURCE = Path(__file__).parent / "data" / "port_rapyuta_io_families.py.txt"
CHECKS = ["check_native_network", "check_volume", "check_static_route",
          "check_rosbag_and_nested_status", "check_secret_and_build", "check_rosbag_jobs"]
#: checks that need the other half of issue 12 (SDK-shaped nested objects, the
#: ``clients.package`` / ``utils.error`` mirrors), which lands on another branch
NEEDS_NESTED: set[str] = set()  # nested status attributes come from the SDK-shaped objects


def _load(text: str, tmp_path: Path, name: str) -> ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def port_env(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "rio_config.json"
    config.write_text(json.dumps({"catalog_host": sandbox.url, "core_api_host": sandbox.url,
                                  "rip_host": sandbox.url}))
    monkeypatch.setenv("RIO_CONFIG", str(config))
    monkeypatch.setenv("PORT_TOKEN", TOKEN)
    monkeypatch.setenv("PORT_PROJECT", PROJECT)


def _run(module: ModuleType, check: str, tmp_path: Path) -> None:
    func: Any = getattr(module, check)
    if check in ("check_rosbag_and_nested_status", "check_rosbag_jobs"):
        func(str(tmp_path))
    else:
        func()


@pytest.mark.parametrize("check", CHECKS)
def test_with_the_official_sdk(port_env: None, check: str, tmp_path: Path,
                               sandbox: Sandbox) -> None:
    pytest.importorskip("rapyuta_io")
    _run(_load(SOURCE.read_text(), tmp_path, f"port_sdk_{check}"), check, tmp_path)
    assert sandbox.app.live_resources()["deployments"] == []


@pytest.mark.parametrize("check", CHECKS)
def test_ported_by_renaming_the_package(port_env: None, check: str, tmp_path: Path,
                                        sandbox: Sandbox, request: pytest.FixtureRequest) -> None:
    text = SOURCE.read_text().replace("rapyuta_io", "pytest_robofixtures.rapyuta")
    assert "rapyuta_io" not in text
    if check in NEEDS_NESTED:
        request.applymarker(pytest.mark.xfail(
            reason="needs SDK-shaped nested objects and the clients.package/utils.error mirrors "
                   "(issue 12, rio-core branch)", strict=False))
    before = set(sys.modules)
    try:
        _run(_load(text, tmp_path, f"port_ours_{check}"), check, tmp_path)
    finally:
        for name in set(sys.modules) - before:
            if name.startswith("port_ours_"):
                del sys.modules[name]
    assert sandbox.app.live_resources()["deployments"] == []
