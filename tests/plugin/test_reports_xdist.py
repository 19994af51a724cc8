"""Reports (sections, JUnit, frames, HTML, summary) and parallel runs with pytest-xdist."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import yaml

from .conftest import REPLAY, SIM, recordings

WORKSPACE = """
import pytest

@pytest.mark.rerobots_instance(workspace_types=["null"], addons=["cam"])
@pytest.mark.roc_object("vnir")
def test_workspace(rerobots_instance, roc_object):
    rerobots_instance.ssh.exec("echo hello-from-robot").check()
    rerobots_instance.camera.snapshot()
    roc_object.openShutter()
    roc_object.wait_for_status("instruments.vnir.shutter", lambda v: v == "open")
    assert False, "show me the report"
"""


def test_failure_report_has_timeline_ssh_roc_and_frames(project: pytest.Pytester) -> None:
    project.makepyfile(test_ws=WORKSPACE)
    result = project.runpytest(*SIM, "--junitxml=junit.xml", "--html=report.html",
                               "--self-contained-html")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*robo: resource timeline*",
        "*rerobots * READY*",
        "*robo: ROC log*",
        "*vnir: shutter opened*",
        "*robo: ROC status*",
        "*robo: ssh transcript*",
        "*$ echo hello-from-robot*[exit 0]*",
        "*out| hello-from-robot*",
        "*robo: camera frames*",
    ])
    frames = sorted((project.path / "robo-artifacts").rglob("frame-*.jpg"))
    assert len(frames) == 1 and frames[0].read_bytes()[:2] == b"\xff\xd8"

    tree = ET.parse(project.path / "junit.xml")
    props = {p.get("name"): p.get("value") for p in tree.iter("property")}
    assert props["robo.frame"].endswith("frame-001.jpg")
    assert "rerobots" in props["robo.resources"]
    assert props["robo.recording"].endswith("recording.yaml")

    html = (project.path / "report.html").read_text()
    assert "data:image/jpeg;base64" in html or "frame-001" in html


def test_terminal_summary_counts(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_two="""
        import pytest

        @pytest.mark.routed_network(ros_distro="noetic")
        def test_a(routed_network):
            pass

        @pytest.mark.routed_network(ros_distro="melodic", limits="small")
        def test_b(routed_network):
            pass
        """
    )
    result = project.runpytest(*SIM)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*- robofixtures -*",
                                 "*mode sim: provisioned 2, torn down 2, leaked 0, waited*"])


PARALLEL = """
import pytest

@pytest.mark.parametrize("n", range(4))
@pytest.mark.rerobots_instance(workspace_types=["null"])
def test_each_worker_rents_its_own(rerobots_instance, n):
    out = rerobots_instance.ssh.exec("echo $PWD").check().stdout_text
    assert out.strip()
"""


def test_xdist_sim_then_replay_with_any_worker_count(project: pytest.Pytester) -> None:
    project.makepyfile(test_par=PARALLEL)
    result = project.runpytest_subprocess("-n", "2", *SIM)
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*provisioned 4, torn down 4, leaked 0*"])
    files = recordings(project.path)
    assert len(files) == 4
    names = set()
    for path in files:
        meta = yaml.safe_load(path.read_text())["metadata"]
        names.add(meta["nodeid"])
    assert len(names) == 4
    for workers in ("3", "0"):
        replay = project.runpytest_subprocess("-n", workers, *REPLAY)
        replay.assert_outcomes(passed=4)


def test_rental_cap_is_shared_across_workers(project: pytest.Pytester) -> None:
    project.makepyfile(test_par=PARALLEL)
    result = project.runpytest_subprocess("-n", "2", "--robo-max-rentals=1", *SIM)
    result.assert_outcomes(passed=4)


SHARED = """
import pytest

@pytest.mark.parametrize("n", range(3))
@pytest.mark.rerobots_instance(workspace_types=["null"], shared=True)
def test_uses_the_shared_workspace(rerobots_instance, n):
    rerobots_instance.ssh.exec(f"echo {n} >> visits.txt").check()
    lines = rerobots_instance.ssh.exec("cat visits.txt").check().stdout_text.split()
    print("VISITS", n, ",".join(lines))
"""


def test_shared_workspace_is_rented_once_and_replays(project: pytest.Pytester) -> None:
    project.makepyfile(test_shared=SHARED)
    live = project.runpytest("-s", *SIM)
    live.assert_outcomes(passed=3)
    # One rental for three tests; the file written by the first test is seen by the last.
    live.stdout.fnmatch_lines(["*VISITS 2 0,1,2*",
                               "*mode sim: provisioned 1, torn down 1, leaked 0*"])
    scope = list((project.path / "cassettes" / "@session").glob("@rerobots_instance-*-main"))
    assert len(scope) == 1 and (scope[0] / "recording.yaml").is_file()
    assert len(recordings(project.path)) == 4  # the scope's plus one per test

    replay = project.runpytest("-s", *REPLAY)
    replay.assert_outcomes(passed=3)
    replay.stdout.fnmatch_lines(["*VISITS 2 0,1,2*"])
    # Each test's ssh traffic replays from its own recording, in any order.
    single = project.runpytest("-s", "-k", "test_uses_the_shared_workspace[2]", *REPLAY)
    single.assert_outcomes(passed=1)


def test_long_waits_show_progress_in_the_terminal(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_wait="""
        import pytest

        @pytest.mark.routed_network(ros_distro="melodic")
        def test_net(routed_network):
            pass
        """
    )
    result = project.runpytest("--robo-sim", "--robo-sim-delay=0.6", "--robo-progress-after=0.1",
                               "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["robo: routed_network robo-*: state Succeeded/Running (*s)"])


SHARED_CAMERA = """
import pytest

@pytest.mark.parametrize("n", range(4))
@pytest.mark.rerobots_instance(workspace_types=["null"], addons=["cam"], shared=True)
def test_shared_camera(rerobots_instance, n):
    assert rerobots_instance.camera.snapshot().array.ndim == 3
    rerobots_instance.ssh.exec(f"echo {n}").check()
"""


def test_shared_workspace_recorded_in_parallel_replays_with_any_worker_count(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_shared_cam=SHARED_CAMERA)
    result = project.runpytest_subprocess("-n", "2", *SIM)
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*leaked 0*"])
    for workers in ("2", "0"):
        project.runpytest_subprocess("-n", workers, *REPLAY).assert_outcomes(passed=4)


def test_report_sections_are_scrubbed_like_recordings(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_leak="""
        import logging
        import pytest
        from pytest_robofixtures.roc import RocLogger

        @pytest.mark.rerobots_instance(workspace_types=["null"])
        @pytest.mark.roc_object("vnir")
        def test_leaky(rerobots_instance, roc_object, roc_broker):
            rerobots_instance.ssh.exec("echo token=sim-rerobots-token").check()
            handler = RocLogger("leaky", roc_broker)
            assert handler.wait_for_subscriber(timeout=5)
            log = logging.getLogger("leaky.robot")
            log.addHandler(handler)
            log.warning("calling home with Authorization: Bearer sim-token")
            roc_object.wait_for_log("calling home")
            handler.close()
            assert False, "fail to get the report"
        """
    )
    result = project.runpytest(*SIM)
    result.assert_outcomes(failed=1)
    report = result.stdout.str().split("robo: ROC log", 1)[1]
    assert "calling home" in report and "token=" in report
    assert "sim-token" not in report and "sim-rerobots-token" not in report
