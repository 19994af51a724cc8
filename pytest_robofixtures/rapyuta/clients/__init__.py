"""Mirror of ``rapyuta_io.clients``: the same submodules, so ported imports need no edits.

Each submodule re-exports the classes of ``pytest_robofixtures.rapyuta`` that the SDK's module
of the same name defines, e.g. ``from pytest_robofixtures.rapyuta.clients.package import
ProvisionConfiguration``.
"""

from __future__ import annotations

from ..device import Device
from ..device_models import (
    Command,
    DeviceConfig,
    Label,
    LogsUploadRequest,
    LogUploads,
    LogUploadStatus,
    Metric,
    SharedURL,
    TopicsStatus,
)
from ..enums import DeviceArch, ROSDistro

__all__ = [
    "Command", "Device", "DeviceArch", "DeviceConfig", "Label", "LogUploadStatus", "LogUploads",
    "LogsUploadRequest", "Metric", "ROSDistro", "SharedURL", "TopicsStatus",
]
