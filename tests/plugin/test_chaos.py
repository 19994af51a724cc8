"""Chaos: the example suite live against a standalone sandbox answering 5% of all requests with
503, 429, 500, a dropped connection or a lost reply, for three seeds.

The run passes (infrastructure errors in a test body are rerun with pytest-rerunfailures, as a
CI job against a flaky cloud would), and after it plus one ``robofixtures reap`` the sandbox's
admin views list nothing: no orphan, no duplicate.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import REPO, live_env, live_resources, nothing_live

FAULTS = [{"kind": "status", "status": 503, "rate": 0.01},
          {"kind": "status", "status": 429, "rate": 0.01},
          {"kind": "status", "status": 500, "rate": 0.01},
          {"kind": "drop", "rate": 0.01},
          {"kind": "lost_reply", "rate": 0.01}]


def _sandbox(tmp: Path, seed: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    faults = tmp / "faults.json"
    faults.write_text(json.dumps(FAULTS))
    exe = Path(sys.executable).with_name("robofixtures")
    proc = subprocess.Popen([str(exe), "sim", "--delay", "0.05", "--seed", str(seed),
                             "--faults", str(faults)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line:
        proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"robofixtures sim did not start: {err}")
    return proc, json.loads(line)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_example_suite_passes_through_random_faults_and_leaves_nothing(
    tmp_path: Path, seed: int
) -> None:
    proc, info = _sandbox(tmp_path, seed)
    try:
        env = {**os.environ, **live_env(info)}
        args = [
            sys.executable, "-m", "pytest", "examples", "-q", "-p", "no:cacheprovider",
            "--robo-live", "--robo-record-mode=none",
            f"--robo-rapyuta-catalog-url={info['rapyuta']['catalog_host']}",
            f"--robo-rapyuta-core-url={info['rapyuta']['core_api_host']}",
            f"--robo-rerobots-url={info['rerobots']['base_uri']}",
            f"--robo-roc-broker={info['roc']['address']}:{info['roc']['base_port']}",
            f"--robo-journal-dir={tmp_path / 'journal'}",
            f"--robo-artifacts-dir={tmp_path / 'artifacts'}",
            "--reruns", "2", "--only-rerun", "InfraError",
        ]
        run = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600,
                             env=env)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        exe = Path(sys.executable).with_name("robofixtures")
        reaped = subprocess.run([str(exe), "reap", "--journal-dir", str(tmp_path / "journal")],
                                capture_output=True, text=True, timeout=300, env=env)
        assert reaped.returncode == 0, reaped.stdout + reaped.stderr
        # The sandbox answers the admin view without faults.
        assert nothing_live(info), live_resources(info)
        faulted = 0
        for base in (info["rapyuta"]["catalog_host"], info["rerobots"]["base_uri"]):
            seen = requests.get(f"{base}/_admin/requests", timeout=5).json()["requests"]
            faulted += sum(1 for r in seen if r.get("fault"))
        assert faulted > 0, "the faults must have fired"
        print(f"seed {seed}: {faulted} faulted requests; {run.stdout.splitlines()[-1]}")
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    assert not (REPO / "cassettes" / "examples").joinpath("recording.failed.yaml").exists()
