"""Replay cost per fixture: each fixture's test recorded live against the sandbox, then replayed.

Run: ``python benchmarks/bench_fixtures.py``. Everything runs in this process through
``pytest.main``; the baseline is the same test run live (``--robo-sim``) in the same process, and
an empty test's replay gives the fixed per-test cost. Prints milliseconds and ratios.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SCENARIOS = {
    "(no fixture)": "def test_it():\n    pass\n",
    "online_device": """
        import pytest
        @pytest.mark.online_device(arch="amd64")
        def test_it(online_device):
            assert online_device.uuid
    """,
    "routed_network": """
        import pytest
        @pytest.mark.routed_network(ros_distro="melodic")
        def test_it(routed_network):
            assert routed_network.guid
    """,
    "deployed_package": """
        import pytest
        @pytest.mark.deployed_package("manifests/talker.json")
        def test_it(deployed_package):
            assert deployed_package.status == "Running"
    """,
    "rerobots_instance": """
        import pytest
        @pytest.mark.rerobots_instance(workspace_types=["null"], addons=["cam"])
        def test_it(rerobots_instance):
            rerobots_instance.ssh.exec("uname -a").check()
            rerobots_instance.camera.snapshot()
    """,
    "roc_object": """
        import pytest
        @pytest.mark.roc_object("vnir")
        def test_it(roc_object):
            roc_object.openShutter()
            roc_object.wait_for_status("instruments.vnir.shutter", lambda v: v == "open")
    """,
    "all six together": """
        import pytest
        from pytest_robofixtures.rapyuta import Command
        @pytest.mark.routed_network(ros_distro="melodic")
        @pytest.mark.online_device(arch="amd64")
        @pytest.mark.deployed_package("manifests/talker.json")
        @pytest.mark.rerobots_instance(workspace_types=["fixed_misty2"], addons=["cam"])
        @pytest.mark.roc_object("vnir")
        def test_it(routed_network, online_device, deployed_package, rerobots_instance,
                    roc_object):
            assert "42" in online_device.execute_command(Command("echo $((6*7))"))
            rerobots_instance.ssh.exec("uname -a").check()
            rerobots_instance.camera.snapshot()
            roc_object.openShutter()
            roc_object.wait_for_status("instruments.vnir.shutter", lambda v: v == "open")
    """,
}


class Timer:
    """Sums setup + call + teardown of every test of one run."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.failed = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds += report.duration
        self.failed += int(report.failed)


def run(project: Path, *args: str) -> float:
    timer = Timer()
    code = pytest.main(
        [str(project), "-q", "-p", "no:cacheprovider", "--rootdir", str(project), "-o",
         "addopts=", "--import-mode=importlib", "--robo-sim-delay=0.2", *args],
        plugins=[timer],
    )
    if code != 0 or timer.failed:
        raise SystemExit(f"benchmark run failed in {project} ({args})")
    return timer.seconds


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, body in SCENARIOS.items():
            project = Path(tmp) / name.strip("()").replace(" ", "_")
            project.mkdir()
            shutil.copytree(REPO / "examples" / "manifests", project / "manifests")
            (project / f"test_{project.name}.py").write_text(textwrap.dedent(body))
            live = run(project, "--robo-sim")
            replays = [run(project) for _ in range(5)]
            rows.append((name, live, statistics.median(replays)))
    empty = rows[0][2]
    print(f"\n{'fixture':<20}{'live (sim) ms':>15}{'replay ms':>12}{'overhead ms':>13}"
          f"{'replay/live':>13}")
    for name, live, replay in rows:
        print(f"{name:<20}{live * 1000:>15.1f}{replay * 1000:>12.1f}"
              f"{(replay - empty) * 1000:>13.1f}{replay / live:>13.3f}")
    print("\nlive = the test against the embedded sandbox (provisioning delay 0.2 s; the first "
          "test of a run\nalso starts the sandbox); replay = median of 5 offline replays; "
          "overhead = replay minus\nthe replay of a test with no fixture.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
