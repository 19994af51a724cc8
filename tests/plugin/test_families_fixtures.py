"""native_network, volume and rosbag_job: fixtures, markers and factory methods, sim then replay."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_robofixtures.journal import pending

from .conftest import (
    REPLAY,
    SIM,
    live_args,
    live_env,
    live_resources,
    nothing_live,
    recordings,
)

FAMILIES = """
import pytest
from pytest_robofixtures.rapyuta import ConflictError


@pytest.mark.native_network(ros_distro="noetic", limits={"cpu": 0.5, "memory": 512})
@pytest.mark.deployed_package("manifests/talker.json")
def test_native_network(native_network, deployed_package, robo):
    assert str(native_network.internal_deployment_status.phase) == "Succeeded"
    bound = deployed_package["provisionContext"]["nativeNetworks"]
    assert [n["guid"] for n in bound] == [native_network.guid]
    # bound: the platform refuses to delete it while the deployment runs
    with pytest.raises(ConflictError):
        robo.rapyuta.delete_native_network(native_network.guid)
    print("NATIVE", native_network.name, deployed_package.deploymentId)


@pytest.mark.volume(capacity=8)
@pytest.mark.deployed_package("manifests/talker.json", volumes={"talker": "/data"})
def test_volume(volume, deployed_package, robo):
    assert volume.get_status().phase == "Succeeded"
    [mount] = deployed_package["dependentDeployments"]
    assert mount["dependentDeploymentId"] == volume.deploymentId
    assert mount["config"] == {"mountPath": "/data"}
    with pytest.raises(ConflictError):
        volume.destroy_volume_instance()
    print("VOLUME", volume.get("name"), deployed_package.deploymentId)


@pytest.mark.deployed_package("manifests/talker.json")
@pytest.mark.rosbag_job(topics=["/chatter"])
def test_rosbag_job(rosbag_job, deployed_package, robo, tmp_path):
    assert str(rosbag_job.status) == "Running"
    assert rosbag_job.deployment_id == deployed_package.deploymentId
    [blob] = rosbag_job.blobs()
    assert str(blob.status) == "Uploaded" and blob.filename.endswith(".bag")
    [path] = rosbag_job.download(tmp_path)
    data = path.read_bytes()
    assert data.startswith(b"#ROSBAG V2.0") and b"/chatter" in data
    print("BAG", blob.filename, len(data))


def test_factory(robo, tmp_path):
    net = robo.native_network(ros_distro="melodic")
    vol = robo.volume()
    dep = robo.deploy("manifests/talker.json", native_networks=[net],
                      volumes={"talker": (vol, "/var/data")})
    assert dep["provisionContext"]["nativeNetworks"][0]["guid"] == net.guid
    assert dep["dependentDeployments"][0]["config"] == {"mountPath": "/var/data"}
    job = robo.rosbag_job(dep, all_topics=True)
    paths = job.download()
    assert paths and all(p.is_file() for p in paths)
    print("FACTORY", [p.name for p in paths])
