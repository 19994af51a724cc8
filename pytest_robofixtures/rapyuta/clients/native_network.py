"""Mirror of ``rapyuta_io.clients.native_network``."""

from __future__ import annotations

from ..native_network import (
    InternalDeploymentStatus,
    NativeNetwork,
    NativeNetworkLimits,
    Parameters,
)

__all__ = ["InternalDeploymentStatus", "NativeNetwork", "NativeNetworkLimits", "Parameters"]
