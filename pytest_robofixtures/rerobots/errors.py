"""Exceptions of the rerobots client, compatible with ``rerobots.api`` 0.11.0.

The five classes of the official client keep their names and hierarchy (everything is an
:class:`Error`); the others subclass them so ``except Error`` still catches everything. Messages
name the HTTP method, path and status where there was a response, so a CI log says what failed.
"""

from __future__ import annotations

from typing import Any

TOKEN_ENV = "REROBOTS_API_TOKEN"


class Error(Exception):
    """Error not otherwise specified (the base of every rerobots client error)."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        payload: Any = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status
        self.payload = payload


class BusyWorkspaceDeployment(Error):
    """All matching workspace deployments are busy (and no reservation was made)."""


class BusyWorkspaceInstance(Error):
    """The instance is busy, and the request cannot be queued."""


class InstanceNotFound(Error):
    """No instance found with the given identifier."""


class WrongAuthToken(Error):
    """The API token was refused by the server."""


class MissingAPIToken(Error):
    """A call needs an API token but the client has none."""


class APIConnectionError(Error):
    """The server could not be reached (connection refused, timeout, reset...)."""


class InstanceNotReady(Error):
    """An operation needs a READY instance."""


class InstanceInitFailed(InstanceNotReady):
    """The instance went to INIT_FAIL: it will never become READY."""


class WaitTimeout(Error, TimeoutError):
    """A wait for an instance or add-on state did not finish in time."""

    def __init__(self, message: str, *, last: Any = None, polls: int = 0, elapsed: float = 0.0):
        super().__init__(message)
        self.last = last
        self.polls = polls
        self.elapsed = elapsed


class SSHError(Error):
    """An SSH connection to an instance could not be opened or used."""


class HostKeyMismatch(SSHError):
    """The SSH server presented a host key other than the ones the instance details report."""

    def __init__(
        self, message: str, *, expected: list[str] | None = None, got: str | None = None
    ) -> None:
        super().__init__(message)
        self.expected = list(expected or [])
        self.got = got


class CommandTimeout(SSHError, TimeoutError):
    """A remote command did not finish within its timeout."""


__all__ = [
    "TOKEN_ENV",
    "APIConnectionError",
    "BusyWorkspaceDeployment",
    "BusyWorkspaceInstance",
    "CommandTimeout",
    "Error",
    "HostKeyMismatch",
    "InstanceInitFailed",
    "InstanceNotFound",
    "InstanceNotReady",
    "MissingAPIToken",
    "SSHError",
    "WaitTimeout",
    "WrongAuthToken",
]
