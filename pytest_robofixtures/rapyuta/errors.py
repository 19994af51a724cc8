"""Exceptions of the rapyuta.io client, with the names of the official SDK's ``utils.error``."""

from __future__ import annotations

from typing import Any


class APIError(Exception):
    """An API call failed; HTTP failures carry the method, path, status and server message."""

    def __init__(
        self,
        message: str = "",
        *,
        method: str | None = None,
        path: str | None = None,
        status_code: int | None = None,
        server_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status_code = status_code
        self.server_message = server_message


class BadRequestError(APIError):
    """HTTP 400."""


class UnauthorizedError(APIError):
    """HTTP 401: the token is wrong or expired."""


class ForbiddenError(APIError):
    """HTTP 403: the token may not act on this project or resource."""


class ResourceNotFoundError(APIError):
    """HTTP 404."""


class ConflictError(APIError):
    """HTTP 409: e.g. a package with the same name and version exists."""


class InternalServerError(APIError):
    """HTTP 500."""


class RequestTimeout(APIError, TimeoutError):
    """The server did not answer within the client's request timeout (the SDK waits forever)."""


class PackageNotFound(ResourceNotFoundError):
    """The package id is unknown."""


class ComponentNotFoundException(Exception):
    """A component name is not part of the plan."""


class PlanNotFound(Exception):
    """A plan id is not part of the package."""

    def __init__(self, plan_id: str | None = None) -> None:
        msg = f"Plan {plan_id!r} is not found" if plan_id else "the package has no plans"
        super().__init__(msg)
        self.plan_id = plan_id


class DeploymentNotRunningException(Exception):
    """The deployment (or routed network) reached a phase it will not recover from."""

    def __init__(self, msg: str = "", deployment_status: Any = None) -> None:
        super().__init__(msg)
        self.deployment_status = deployment_status


class RetriesExhausted(Exception):
    """Polling gave up before the resource became ready; ``last_status`` is the last seen."""

    def __init__(self, msg: str = "", last_status: Any = None) -> None:
        super().__init__(msg)
        self.last_status = last_status


class InvalidParameterException(ValueError):
    """Bad input, refused before any request."""


class OperationNotAllowedError(Exception):
    """The operation is not allowed in the resource's current configuration."""


class ParameterMissingException(ValueError):
    """A required parameter is missing or empty."""


class DeviceNotFoundException(ResourceNotFoundError):
    """The device is unknown."""


class ConfigNotFoundException(ResourceNotFoundError):
    """The device configuration variable is unknown."""


class LabelNotFoundException(ResourceNotFoundError):
    """The device label is unknown."""


class LogsUUIDNotFoundException(ResourceNotFoundError):
    """The log upload request uuid is unknown."""


class DeploymentRunningException(Exception):
    """A device with running deployments cannot be deleted."""

    def __init__(self, msg: str = "the device has running deployments; deprovision them first"):
        super().__init__(msg)


class InvalidCommandException(ValueError):
    """A device Command is malformed."""


class InvalidAuthTokenException(ValueError):
    """The auth token is missing."""


class UnknownTopicStatusException(Exception):
    """The device reported no topic status."""


class AliasNotProvidedException(Exception):
    """A component of a plan that needs aliases has none."""


class DuplicateAliasException(Exception):
    """Two components (or dependent deployments) share one alias."""


class InsufficientResourceError(Exception):
    """The platform has not enough resources for the request."""


class ServiceBindingError(Exception):
    """A deployment's service binding could not be read."""


class DeserializationException(Exception):
    """A server answer has not the expected shape."""


class CommandException(Exception):
    """A device command failed."""


class UnknownTopicException(Exception):
    """The topic is not available on the device."""


class BuildFailed(Exception):
    """A build ended in a failed state."""


class BuildOperationFailed(Exception):
    """A trigger or rollback of builds failed for some of them."""


class ROSBagBlobError(Exception):
    """A rosbag blob ended in an error state."""


class InvalidJSONError(Exception):
    """A manifest file is not valid JSON."""

    def __init__(self, file_path: str | None = None) -> None:
        super().__init__(f"Invalid JSON in {file_path}" if file_path else "Invalid JSON")


class InvalidYAMLError(Exception):
    """A manifest file is not valid YAML."""

    def __init__(self, file_path: str | None = None) -> None:
        super().__init__(f"Invalid YAML in {file_path}" if file_path else "Invalid YAML")


__all__ = [
    "APIError", "BadRequestError", "UnauthorizedError", "ForbiddenError", "ResourceNotFoundError",
    "ConflictError", "InternalServerError", "RequestTimeout", "PackageNotFound",
    "ComponentNotFoundException", "PlanNotFound", "DeploymentNotRunningException",
    "RetriesExhausted", "InvalidParameterException", "OperationNotAllowedError",
    "ParameterMissingException", "DeviceNotFoundException", "ConfigNotFoundException",
    "LabelNotFoundException", "LogsUUIDNotFoundException", "DeploymentRunningException",
    "InvalidCommandException", "InvalidAuthTokenException", "UnknownTopicStatusException",
    "AliasNotProvidedException", "DuplicateAliasException", "InsufficientResourceError",
    "ServiceBindingError", "DeserializationException", "CommandException",
    "UnknownTopicException", "BuildFailed", "BuildOperationFailed", "ROSBagBlobError",
    "InvalidJSONError", "InvalidYAMLError",
]
