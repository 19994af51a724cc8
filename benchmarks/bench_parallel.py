"""Parallel sim runs: 16 workspace-bound tests with a 2 s provisioning delay, ``-n 4`` vs ``-n 1``.

Run: ``python benchmarks/bench_parallel.py [--quick]``. Both runs are real pytest processes
against the embedded sandbox (``--robo-sim``); with xdist the controller starts one sandbox
that every worker shares. Nothing is recorded (``--robo-record-mode=none``). Prints the wall
times and their ratio (target: ``-n 4`` at most 0.35 of ``-n 1``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEST = """
import pytest

# Any free workspace of these types: the sandbox has four, one per worker of -n 4.
@pytest.mark.rerobots_instance(workspace_types=["null", "basic_ur", "fixed_misty2"])
@pytest.mark.parametrize("n", range({count}))
def test_workspace(rerobots_instance, n):
    assert rerobots_instance.ssh.exec("echo ok").check().stdout_text.strip() == "ok"
"""


def _run(project: Path, workers: int, delay: float) -> float:
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--robo-sim",
            f"--robo-sim-delay={delay}", "--robo-record-mode=none"]
    if workers > 1:
        args += ["-n", str(workers)]
    start = time.perf_counter()
    done = subprocess.run(args, cwd=project, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"pytest -n {workers} failed:\n{done.stdout[-3000:]}{done.stderr}")
    return wall


def results(quick: bool = False) -> dict[str, float]:
    """``parallel_n4_vs_n1`` plus both wall times (seconds)."""
    count, delay = (8, 1.0) if quick else (16, 2.0)
    with tempfile.TemporaryDirectory(prefix="robo-bench-parallel-") as tmp:
        project = Path(tmp)
        (project / "test_parallel.py").write_text(TEST.format(count=count))
        (project / "pytest.ini").write_text("[pytest]\n")
        one = _run(project, 1, delay)
        four = _run(project, 4, delay)
    return {"parallel_n4_vs_n1": round(four / one, 3), "parallel_n1_s": round(one, 2),
            "parallel_n4_s": round(four, 2), "parallel_tests": count,
            "parallel_delay_s": delay}


def main() -> None:
    """Print a readable table (or JSON with --json)."""
    figures = results(quick="--quick" in sys.argv)
    if "--json" in sys.argv:
        print(json.dumps(figures))
        return
    print(f"{figures['parallel_tests']} workspace tests, {figures['parallel_delay_s']} s "
          "provisioning delay, against one shared sandbox")
    print(f"  -n 1: {figures['parallel_n1_s']:.1f} s")
    print(f"  -n 4: {figures['parallel_n4_s']:.1f} s")
    print(f"  ratio -n 4 / -n 1: {figures['parallel_n4_vs_n1']:.2f} (target <= 0.35)")


if __name__ == "__main__":
    main()
