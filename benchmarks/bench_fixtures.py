"""Replay cost per fixture: each fixture's test recorded live against the sandbox, then replayed.

Run: ``python benchmarks/bench_fixtures.py [--quick]``. Everything runs in this process through
``pytest.main``. Each project holds the scenario twice: ``test_warm`` (run first, untimed: it
starts the sandbox and warms imports and connections) and ``test_it`` (timed: setup + call +
teardown). Live (``--robo-sim``, which also records) and replay runs are interleaved and repeated;
the table shows min and median, and an empty test's replay gives the fixed per-test cost.
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
    """Sums setup + call + teardown of ``test_it`` (the warm-up test is not timed)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.failed = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.failed += int(report.failed)
        if report.nodeid.endswith("::test_it"):
            self.seconds += report.duration


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


def scenario_file(body: str) -> str:
    """The scenario as ``test_warm`` then ``test_it`` (same body, run in that order)."""
    body = textwrap.dedent(body)
    return body.replace("def test_it(", "def test_warm(") + "\n\n" + body


def main() -> int:
    repeat = 3 if "--quick" in sys.argv[1:] else 5
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, body in SCENARIOS.items():
            project = Path(tmp) / name.strip("()").replace(" ", "_")
            project.mkdir()
            shutil.copytree(REPO / "examples" / "manifests", project / "manifests")
            (project / f"test_{project.name}.py").write_text(scenario_file(body))
            run(project, "--robo-sim")  # warm-up round (records the first recording)
            run(project)
            lives, replays = [], []
            for _ in range(repeat):
                lives.append(run(project, "--robo-sim"))
                replays.append(run(project))
            rows.append((name, lives, replays))
    empty = statistics.median(rows[0][2])
    print(f"\n{'fixture':<20}{'live min':>10}{'live med':>10}{'replay min':>12}"
          f"{'replay med':>12}{'overhead':>10}{'replay/live':>13}   (ms)")
    for name, lives, replays in rows:
        live, replay = statistics.median(lives), statistics.median(replays)
        print(f"{name:<20}{min(lives) * 1000:>10.1f}{live * 1000:>10.1f}"
              f"{min(replays) * 1000:>12.1f}{replay * 1000:>12.1f}"
              f"{(replay - empty) * 1000:>10.1f}{replay / live:>13.3f}")
    print(f"\nlive = the test against the embedded sandbox (--robo-sim-delay 0.2, which records "
          f"too);\nreplay = offline; both after an untimed warm-up test in the same run, "
          f"{repeat} interleaved\nruns each (min and median); overhead = median replay minus "
          "the replay of a test with no fixture.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
