"""Mirror of ``rapyuta_io.clients.buildoperation``."""

from __future__ import annotations

from ..build import BuildOperation, BuildOperationInfo

__all__ = ["BuildOperation", "BuildOperationInfo"]
