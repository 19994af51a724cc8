"""Reports people look at: infra-vs-test verdicts, reruns of infra errors only, pictures,
measurements, the pytest-html run summary, MCAP export and xdist progress lines."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import REPO, SIM

STUCK_AND_BROKEN = """
import pytest

@pytest.mark.routed_network(ros_distro="melodic")
@pytest.mark.deployed_package("manifests/talker.json", timeout=0.5)
def test_stuck(routed_network, deployed_package):
    pass

@pytest.mark.routed_network(ros_distro="melodic")
def test_broken(routed_network):
    assert routed_network.name == "not its name", "our robot code is broken"
"""

STUCK_CONFTEST = """
import pytest
from pytest_robofixtures.plugin import SESSION_KEY

STUCK_ONCE = []

@pytest.fixture(autouse=True)
def stuck_deployment(request):
    # Only the first attempt: a rerun gets a working service again.
    if request.node.name == "test_stuck" and not STUCK_ONCE:
        STUCK_ONCE.append(1)
        request.config.stash[SESSION_KEY].sandbox.rapyuta.app.fail_next_deployment("stuck")
"""


def _props(junit: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for case in ET.parse(junit).iter("testcase"):
        out[case.get("name", "")] = {p.get("name", ""): p.get("value", "")
                                     for p in case.iter("property")}
    return out


def test_infra_errors_are_told_apart_from_failures_with_a_picture(
    project: pytest.Pytester,
) -> None:
    project.makeconftest(STUCK_CONFTEST)
    project.makepyfile(test_triage=STUCK_AND_BROKEN)
    result = project.runpytest(*SIM, "--junitxml=junit.xml", "--html=report.html",
                               "--self-contained-html")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(["*infra errors (not your code): 1*",
                                 "*INFRA test_triage.py::test_stuck*"])
    result.stdout.fnmatch_lines(["*InfraError (provisioning timeout)*"])
    props = _props(project.path / "junit.xml")
    assert props["test_stuck"]["robo.verdict"] == "infra"
    assert props["test_broken"]["robo.verdict"] == "failed"
    assert props["test_stuck"]["robo.mode"] == "sim"
    assert not Path(props["test_broken"]["robo.recording"]).is_absolute()
    picture = project.path / props["test_stuck"]["robo.picture"]
    root = ET.fromstring(picture.read_bytes())  # valid SVG
    assert root.tag.endswith("svg")
    svg = picture.read_text()
    assert "provisioning" in svg and "failed" in svg  # where it stalled
    html = (project.path / "report.html").read_text()
    assert "data:image/svg+xml" in html
    assert "robofixtures run summary" in html.lower() or "mode" in html
    assert "sim" in html and "provisioned" in html


def test_only_infra_errors_are_rerun(project: pytest.Pytester) -> None:
    project.makeconftest(STUCK_CONFTEST)
    project.makepyfile(test_triage=STUCK_AND_BROKEN)
    result = project.runpytest(*SIM, "--reruns", "1", "--only-rerun", "InfraError")
    outcomes = result.parseoutcomes()
    assert outcomes.get("rerun") == 1, result.stdout.str()
    # The rerun gets fresh resources: the stuck fault hit only the first deployment.
    assert outcomes.get("failed") == 1 and outcomes.get("passed") == 1


def test_measurements_in_and_out_of_limits(project: pytest.Pytester) -> None:
    project.makepyfile(test_measure="""
        def test_in_limits(robo):
            robo.measure("battery_v", 12.1, unit="V", low=11.5, high=13.0)

        def test_out_of_limits(robo):
            robo.measure("battery_v", 10.9, unit="V", low=11.5, high=13.0)
    """)
    result = project.runpytest(*SIM, "--junitxml=junit.xml", "--robo-pictures=all")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*battery_v = 10.9 V is below the low limit 11.5 V*"])
    assert "INFRA" not in result.stdout.str()
    props = _props(project.path / "junit.xml")
    assert props["test_in_limits"]["robo.measure.battery_v"].endswith("pass")
    rows = json.loads((project.path / "robo-artifacts" / "measurements.json").read_text())
    assert sorted((r["nodeid"].split("::")[1], r["passed"]) for r in rows) == [
        ("test_in_limits", True), ("test_out_of_limits", False)]
    assert (project.path / "robo-artifacts" / "measurements.csv").is_file()


def test_recordings_export_as_mcap_for_foxglove(tmp_path: Path) -> None:
    from mcap.reader import make_reader

    exe = Path(sys.executable).with_name("robofixtures")
    cases = {
        "examples/test_roc_object.py::test_shutter_opens_and_status_follows": "/roc/status/",
        "examples/test_workspace.py::test_robot_workspace_over_ssh_and_camera": "/camera/",
    }
    for test_id, wanted in cases.items():
        out = tmp_path / "test.mcap"
        done = subprocess.run([str(exe), "export", test_id, "--mcap", str(out)], cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        with open(out, "rb") as fh:
            reader = make_reader(fh)
            topics = {c.topic for c in reader.get_summary().channels.values()}
            messages = list(reader.iter_messages())
        assert any(wanted in t for t in topics), topics
        assert messages


def test_progress_of_xdist_workers_shows_in_the_main_terminal(project: pytest.Pytester) -> None:
    project.makepyfile(test_wait="""
        import pytest

        @pytest.mark.routed_network(ros_distro="melodic")
        def test_a(routed_network):
            pass
    """)
    result = project.runpytest_subprocess(*SIM, "-n", "1", "--robo-progress-after=0")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*[[]gw0[]] robo: routed_network robo-*"])


def test_a_service_failing_in_the_test_body_is_infra_an_assertion_is_not(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_body="""
        import requests

        def test_service_fails(robo):
            sandbox = robo.ctx.mode.sandbox
            requests.post(sandbox.rapyuta.url + "/_admin/faults", json={
                "kind": "status", "status": 500, "method": "GET", "path": "^/routednetwork$"},
                timeout=5)
            robo.rapyuta.get_all_routed_networks()

        def test_assertion(robo):
            assert robo.rapyuta.get_all_devices() == [], "robot code broken"
    """)
    result = project.runpytest(*SIM, "--junitxml=junit.xml")
    result.assert_outcomes(failed=1, errors=1)  # infra is reported as an error, not a failure
    result.stdout.fnmatch_lines(["*InfraError (service error)*"])
    props = _props(project.path / "junit.xml")
    assert props["test_service_fails"]["robo.verdict"] == "infra"
    assert props["test_assertion"]["robo.verdict"] == "failed"
