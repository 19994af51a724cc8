"""Errors of the recording engine: each names the file, what went wrong and how to fix it."""

from __future__ import annotations

from pathlib import Path


class RecordingError(Exception):
    """Base of every recording error (never an ``OSError``, so HTTP retries do not swallow it)."""


class RecordingMissing(RecordingError):
    """Replay asked for a recording file that does not exist."""

    def __init__(self, path: Path, rerecord_command: str) -> None:
        self.path = path
        self.rerecord_command = rerecord_command
        failed = Path(path).with_name("recording.failed.yaml")
        note = (f"\nA failed recording attempt is kept at {failed} (for inspection; it is "
                "never replayed)." if failed.is_file() else "")
        super().__init__(
            f"no recording at {path}\n"
            f"This test has not been recorded yet (or its recording was deleted or moved).\n"
            f"To record it, run: {rerecord_command}{note}"
        )


class RecordingCorrupt(RecordingError):
    """A recording exists but cannot be used (bad YAML, truncated, wrong version, missing blob)."""

    def __init__(self, path: Path, problem: str, rerecord_command: str) -> None:
        self.path = path
        self.problem = problem
        self.rerecord_command = rerecord_command
        super().__init__(
            f"recording {path} is unusable: {problem}\n"
            f"Restore it from version control, or record it again: {rerecord_command}"
        )


class RecordingMismatch(RecordingError):
    """Replay met a request (HTTP, SSH, ROC, name) that is not in the recording."""

    def __init__(
        self,
        path: Path,
        transport: str,
        wanted: str,
        nearest: str | None,
        differences: list[str],
        rerecord_command: str,
        recorded_count: int = 0,
    ) -> None:
        self.path = path
        self.transport = transport
        self.wanted = wanted
        self.nearest = nearest
        self.differences = differences
        self.rerecord_command = rerecord_command
        lines = [
            f"{transport} request not found in the recording:",
            *(f"    {line}" for line in wanted.splitlines()),
            f"  recording: {path} ({recorded_count} {transport} interaction(s) recorded)",
        ]
        if nearest is None:
            lines.append(f"  nearest recorded {transport} request: none")
            lines += [f"    ({d})" for d in differences]
        else:
            lines.append(f"  nearest recorded {transport} request:")
            lines += [f"    {line}" for line in nearest.splitlines()]
            if differences:
                lines.append("  it differs in:")
                lines += [f"    - {d}" for d in differences]
        lines.append(
            "If the test or the client changed on purpose, record it again: " + rerecord_command
        )
        super().__init__("\n".join(lines))


class NetworkBlocked(RecordingError):
    """Replay tried to reach a non-loopback address."""

    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(
            f"network access to {target} blocked: replay is hermetic (loopback only).\n"
            "Something the recording does not serve tried to go out. Record the test with "
            "--robo-sim or --robo-live, or, if this host may be reached during replay, allow "
            "it with --robo-allow-hosts or the allowed_hosts of the robo_config fixture."
        )
