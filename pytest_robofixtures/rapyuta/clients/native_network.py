"""Mirror of ``rapyuta_io.clients.native_network``."""

from __future__ import annotations

from ..common_models import InternalDeploymentStatus
from ..native_network import (
    NativeNetwork,
    NativeNetworkLimits,
    Parameters,
)

__all__ = ["InternalDeploymentStatus", "NativeNetwork", "NativeNetworkLimits", "Parameters"]
