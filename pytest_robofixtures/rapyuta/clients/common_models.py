"""Mirror of ``rapyuta_io.clients.common_models``."""

from __future__ import annotations

from ..common_models import InternalDeploymentStatus
from ..routed_network import Limits

__all__ = ["InternalDeploymentStatus", "Limits"]
