"""Recording maintenance behind ``robofixtures cassettes``: load checks and secret scans."""

from __future__ import annotations

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
