"""Mirror of ``rapyuta_io.clients.build``."""

from __future__ import annotations

from ..build import (
    Build,
    BuildOptions,
    BuildStatus,
    CatkinOption,
    GithubWebhook,
    SimulationOptions,
    StrategyType,
)
from .buildoperation import BuildOperation, BuildOperationInfo

__all__ = ["Build", "BuildOperation", "BuildOperationInfo", "BuildOptions", "BuildStatus",
           "CatkinOption", "GithubWebhook", "SimulationOptions", "StrategyType"]
