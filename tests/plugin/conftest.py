"""Fixtures for plugin tests: pytester projects with the example manifests, a standalone sandbox."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# In-process pytester runs drop modules first imported by the inner run, and C extensions
# (numpy, pyzmq, cryptography) cannot be imported twice: import everything here, once.
import numpy  # noqa: F401
import paramiko  # noqa: F401
import PIL.Image  # noqa: F401
import pytest
import requests
import vcr  # noqa: F401
import yaml  # noqa: F401
import zmq  # noqa: F401

import pytest_robofixtures.factory  # noqa: F401
import pytest_robofixtures.maintenance  # noqa: F401
import pytest_robofixtures.plugin  # noqa: F401
import pytest_robofixtures.rapyuta  # noqa: F401
import pytest_robofixtures.recording  # noqa: F401
import pytest_robofixtures.rerobots  # noqa: F401
import pytest_robofixtures.roc  # noqa: F401
import pytest_robofixtures.roc_support  # noqa: F401
import pytest_robofixtures.sim.rapyuta  # noqa: F401
import pytest_robofixtures.sim.rerobots  # noqa: F401
import pytest_robofixtures.sim.roc_objects  # noqa: F401
import pytest_robofixtures.sim.sandbox  # noqa: F401

REPO = Path(__file__).resolve().parents[2]

# Every inner run: short sandbox delays, no cache dir noise.
SIM = ["--robo-sim", "--robo-sim-delay=0.05", "-p", "no:cacheprovider"]
REPLAY = ["-p", "no:cacheprovider"]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester project holding the example manifests under manifests/."""
    shutil.copytree(REPO / "examples" / "manifests", pytester.path / "manifests")
    return pytester


def recordings(root: Path) -> list[Path]:
    return sorted((root / "cassettes").rglob("recording.yaml"))


@pytest.fixture
def standalone_sandbox(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """``robofixtures sim`` in its own process; yields its endpoints; stopped by PID."""
    exe = Path(sys.executable).with_name("robofixtures")
    proc = subprocess.Popen(
        [str(exe), "sim", "--delay", "0.05", "--no-roc"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            err = proc.stderr.read() if proc.stderr else ""
            raise RuntimeError(f"robofixtures sim did not start: {err}")
        info = json.loads(line)
        info["pid"] = proc.pid
        yield info
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
def live_sandbox(standalone_sandbox: dict[str, Any],
                 monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A standalone sandbox whose credentials are exported, as live mode reads them."""
    for key, value in live_env(standalone_sandbox).items():
        monkeypatch.setenv(key, value)
    return standalone_sandbox


def live_args(info: dict[str, Any]) -> list[str]:
    """Live mode pointed at a standalone sandbox (any compatible server works)."""
    return [
        "--robo-live", "-p", "no:cacheprovider",
        f"--robo-rapyuta-catalog-url={info['rapyuta']['catalog_host']}",
        f"--robo-rapyuta-core-url={info['rapyuta']['core_api_host']}",
        f"--robo-rerobots-url={info['rerobots']['base_uri']}",
    ]


def live_env(info: dict[str, Any]) -> dict[str, str]:
    return {
        "RIO_AUTH_TOKEN": info["rapyuta"]["auth_token"],
        "RIO_PROJECT": info["rapyuta"]["project"],
        "REROBOTS_API_TOKEN": info["rerobots"]["api_token"],
    }


def live_resources(info: dict[str, Any]) -> dict[str, Any]:
    return {
        "rapyuta": requests.get(info["rapyuta"]["admin"], timeout=5).json(),
        "rerobots": requests.get(info["rerobots"]["admin"], timeout=5).json(),
    }


def nothing_live(info: dict[str, Any]) -> bool:
    state = live_resources(info)
    return not any(items for service in state.values() for items in service.values())
