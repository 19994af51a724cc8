"""The shipped example suite replays offline from the committed recordings, secret-free."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_robofixtures.recording import scan_for_secrets
from pytest_robofixtures.sim import RAPYUTA_PROJECT, RAPYUTA_TOKEN, REROBOTS_TOKEN

from .conftest import REPLAY, REPO


@pytest.fixture
def example_project(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copytree(REPO / "examples", pytester.path / "examples")
    shutil.copytree(REPO / "cassettes" / "examples", pytester.path / "cassettes" / "examples")
    return pytester


def test_examples_replay_offline_from_committed_recordings(
    example_project: pytest.Pytester,
) -> None:
    result = example_project.runpytest_subprocess("examples", "-n", "2", *REPLAY)
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*leaked 0*"])
    assert not (example_project.path / ".robofixtures").exists(), "replay journals nothing"


def test_committed_recordings_hold_no_secret() -> None:
    found = scan_for_secrets([REPO / "cassettes"], [RAPYUTA_TOKEN, RAPYUTA_PROJECT, REROBOTS_TOKEN])
    assert found == [], [str(f) for f in found]


def test_cassettes_check_command(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("robofixtures")
    shutil.copytree(REPO / "cassettes", tmp_path / "cassettes")
    ok = subprocess.run([str(exe), "cassettes", str(tmp_path / "cassettes")],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 problem(s)" in ok.stdout

    victim = next((tmp_path / "cassettes").rglob("recording.yaml"))
    victim.write_text(victim.read_text()[:200])
    leak = tmp_path / "cassettes" / "leak.txt"
    leak.write_text("Authorization: Bearer hunter2-live-token\n")
    bad = subprocess.run([str(exe), "cassettes", str(tmp_path / "cassettes"),
                          "--token", "hunter2-live-token"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert str(victim) in bad.stdout and "leak.txt" in bad.stdout