"""


def _lines(result: pytest.RunResult, prefix: str) -> list[str]:
    """The printed lines starting with ``prefix`` (after pytest's progress dots and names)."""
    return [line[line.index(prefix):] for line in result.outlines if f"{prefix} " in line]


def test_families_fixtures_sim_then_replay(project: pytest.Pytester) -> None:
    project.makepyfile(test_families=FAMILIES)
    live = project.runpytest("-s", *SIM)
    live.assert_outcomes(passed=4)
    # 4 tests: net+dep+pkg, vol+dep+pkg, dep+pkg+job, net+vol+dep+pkg+job
    live.stdout.fnmatch_lines(["*provisioned 14, torn down 14, leaked 0*"])
    assert pending(project.path / ".robofixtures") == []
    assert len(recordings(project.path)) == 4

    replay = project.runpytest("-s", *REPLAY)
    replay.assert_outcomes(passed=4)
    replay.stdout.fnmatch_lines(["*mode replay: provisioned 14, torn down 14, leaked 0*"])
    for prefix in ("NATIVE", "VOLUME", "BAG", "FACTORY"):
        assert _lines(replay, prefix) == _lines(live, prefix) != [], prefix


def test_teardown_leaves_nothing_on_the_platform(project: pytest.Pytester,
                                                 live_sandbox: dict[str, Any]) -> None:
    """Not only our count: the (standalone) platform holds no network, volume, job or bag."""
    project.makepyfile(test_families=FAMILIES)
    result = project.runpytest("-s", *live_args(live_sandbox))
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*provisioned 14, torn down 14, leaked 0*"])
    assert nothing_live(live_sandbox), live_resources(live_sandbox)


def test_factory_bags_default_to_the_test_artifacts(project: pytest.Pytester) -> None:
    project.makepyfile(test_bag="""
        def test_bag(robo):
            dep = robo.deploy("manifests/talker.json")
            [path] = robo.rosbag_job(dep, name="calib").download()
            print("BAGPATH", path)
    """)
    result = project.runpytest("-s", *SIM)
    result.assert_outcomes(passed=1)
    [line] = _lines(result, "BAGPATH")
    assert "test_bag.py__test_bag" in line and "/rosbags/" in line and line.endswith(".bag")


@pytest.mark.parametrize(("marker", "message"), [
    ('native_network(runtime="edge")', "*native_network: runtime got 'edge'; allowed: cloud*"),
    ("native_network(colour=1)", "*native_network got unknown argument(s) colour; allowed:*"),
    ("volume(capacity=5)", "*volume: capacity got 5; allowed: 4, 8, 16*"),
    ('rosbag_job(topics="/chatter")', "*rosbag_job: topics must be list or tuple*"),
    ('rosbag_job(compression="zip")', "*rosbag_job: compression got 'zip'; allowed: LZ4, BZ2*"),
    ('deployed_package("m.json", volumes=["/data"])', "*deployed_package: volumes must be dict*"),
])
def test_bad_marker_keywords_are_usage_errors(project: pytest.Pytester, marker: str,
                                              message: str) -> None:
    project.makepyfile(test_bad=f"""
        import pytest

        @pytest.mark.{marker}
        def test_x(robo):
            pass
    """)
    result = project.runpytest("--robo-sim", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_markers_are_documented(project: pytest.Pytester) -> None:
    result = project.runpytest("--markers", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([
        "*native_network(name, ros_distro, runtime, limits, device, network_interface, "
        "restart_policy, timeout, scope):*",
        "*volume(name, capacity, disk_type, timeout):*",
        "*rosbag_job(name, component, topics, *",
    ])


IN_FLIGHT = {
    "rapyuta.native_network": ("POST", "^/nativenetwork$", """
import pytest

@pytest.mark.native_network(ros_distro="melodic")
def test_x(native_network):
    pass
"""),
    "rapyuta.volume_instance": ("POST", "^/disk$", """
import pytest

@pytest.mark.volume(capacity=4)
def test_x(volume):
    pass
"""),
    "rapyuta.rosbag_job": ("POST", "^/rosbag-jobs/", """
import pytest

@pytest.mark.deployed_package("manifests/talker.json")
@pytest.mark.rosbag_job(all_topics=True)
def test_x(rosbag_job):
    pass
"""),
}


@pytest.mark.parametrize("kind", list(IN_FLIGHT))
def test_sigkill_during_a_create_then_reap_finds_it_by_name(
    project: pytest.Pytester, live_sandbox: dict[str, Any], kind: str
) -> None:
    """The reply never came: ``robofixtures reap`` finds the resource by name and deletes it."""
    method, path, source = IN_FLIGHT[kind]
    response = requests.post(f"{live_sandbox['rapyuta']['catalog_host']}/_admin/faults",
                             json={"kind": "delay", "seconds": 1.5, "method": method,
                                   "path": path, "count": 1}, timeout=5)
    assert response.status_code == 201, response.text
    project.makepyfile(test_kill=source)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *live_args(live_sandbox), "-q"], cwd=project.path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    journal = project.path / ".robofixtures" / "journal"
    try:
        deadline = time.monotonic() + 60
        while not (journal.is_dir() and any(f'"kind": "{kind}"' in p.read_text()
                                            for p in journal.glob("*.jsonl"))):
            assert time.monotonic() < deadline, f"no intent line of the {kind}"
            time.sleep(0.05)
        time.sleep(0.5)  # the create is now in flight on the server
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert any(e.kind == kind and not e.id for e in pending(project.path / ".robofixtures"))
    time.sleep(1.5)  # the delayed create completes: an orphan only its name identifies
    exe = Path(sys.executable).with_name("robofixtures")
    reaped = subprocess.run([str(exe), "reap"], cwd=project.path, capture_output=True,
                            text=True, timeout=120, env={**os.environ, **live_env(live_sandbox)})
    assert reaped.returncode == 0, reaped.stdout + reaped.stderr
    assert nothing_live(live_sandbox), live_resources(live_sandbox)
    assert pending(project.path / ".robofixtures") == []


FAULTS = """
import pytest
from pytest_robofixtures.plugin import SESSION_KEY
from pytest_robofixtures.rapyuta import ROSBagBlobError


@pytest.fixture
def families(request):
    return request.config.stash[SESSION_KEY].sandbox.rapyuta.app.families


def test_failed_native_network(families, robo):
    families.fail_next_native_network("failed")
    robo.native_network()


@pytest.mark.deployed_package("manifests/talker.json")
def test_failed_upload(families, rosbag_job):
    families.fail_next_rosbag_upload()
    with pytest.raises(ROSBagBlobError):
        rosbag_job.blobs()


@pytest.mark.deployed_package("manifests/talker.json")
def test_bags_wait_is_bounded(rosbag_job):
    # a cloud job uploads when stopped: still running, it has no bag to show
    with pytest.raises(TimeoutError, match="not all uploaded after .*job Running, bags: none"):
        rosbag_job.blobs(stop=False, timeout=0.3)
"""


def test_a_failing_network_errors_and_a_failed_upload_raises_without_leaks(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_faults=FAULTS)
    result = project.runpytest(*SIM)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*native_network robo-*state Failed to start/Error*",
                                 "*leaked 0*"])
    assert pending(project.path / ".robofixtures") == []


def test_device_native_network_and_worker_sharing(project: pytest.Pytester) -> None:
    project.makepyfile(test_more="""
        import pytest

        @pytest.mark.online_device(arch="amd64")
        @pytest.mark.native_network(runtime="device", network_interface="eth0")
        def test_device(native_network, online_device):
            assert native_network.parameters.device_id == online_device.uuid
            assert str(native_network.runtime) == "device"

        @pytest.mark.native_network(scope="worker")
        def test_shared_a(native_network):
            pytest.shared_guid = native_network.guid

        @pytest.mark.native_network(scope="worker")
        def test_shared_b(native_network):
            assert native_network.guid == pytest.shared_guid
    """)
    result = project.runpytest(*SIM)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*provisioned 2, torn down 2, leaked 0*"])
