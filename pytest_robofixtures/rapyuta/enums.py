"""The enums of the rapyuta.io API, with the SDK's names and wire values."""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from .errors import InvalidParameterException


class _StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return str(self.value)


class ROSDistro(_StrEnum):
    """ROS distributions."""

    KINETIC = "kinetic"
    MELODIC = "melodic"
    NOETIC = "noetic"


class Runtime(_StrEnum):
    """Where a component or routed network runs."""

    CLOUD = "cloud"
    DEVICE = "device"


class RestartPolicy(_StrEnum):
    """Restart policy of a component or device routed network."""

    Always = "always"
    Never = "no"
    OnFailure = "on-failure"


class DeviceStatus(_StrEnum):
    """Device states."""

    ONLINE = "ONLINE"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    OFFLINE = "OFFLINE"
    REGISTERED = "REGISTERED"
    INITIALIZING = "INITIALIZING"
    FAILED = "FAILED"
    NEW = "NEW"
    DELETED = "DELETED"


class DeviceArch(_StrEnum):
    """Device CPU architectures."""

    ARM32V7 = "arm32v7"
    ARM64V8 = "arm64v8"
    AMD64 = "amd64"


class QoS(enum.IntEnum):
    """QoS of topic and metric subscriptions."""

    LOW = 0
    MEDIUM = 1
    HIGH = 2


class TopicQOS(enum.IntEnum):
    """Deprecated alias of QoS."""

    ZERO = 0
    ONE = 1
    TWO = 2


class SystemMetric(_StrEnum):
    """System metrics a device can report."""

    CPU = "cpu"
    MEMORY = "memory"
    DISK = "disk"
    DISKIO = "diskio"
    NETWORK = "network"
    WIRELESS = "wireless"


class TopicKind(_StrEnum):
    """Whether a subscribed topic is a metric or a log."""

    METRIC = "METRIC"
    LOG = "LOG"


class DeviceRuntime(_StrEnum):
    """Runtime of a device."""

    DOCKER = "dockercompose"
    PREINSTALLED = "preinstalled"


class DeviceRuntimeKeys(_StrEnum):
    """Config variable keys that switch a device's runtimes on or off."""

    RUNTIME_DOCKER = "runtime_docker"
    RUNTIME_PREINSTALLED = "runtime_preinstalled"


class DevicePythonVersion(_StrEnum):
    """Python version of the device agent (``device_version`` on the wire)."""

    PYTHON2 = "2"
    PYTHON3 = "3"


class DeploymentPhaseConstants(_StrEnum):
    """Deployment phases (wire values, case-sensitive)."""

    INPROGRESS = "In progress"
    PROVISIONING = "Provisioning"
    SUCCEEDED = "Succeeded"
    FAILED_TO_START = "Failed to start"
    PARTIALLY_DEPROVISIONED = "Partially deprovisioned"
    DEPLOYMENT_STOPPED = "Deployment stopped"


class DeploymentStatusConstants(_StrEnum):
    """Deployment statuses (wire values, case-sensitive)."""

    RUNNING = "Running"
    PENDING = "Pending"
    ERROR = "Error"
    UNKNOWN = "Unknown"
    STOPPED = "Stopped"
    BOUND = "Bound"
    RELEASED = "Released"
    AVAILABLE = "Available"
    FAILED = "Failed"


E = TypeVar("E", bound=enum.Enum)


def coerce_enum(enum_cls: type[E], value: Any, what: str) -> E:
    """``value`` as a member of ``enum_cls`` (member or exact wire value), else a clear error."""
    if isinstance(value, enum_cls):
        return value
    for member in enum_cls:
        if not isinstance(value, bool) and value == member.value:
            return member
    allowed = ", ".join(f"{enum_cls.__name__}.{m.name} ({m.value!r})" for m in enum_cls)
    raise InvalidParameterException(f"{what} must be one of {allowed}; got {value!r}")
