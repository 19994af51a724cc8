"""Mirror of ``rapyuta_io.clients.rosbag``."""

from __future__ import annotations

from ..rosbag import (
    ComponentType,
    MessageType,
    OverrideOptions,
    ROSBagBlob,
    ROSBagBlobStatus,
    ROSBagCompression,
    ROSBagInfo,
    ROSBagJob,
    ROSBagJobStatus,
    ROSBagOnDemandUploadOptions,
    ROSBagOptions,
    ROSBagTimeRange,
    ROSBagUploadTypes,
    TopicInfo,
    TopicOverrideInfo,
    UploadOptions,
)

__all__ = [
    "ComponentType", "MessageType", "OverrideOptions", "ROSBagBlob", "ROSBagBlobStatus",
    "ROSBagCompression", "ROSBagInfo", "ROSBagJob", "ROSBagJobStatus",
    "ROSBagOnDemandUploadOptions", "ROSBagOptions", "ROSBagTimeRange", "ROSBagUploadTypes",
    "TopicInfo", "TopicOverrideInfo", "UploadOptions",
]
