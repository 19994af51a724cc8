"""Mirror of ``rapyuta_io.clients.persistent_volumes``."""

from __future__ import annotations

from ..persistent_volumes import (
    VOLUME_COMPONENT,
    DiskCapacity,
    DiskType,
    PersistentVolumes,
    VolumeInstance,
    VolumeInstanceStatus,
)

__all__ = ["VOLUME_COMPONENT", "DiskCapacity", "DiskType", "PersistentVolumes", "VolumeInstance",
           "VolumeInstanceStatus"]
