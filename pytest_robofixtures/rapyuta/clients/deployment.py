"""Mirror of ``rapyuta_io.clients.deployment``."""

from __future__ import annotations

from ..deployment import Deployment, DeploymentStatus
from ..enums import DeploymentPhaseConstants, DeploymentStatusConstants

__all__ = ["Deployment", "DeploymentPhaseConstants", "DeploymentStatus",
           "DeploymentStatusConstants"]
