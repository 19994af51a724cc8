"""Mirror of ``rapyuta_io.clients.metrics``."""

from __future__ import annotations

from ..metrics import (
    Column,
    Entity,
    ListMetricsRequest,
    ListTagKeysRequest,
    ListTagValuesRequest,
    Metric,
    MetricFunction,
    MetricOperation,
    QueryMetricsRequest,
    QueryMetricsResponse,
    SortOrder,
    StepInterval,
    Tags,
)

__all__ = ["Column", "Entity", "ListMetricsRequest", "ListTagKeysRequest",
           "ListTagValuesRequest", "Metric", "MetricFunction", "MetricOperation",
           "QueryMetricsRequest", "QueryMetricsResponse", "SortOrder", "StepInterval", "Tags"]
