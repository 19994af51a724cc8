"""Mirror of ``rapyuta_io.clients.model``."""

from __future__ import annotations

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

__all__ = ["Command", "DeviceConfig", "Label", "LogUploadStatus", "LogUploads",
           "LogsUploadRequest", "Metric", "SharedURL", "TopicsStatus"]
