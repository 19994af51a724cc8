"""The official rapyuta-io SDK queries and lists metrics of the sandbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pytest_robofixtures.sim.rapyuta import DEVICE_AMD64_DOCKER

from ._support import PROJECT, Sandbox

rapyuta_io = pytest.importorskip("rapyuta_io")
from rapyuta_io.clients.metrics import (  # noqa: E402
    Entity,
    ListMetricsRequest,
    ListTagKeysRequest,
    ListTagValuesRequest,
    MetricFunction,
    MetricOperation,
    QueryMetricsRequest,
    StepInterval,
)
from rapyuta_io.utils import error as rio_error  # noqa: E402


def test_sdk_query_metrics(sdk: Any, sandbox: Sandbox) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    request = QueryMetricsRequest(
        now - dt.timedelta(minutes=5), now, StepInterval.ONE_MINUTE,
        [MetricOperation(MetricFunction.AVG, "cpu.usage_system")], groupby=["device_id"])
    answer = sdk.query_metrics(request)  # also fetches the user's organization
    assert request.tags["organization_id"]["value"] == sandbox.app.organization
    assert [str(c) for c in answer.columns] == ["timestamp",
                                                "avg(cpu.usage_system){device_id=sim}"]
    rows, names = answer.to_row_column_format()
    assert len(list(rows)) == 6 and len(names) == 2
    bad = QueryMetricsRequest(now - dt.timedelta(minutes=5), now, StepInterval.ONE_MINUTE,
                              [MetricOperation(MetricFunction.AVG, "cpu.nope")])
    with pytest.raises(rio_error.BadRequestError):
        sdk.query_metrics(bad)


def test_sdk_lists_metrics_and_tags(sdk: Any) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    start = now - dt.timedelta(hours=1)
    metrics = sdk.list_metrics(ListMetricsRequest(Entity.DEVICE, DEVICE_AMD64_DOCKER, start, now))
    assert {m.metric_group for m in metrics} >= {"cpu", "mem"}
    keys = sdk.list_tag_keys(ListTagKeysRequest(Entity.DEVICE, DEVICE_AMD64_DOCKER, start, now))
    assert "host" in keys[0].tags
    values = sdk.list_tag_values(ListTagValuesRequest(Entity.PROJECT, PROJECT, "tenant_id",
                                                      start, now))
    assert values == [PROJECT]
    with pytest.raises(rio_error.ResourceNotFoundError):
        sdk.list_metrics(ListMetricsRequest(Entity.DEPLOYMENT, "dep-ghost", start, now))
