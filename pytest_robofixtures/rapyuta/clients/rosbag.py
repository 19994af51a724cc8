"""Mirror of ``rapyuta_io.clients.rosbag`` (the job definitions sent at provision)."""

from __future__ import annotations

from ..rosbag import (
    OverrideOptions,
    ROSBagCompression,
    ROSBagJob,
    ROSBagOnDemandUploadOptions,
    ROSBagOptions,
    ROSBagTimeRange,
    ROSBagUploadTypes,
    TopicOverrideInfo,
    UploadOptions,
)

__all__ = ["OverrideOptions", "ROSBagCompression", "ROSBagJob", "ROSBagOnDemandUploadOptions",
           "ROSBagOptions", "ROSBagTimeRange", "ROSBagUploadTypes", "TopicOverrideInfo",
           "UploadOptions"]
