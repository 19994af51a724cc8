"""``robofixtures sim`` as a real process: --seed, --faults, --delay, --no-roc; stopped by PID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_robofixtures.sim import RAPYUTA_PROJECT, RAPYUTA_TOKEN

# The sandbox command itself (``robofixtures sim`` dispatches to this module's ``main``).
SIM = [sys.executable, "-m", "pytest_robofixtures.sim.cli"]

Start = Callable[..., tuple[subprocess.Popen[str], dict[str, Any]]]


@pytest.fixture
def start_sim(tmp_path: Path) -> Iterator[Start]:
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
        proc = subprocess.Popen([*SIM, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=tmp_path)
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"sim did not start: {proc.stderr.read() if proc.stderr else ''}"
        return proc, json.loads(line)

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def test_seed_and_faults_per_service(start_sim: Start, tmp_path: Path) -> None:
    rules = [
        {"service": "rapyuta", "kind": "status", "status": 418, "path": "^/routednetwork$",
         "count": 1},
        {"service": "*", "kind": "status", "status": 503, "path": "^/never-used$"},
        {"kind": "delay", "seconds": 0.0, "path": "^/also-never$"},
    ]
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps(rules))
    proc, info = start_sim("--seed", "42", "--faults", str(faults), "--delay", "0.05",
                           "--no-roc")
    assert info["seed"] == 42 and "roc" not in info
    rapyuta, rerobots = info["rapyuta"]["core_api_host"], info["rerobots"]["base_uri"]
    listed_r = requests.get(f"{rapyuta}/_admin/faults", timeout=10).json()
    listed_b = requests.get(f"{rerobots}/_admin/faults", timeout=10).json()
    assert [r["status"] for r in listed_r] == [418, 503, 503]
    assert [r["path"] for r in listed_b] == ["^/never-used$", "^/also-never$"]
    headers = {"Authorization": f"Bearer {RAPYUTA_TOKEN}", "project": RAPYUTA_PROJECT}
    assert requests.get(f"{rapyuta}/routednetwork", headers=headers,
                        timeout=10).status_code == 418
    assert requests.get(f"{rapyuta}/routednetwork", headers=headers,
                        timeout=10).status_code == 200
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=15) == 0


def test_the_same_seed_gives_the_same_ids(start_sim: Start) -> None:
    guids = []
    for _ in range(2):
        proc, info = start_sim("--seed", "7", "--no-roc", "--delay", "0.05")
        headers = {"Authorization": f"Bearer {RAPYUTA_TOKEN}", "project": RAPYUTA_PROJECT}
        resp = requests.post(f"{info['rapyuta']['core_api_host']}/routednetwork", timeout=10,
                             headers=headers, json={"name": "n", "runtime": "cloud",
                                                    "rosDistro": "noetic", "parameters": {}})
        guids.append(resp.json()["guid"])
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        assert proc.stderr is not None and "live at shutdown" in proc.stderr.read()
    assert guids[0] == guids[1]


def test_without_no_roc_the_broker_is_described(start_sim: Start) -> None:
    proc, info = start_sim("--delay", "0.05")
    assert isinstance(info["seed"], int)
    assert info["roc"]["broker"].startswith("tcp://127.0.0.1:")


@pytest.mark.parametrize("content, message", [
    ("{", "is not JSON"),
    ('{"kind": "drop"}', "fault rules are a JSON list"),
    ('[{"kind": "status", "status": 700}]', "fault rule 0: bad fault rule: status must be"),
    ('[{"kind": "drop"}, {"kind": "drop", "service": "aws"}]', "fault rule 1: service must be"),
    (None, "cannot read"),
])
def test_a_bad_faults_file_is_refused_before_start(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "faults.json"
    if content is not None:
        path.write_text(content)
    done = subprocess.run([*SIM, "--no-roc", "--faults", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert message in done.stderr


@pytest.mark.parametrize("args", [["--seed", "x"], ["--seed", "-1"], ["--delay", "nan"],
                                  ["--delay", "-1"]])
def test_bad_options_are_usage_errors(args: list[str]) -> None:
    done = subprocess.run([*SIM, "--no-roc", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "usage:" in done.stderr and done.stdout == ""
