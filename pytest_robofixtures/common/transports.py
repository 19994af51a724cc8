"""The seams between clients and the wire for non-HTTP transports.

HTTP is recorded by vcrpy under ``requests``; SSH and ROC go through these small interfaces, so
the recording package can wrap the real implementation (record) or replace it (replay) without
the clients knowing. Clients depend only on these protocols.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class CommandFailed(Exception):
    """A remote command exited non-zero where success was required."""

    def __init__(self, result: ExecResult) -> None:
        super().__init__(
            f"command {result.command!r} exited {result.exit_status}: "
            f"{result.stderr_text.strip()[-500:] or result.stdout_text.strip()[-500:]}"
        )
        self.result = result


@dataclass(frozen=True)
class ExecResult:
    """What one remote command did."""

    command: str
    stdout: bytes
    stderr: bytes
    exit_status: int

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.exit_status == 0

    @property
    def stdout_text(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def check(self) -> ExecResult:
        """Return self, or raise :class:`CommandFailed` if the exit status is not 0."""
        if not self.ok:
            raise CommandFailed(self)
        return self


class SSHSession(Protocol):
    """An open SSH connection to one host: exec and file transfer."""

    def exec(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run ``command`` and wait for it."""
        ...

    def put(self, local_path: str, remote_path: str) -> None:
        """Copy a local file to the remote host."""
        ...

    def get(self, remote_path: str, local_path: str) -> None:
        """Copy a remote file to the local machine."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


class RocTransport(Protocol):
    """Sends one JSON-RPC request to a ROC object and returns the JSON-RPC response."""

    def request(self, object_id: str, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send ``message`` to ``object_id``; return the decoded reply or raise on timeout."""
        ...

    def close(self) -> None:
        """Release sockets."""
        ...


class RocFeed(Protocol):
    """A subscription to ROC status updates and log records."""

    def receive(self, timeout: float | None) -> tuple[str, Any] | None:
        """Next ``(topic, payload)``, or None when nothing arrived within ``timeout``."""
        ...

    def close(self) -> None:
        """Release sockets."""
        ...

