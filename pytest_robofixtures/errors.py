"""Errors of the infrastructure, reported apart from the test's own failures.

Every error that comes from the robot cloud, the rented workspace or the broker, not from the
code under test, is an :class:`InfraError`: provisioning and readiness timeouts, service errors
left after retries, busy or failed rentals, an unreachable broker, failed teardowns. Such tests
are reported with verdict ``infra``, and ``pytest --reruns 2 --only-rerun InfraError`` reruns
only them (the text ``InfraError`` is in every message, which is what ``--only-rerun`` matches).
"""

from __future__ import annotations

from .common.errors import InfraError


class ProvisioningTimeout(InfraError):
    """A resource did not become ready in time."""

    what = "provisioning timeout"


class ProvisioningFailed(InfraError):
    """The service reported that a resource failed to start."""

    what = "provisioning failed"


class ServiceError(InfraError):
    """The service answered with an error (5xx, 429) even after retries, or not at all."""

    what = "service error"


class RentalUnavailable(InfraError):
    """No workspace could be rented: every matching one is busy, or no rental slot is free."""

    what = "rental unavailable"


class BrokerUnreachable(InfraError):
    """The ROC broker or the object did not answer."""

    what = "broker unreachable"


class TeardownError(InfraError):
    """A resource could not be torn down (it is in the journal for ``robofixtures reap``)."""

    what = "teardown failed"


def classify(exc: BaseException) -> type[InfraError] | None:
    """The InfraError class an exception from provisioning stands for, or None (a test bug)."""
    if isinstance(exc, InfraError):
        return None  # already classified
    names: set[str] = set()
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            break
        names.update(cls.__name__ for cls in type(seen).__mro__)
        seen = seen.__cause__ or seen.__context__
    status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
    if names & {"RetriesExhausted", "WaitTimeout", "PollTimeout"}:
        return ProvisioningTimeout
    if names & {"DeploymentNotRunningException", "InstanceInitFailed", "InstanceNotReady"}:
        return ProvisioningFailed
    if names & {"BusyWorkspaceDeployment", "BusyWorkspaceInstance"}:
        return RentalUnavailable
    if names & {"RocTimeout", "RocBrokerUnavailable"}:
        return BrokerUnreachable
    if isinstance(status, int) and (status >= 500 or status == 429):
        return ServiceError
    if names & {"ConnectionError", "APIConnectionError", "RequestTimeout", "ReadTimeout",
                "InternalServerError"}:
        return ServiceError
    return None


__all__ = ["BrokerUnreachable", "InfraError", "ProvisioningFailed", "ProvisioningTimeout",
           "RentalUnavailable", "ServiceError", "TeardownError", "classify"]
