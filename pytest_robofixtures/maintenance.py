"""Recording maintenance behind ``robofixtures cassettes``: load checks and secret scans."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .recording import RECORDING_FILE, Bundle, RecordingError, scan_for_secrets


def check_recordings(root: Path, tokens: list[str]) -> list[str]:
    """Load every recording under ``root`` and scan all files for secrets: problem lines."""
    problems: list[str] = []
    for path in sorted(Path(root).rglob(RECORDING_FILE)):
        try:
            Bundle.load(path.parent, f"re-record the test that wrote {path}")
        except RecordingError as exc:
            problems.append(f"{path}: {exc}")
    for finding in scan_for_secrets([root], tokens):
        problems.append(f"{finding.path}:{finding.line}: {finding.kind} {finding.detail}")
    return problems


def collected_nodeids(tests: str, cwd: Path) -> list[str]:
    """The node ids pytest collects under ``tests`` now (a ``--collect-only`` subprocess)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         tests], cwd=cwd, capture_output=True, text=True, timeout=600,
    )
    if done.returncode not in (0, 5):  # 5: no tests collected
        raise RuntimeError(f"collecting the tests in {tests} failed (exit {done.returncode}): "
                           f"{(done.stdout + done.stderr).strip()[-1000:]}")
    return [line.strip() for line in done.stdout.splitlines() if "::" in line]
