"""The ssh helper of an instance (``instance.ssh``): exec with stdout/stderr/exit status, files.

All traffic goes through the ``SSHSession`` the instance's ``ssh_factory`` opened, so the
recording engine sees (or replays) every command and transfer.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..common.transports import ExecResult, SSHSession

if TYPE_CHECKING:
    from .instance import Instance


class InstanceSSH:
    """Run commands on and copy files to/from one instance; connects on first use."""

    def __init__(self, instance: Instance) -> None:
        self._instance = instance

    @property
    def session(self) -> SSHSession:
        """The open SSH session (started with ``instance.start_sshclient()`` if needed)."""
        return self._instance._ssh_session_or_start()

    def exec(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run ``command``; return an ExecResult (stdout, stderr, exit_status, .ok, .check())."""
        return self.session.exec(command, timeout)

    def run_ok(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run ``command`` and raise ``CommandFailed`` unless it exits 0."""
        return self.exec(command, timeout).check()

    def put(self, local_path: str | os.PathLike[str], remote_path: str) -> None:
        """Copy a local file onto the instance."""
        self.session.put(os.fspath(local_path), remote_path)

    def get(self, remote_path: str, local_path: str | os.PathLike[str]) -> None:
        """Copy a file from the instance to the local machine."""
        self.session.get(remote_path, os.fspath(local_path))

    def close(self) -> None:
        """Close the SSH session (a later call reconnects)."""
        self._instance.stop_sshclient()


__all__ = ["InstanceSSH"]
