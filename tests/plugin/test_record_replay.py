"""Record against the sandbox, replay offline: identical results, clear errors, no secrets."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from pytest_robofixtures.recording import scan_for_secrets
from pytest_robofixtures.sim import RAPYUTA_PROJECT, RAPYUTA_TOKEN, REROBOTS_TOKEN

from .conftest import REPLAY, SIM, recordings

# One test touching every transport: HTTP (both clouds), SSH, camera frames, ROC.
EVERYTHING = """
import numpy as np
import pytest
from pytest_robofixtures.rapyuta import Command

@pytest.mark.routed_network(ros_distro="melodic")
@pytest.mark.online_device(arch="amd64")
@pytest.mark.deployed_package("manifests/talker.json")
@pytest.mark.rerobots_instance(workspace_types=["fixed_misty2"], addons=["cam"])
@pytest.mark.roc_object("vnir")
def test_everything(routed_network, online_device, deployed_package, rerobots_instance,
                    roc_object, robo):
    print("NETWORK", routed_network.name, deployed_package.deploymentId)
    out = online_device.execute_command(Command("echo robot-$((6*7))"))
    assert "robot-42" in out
    result = rerobots_instance.ssh.exec("uname -s; echo err >&2; exit 3")
    assert result.exit_status == 3 and "Linux" in result.stdout_text
    assert result.stderr_text.strip() == "err"
    frame = rerobots_instance.camera.snapshot()
    assert frame.array.dtype == np.uint8 and frame.array.ndim == 3
    print("FRAME", frame.array.shape, int(frame.array.sum()))
    roc_object.openShutter()
    assert roc_object.wait_for_status("instruments.vnir.shutter", lambda v: v == "open") == "open"
    print("FPS", roc_object.fps)
"""


def _lines(result: pytest.RunResult, prefix: str) -> list[str]:
    return [line for line in result.outlines if line.startswith(prefix)]


def test_everything_records_then_replays_identically_and_offline(project: pytest.Pytester) -> None:
    project.makepyfile(test_all=EVERYTHING)
    live = project.runpytest("-s", *SIM)
    live.assert_outcomes(passed=1)
    [bundle] = recordings(project.path)
    assert (bundle.parent / "blobs").is_dir(), "camera frames are stored as blob files"

    replay = project.runpytest("-s", *REPLAY)
    replay.assert_outcomes(passed=1)
    for prefix in ("NETWORK", "FRAME", "FPS"):
        assert _lines(replay, prefix) == _lines(live, prefix), prefix
    # The replay clock skipped the provisioning waits instead of sleeping through them.
    replay.stdout.fnmatch_lines(["*mode replay: provisioned 4, torn down 4, leaked 0*"])

    # No token, private key or VPN key in anything the two runs wrote.
    found = scan_for_secrets([project.path], [RAPYUTA_TOKEN, RAPYUTA_PROJECT, REROBOTS_TOKEN])
    assert found == [], [str(f) for f in found]


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_replay_needs_no_network_at_all(project: pytest.Pytester) -> None:
    project.makepyfile(test_all=EVERYTHING)
    project.runpytest(*SIM).assert_outcomes(passed=1)
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace here: {probe.stderr.decode().strip()}")
    # In a fresh network namespace even loopback is down: any socket use would fail.
    offline = subprocess.run(
        ["unshare", "--net", sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=project.path, capture_output=True, text=True, timeout=120,
    )
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "1 passed" in offline.stdout


def test_missing_recording_says_which_file_and_how_to_record(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.routed_network(ros_distro="melodic")
        def test_net(routed_network):
            pass
        """
    )
    result = project.runpytest(*REPLAY)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*cassettes/test_x/test_net/recording.yaml*",
        "*--robo-sim*",
    ])
    assert not (project.path / "cassettes").exists(), "replay must write nothing"


SSH_TEST = """
import pytest

@pytest.mark.rerobots_instance(workspace_types=["null"])
def test_ssh(rerobots_instance):
    assert rerobots_instance.ssh.exec("echo {word}").check().stdout_text.strip() == "{word}"
"""


def test_changed_command_fails_with_nearest_recorded_and_rerecord_command(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_ssh=SSH_TEST.format(word="one"))
    project.runpytest(*SIM).assert_outcomes(passed=1)
    project.makepyfile(test_ssh=SSH_TEST.format(word="two"))
    result = project.runpytest(*REPLAY)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*RecordingMismatch*",
        "*cassettes/test_ssh/test_ssh/recording.yaml*",
    ])
    out = result.stdout.str()
    assert "echo two" in out and "echo one" in out, "names the request and the nearest one"
    assert "pytest 'test_ssh.py::test_ssh' --robo-sim" in out


MANIFEST_TEST = """
import pytest

@pytest.mark.deployed_package("manifests/talker.json",
                              parameters={{"talker": {{"RATE_HZ": "{rate}"}}}})
def test_deploy(deployed_package):
    assert deployed_package.status == "Running"
"""


def test_changed_manifest_parameters_fail_the_replay(project: pytest.Pytester) -> None:
    project.makepyfile(test_dep=MANIFEST_TEST.format(rate="5"))
    project.runpytest(*SIM).assert_outcomes(passed=1)
    project.runpytest(*REPLAY).assert_outcomes(passed=1)
    project.makepyfile(test_dep=MANIFEST_TEST.format(rate="50"))
    result = project.runpytest(*REPLAY)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*RecordingMismatch*", "*PUT*v2/service_instances*"])


@pytest.mark.parametrize("damage", ["truncate", "garbage", "future"])
def test_corrupt_recording_gives_a_clear_error(project: pytest.Pytester, damage: str) -> None:
    project.makepyfile(test_ssh=SSH_TEST.format(word="one"))
    project.runpytest(*SIM).assert_outcomes(passed=1)
    [path] = recordings(project.path)
    text = path.read_text()
    if damage == "truncate":
        path.write_text(text[: len(text) // 2])
    elif damage == "garbage":
        path.write_text("format_version: [unclosed\n")
    else:
        path.write_text(re.sub(r"format_version: [0-9]+", "format_version: 99", text, count=1))
    result = project.runpytest(*REPLAY)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*RecordingCorrupt*", f"*{path.name}*"])


def test_a_robo_config_holding_unhashable_hooks_records_and_replays(
    project: pytest.Pytester,
) -> None:
    # Configs and their scrubbers are reused across tests by identity, never by hash.
    project.makeconftest("""
        import dataclasses, pytest

        @dataclasses.dataclass
        class DropNothing:  # eq=True and no frozen: instances cannot be hashed
            seen: int = 0
            def __call__(self, transport, entry):
                self.seen += 1
                return entry

        HOOK = DropNothing()

        @pytest.fixture
        def robo_config():
            return {"scrub_hooks": [HOOK]}
    """)
    project.makepyfile(test_hook="""
        import pytest

        @pytest.mark.parametrize("n", [1, 2])
        @pytest.mark.routed_network(ros_distro="melodic")
        def test_net(routed_network, n):
            assert routed_network.guid
    """)
    project.runpytest(*SIM).assert_outcomes(passed=2)
    assert len(recordings(project.path)) == 2
    project.runpytest(*REPLAY).assert_outcomes(passed=2)
