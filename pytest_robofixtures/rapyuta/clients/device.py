"""Mirror of ``rapyuta_io.clients.device``."""

from __future__ import annotations

from ..device import Device, OnboardScript
from ..enums import (
    DevicePythonVersion,
    DeviceRuntime,
    DeviceRuntimeKeys,
    DeviceStatus,
    QoS,
    SystemMetric,
    TopicKind,
    TopicQOS,
)

__all__ = ["Device", "DevicePythonVersion", "DeviceRuntime", "DeviceRuntimeKeys", "DeviceStatus",
           "OnboardScript", "QoS", "SystemMetric", "TopicKind", "TopicQOS"]
