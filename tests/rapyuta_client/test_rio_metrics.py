"""Metrics queries against the sandbox: request checks, default tags, answer shapes, errors."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from pytest_robofixtures.rapyuta import (
    BadRequestError,
    Client,
    ForbiddenError,
    InvalidParameterException,
    ResourceNotFoundError,
)
from pytest_robofixtures.rapyuta.clients.metrics import (
    Entity,
    ListMetricsRequest,
    ListTagKeysRequest,
    ListTagValuesRequest,
    MetricFunction,
    MetricOperation,
    QueryMetricsRequest,
    SortOrder,
    StepInterval,
)
from pytest_robofixtures.sim.rapyuta import DEVICE_AMD64_DOCKER

from ._support import PROJECT, Sandbox

NOW = dt.datetime.now(dt.timezone.utc)


def _query(**kw: Any) -> QueryMetricsRequest:
    kw.setdefault("step_interval", StepInterval.ONE_MINUTE)
    kw.setdefault("metrics", [MetricOperation(MetricFunction.MEAN, "cpu.usage_user"),
                              MetricOperation(MetricFunction.MAX, "mem.used_percent")])
    return QueryMetricsRequest(NOW - dt.timedelta(minutes=10), NOW, **kw)


def test_query_metrics_adds_tenant_and_organization(sandbox: Sandbox, client: Client) -> None:
    bodies: list[Any] = []
    client.session.hooks["response"].append(
        lambda r, *a, **k: bodies.append((r.request.method, r.request.url, r.request.body)))
    answer = client.query_metrics(_query(groupby=["device_id"], tags={
        "device_id": {"operator": "eq", "value": DEVICE_AMD64_DOCKER}}))
    assert [b[0] for b in bodies] == ["GET", "POST"]
    assert bodies[0][1].endswith("/api/user/me/get")
    sent = json.loads(bodies[1][2])
    assert sent["tags"]["tenant_id"] == {"operator": "eq", "value": PROJECT}
    assert sent["tags"]["organization_id"]["value"] == sandbox.app.organization
    assert sent["step"] == "1m" and sent["sort"] == "asc"
    assert sent["metrics"][0] == {"function": "mean", "metric_name": "cpu.usage_user"}
    assert [str(c) for c in answer.columns] == [
        "timestamp", f"mean(cpu.usage_user){{device_id={DEVICE_AMD64_DOCKER}}}",
        f"max(mem.used_percent){{device_id={DEVICE_AMD64_DOCKER}}}"]
    assert answer.columns[1].function is MetricFunction.MEAN
    assert len(answer.rows) == 3 and len(answer.rows[0]) == 11  # 10 minutes at 1m, both ends
    rows, names = answer.to_row_column_format()
    first = next(iter(rows))
    assert len(first) == len(names) == 3
    desc = client.query_metrics(_query(sort=SortOrder.DESC))
    assert desc.rows[0][0] > desc.rows[0][-1]


def test_query_metrics_errors(client: Client) -> None:
    with pytest.raises(BadRequestError, match="unknown metric"):
        client.query_metrics(_query(metrics=[MetricOperation(MetricFunction.MEAN, "gpu.x")]))
    with pytest.raises(ForbiddenError, match="tenant_id"):
        client.query_metrics(_query(tags={"tenant_id": {"operator": "eq", "value": "other"}}))
    old = NOW - dt.timedelta(days=8)
    with pytest.raises(InvalidParameterException, match="1m, 5m, 15m"):
        QueryMetricsRequest(old, NOW, StepInterval.ONE_SECOND, _query().metrics)
    with pytest.raises(InvalidParameterException, match="less than"):
        QueryMetricsRequest(NOW, old, StepInterval.ONE_MINUTE, _query().metrics)
    with pytest.raises(InvalidParameterException, match="MetricOperation"):
        QueryMetricsRequest(old, NOW, StepInterval.ONE_MINUTE, [])
    with pytest.raises(InvalidParameterException):
        client.query_metrics("not a request")  # type: ignore[arg-type]


def test_query_needs_a_project(sandbox: Sandbox) -> None:
    client = sandbox.client()
    client.set_project(None)
    with pytest.raises(InvalidParameterException, match="set_project"):
        client.query_metrics(_query())


def test_list_metrics_and_tags(sandbox: Sandbox, client: Client) -> None:
    start = NOW - dt.timedelta(hours=1)
    metrics = client.list_metrics(ListMetricsRequest(Entity.DEVICE, DEVICE_AMD64_DOCKER,
                                                     start, NOW))
    groups = {m.metric_group: m.metric_names for m in metrics}
    assert "usage_user" in groups["cpu"]
    keys = client.list_tag_keys(ListTagKeysRequest(Entity.PROJECT, PROJECT, start, NOW))
    assert "device_id" in keys[0].tags
    values = client.list_tag_values(ListTagValuesRequest(Entity.PROJECT, PROJECT, "device_id",
                                                         start, NOW))
    assert DEVICE_AMD64_DOCKER in values
    with pytest.raises(ResourceNotFoundError):
        client.list_metrics(ListMetricsRequest(Entity.DEVICE, "ghost", start, NOW))
    with pytest.raises(InvalidParameterException, match="ORGANIZATION"):
        ListMetricsRequest(Entity.ORGANIZATION, "org", start, NOW)
