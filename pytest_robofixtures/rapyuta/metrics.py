"""Metrics queries (core host ``/api/metrics/v0/``), with the SDK's request and answer models."""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Iterator
from typing import Any

from .enums import _StrEnum
from .errors import InvalidParameterException

#: data older than this comes from the long-term store, which has coarser steps only
_LONG_TERM = _dt.timedelta(days=7)


class StepInterval(_StrEnum):
    """Time bucket of a metrics query."""

    ONE_SECOND = "1s"
    TEN_SECONDS = "10s"
    THIRTY_SECONDS = "30s"
    ONE_MINUTE = "1m"
    FIVE_MINUTES = "5m"
    FIFTEEN_MINUTES = "15m"


#: the steps allowed for queries that start more than 7 days ago
LONG_TERM_STEPS = (StepInterval.ONE_MINUTE, StepInterval.FIVE_MINUTES,
                   StepInterval.FIFTEEN_MINUTES)


class MetricFunction(_StrEnum):
    """Aggregation applied to a metric in each step."""

    COUNT = "count"
    DISTINCT = "distinct"
    MEAN = "mean"
    MEDIAN = "median"
    MODE = "mode"
    AVG = "avg"
    STDDEV = "stddev"
    DERIVATIVE = "derivative"
    MAX = "max"
    MIN = "min"
    FIRST = "first"
    LAST = "last"
    PERCENTILE_95 = "percentile_95"
    PERCENTILE_99 = "percentile_99"


class SortOrder(_StrEnum):
    """Order of the rows."""

    ASC = "asc"
    DESC = "desc"


class Entity(_StrEnum):
    """What metrics are listed for."""

    DEVICE = "device"
    DEPLOYMENT = "deployment"
    PROJECT = "project"
    ORGANIZATION = "organization"


def _long_term(start: _dt.datetime) -> bool:
    now = _dt.datetime.now(tz=start.tzinfo) if start.tzinfo else _dt.datetime.now()
    return now - start > _LONG_TERM


def _member(enum_cls: type[enum.Enum], value: Any) -> bool:
    return isinstance(value, enum_cls) or value in [m.value for m in enum_cls]


class MetricOperation:
    """A function over one metric: ``MetricOperation(MetricFunction.MEAN, "cpu.usage_user")``."""

    def __init__(self, function: MetricFunction | str, metric_name: str) -> None:
        if not _member(MetricFunction, function):
            raise InvalidParameterException("function should be member of MetricFunction")
        if not isinstance(metric_name, str):
            raise InvalidParameterException("metric name should be a string")
        self.function = MetricFunction(function)
        self.metric_name = metric_name

    def serialize(self) -> dict[str, Any]:
        """The wire form ``{"function", "metric_name"}``."""
        return {"function": self.function.value, "metric_name": self.metric_name}


class QueryMetricsRequest:
    """A metrics query: time range, step, metric operations, tag filters, order, grouping."""

    TENANT_ID_TAG = "tenant_id"
    ORGANIZATION_ID_TAG = "organization_id"

    def __init__(self, from_datetime: _dt.datetime, to_datetime: _dt.datetime,
                 step_interval: StepInterval | str, metrics: list[MetricOperation],
                 tags: dict[str, Any] | None = None, sort: SortOrder | str | None = None,
                 groupby: list[str] | None = None) -> None:
        if not isinstance(from_datetime, _dt.datetime):
            raise InvalidParameterException("from_datetime should be a datetime object")
        if not isinstance(to_datetime, _dt.datetime):
            raise InvalidParameterException("to_datetime should be a datetime object")
        if not isinstance(metrics, list) or not metrics or not all(
                isinstance(m, MetricOperation) for m in metrics):
            raise InvalidParameterException(
                "metrics should be non-empty list of MetricOperation objects")
        if sort is not None and not _member(SortOrder, sort):
            raise InvalidParameterException("sort should be a member of SortOrder enum")
        if groupby is not None and (not isinstance(groupby, list)
                                    or not all(isinstance(g, str) for g in groupby)):
            raise InvalidParameterException("grouby should be list of strings")
        if tags is not None and not isinstance(tags, dict):
            raise InvalidParameterException("tags should be key value of tags and values")
        if not _member(StepInterval, step_interval):
            raise InvalidParameterException(
                "step_interval should be a member of StepInterval enum")
        step = StepInterval(step_interval)
        if _long_term(from_datetime) and step not in LONG_TERM_STEPS:
            raise InvalidParameterException(
                "step_interval must be one of 1m, 5m, 15m for from_datetime before 7 days from "
                "today")
        if from_datetime > to_datetime:
            raise InvalidParameterException("from_datetime must be less than to_datetime")
        self.from_datetime, self.to_datetime = from_datetime, to_datetime
        self.step_interval = step
        self.metrics = metrics
        self.sort = SortOrder(sort) if sort is not None else SortOrder.ASC
        self.groupby = groupby
        self.tags: dict[str, Any] = tags if tags is not None else {}

    def serialize(self) -> dict[str, Any]:
        """The ``POST /api/metrics/v0/query/`` body."""
        body: dict[str, Any] = {"step": self.step_interval.value,
                                "metrics": [m.serialize() for m in self.metrics],
                                "sort": self.sort.value, "tags": self.tags,
                                "from": self.from_datetime.isoformat(),
                                "to": self.to_datetime.isoformat()}
        if self.groupby is not None:
            body["groupby"] = self.groupby
        return body


class Column:
    """One column of a query answer: the metric, its function and group, and its tags."""

    def __init__(self, name: str | None = None, function: Any = None,
                 metric_group: str | None = None, tag_names: list[str] | None = None,
                 tag_values: list[str] | None = None) -> None:
        self.name, self.metric_group = name, metric_group
        self.function = MetricFunction(function) if _member(MetricFunction, function) \
            else function
        self.tag_names, self.tag_values = tag_names, tag_values

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Column:
        """A Column from its wire form."""
        return cls(data.get("name"), data.get("function"), data.get("metric_group"),
                   data.get("tag_names"), data.get("tag_values"))

    def __str__(self) -> str:
        if self.name == "timestamp":
            return self.name
        text = f"{self.function}({self.metric_group}.{self.name})"
        if self.tag_values:
            pairs = ",".join(f"{k}={v}" for k, v in zip(self.tag_names or [], self.tag_values))
            text += "{" + pairs + "}"
        return text

    def __repr__(self) -> str:
        return f"Column({self})"


class QueryMetricsResponse:
    """The answer of a query: ``columns`` and, per column, its values (``rows``)."""

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self.columns: list[Column] = []

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> QueryMetricsResponse:
        """A QueryMetricsResponse from the ``response.data`` of the query."""
        obj = cls()
        obj.rows = list(data.get("rows") or [])
        obj.columns = [Column.deserialize(c) for c in data.get("columns") or []]
        return obj

    def to_row_column_format(self) -> tuple[Iterator[tuple[Any, ...]], list[str]]:
        """Rows and column names as ``pandas.DataFrame(*...)`` takes them."""
        return zip(*self.rows), [str(c) for c in self.columns]


class _MetaRequest:
    def __init__(self, entity: Entity | str, entity_id: str, start_date: _dt.datetime,
                 end_date: _dt.datetime) -> None:
        if not _member(Entity, entity):
            raise InvalidParameterException("entity should be a member of Entity enum")
        if not isinstance(entity_id, str) or not entity_id:
            raise InvalidParameterException("entity_id non empty string")
        if not isinstance(start_date, _dt.datetime):
            raise InvalidParameterException("start_date should be a datetime object")
        if not isinstance(end_date, _dt.datetime):
            raise InvalidParameterException("end_date should be a datetime object")
        if start_date > end_date:
            raise InvalidParameterException("start_date must be less than end_date")
        ent = Entity(entity)
        if ent is Entity.ORGANIZATION and not _long_term(start_date):
            raise InvalidParameterException(
                "Entity.ORGANIZATION cannot be queried for start_date before 7 days from today")
        self.entity, self.entity_id = ent, entity_id
        self.start_date, self.end_date = start_date, end_date

    def params(self) -> dict[str, str]:
        """The query string ``start_date`` / ``end_date`` (ISO 8601)."""
        return {"start_date": self.start_date.isoformat(), "end_date": self.end_date.isoformat()}

    def to_dict(self) -> dict[str, Any]:
        """The request as a dict (dates in ISO 8601)."""
        return {"entity": self.entity, "entity_id": self.entity_id, **self.params()}


class ListMetricsRequest(_MetaRequest):
    """Which metrics exist for an entity between two dates."""


class ListTagKeysRequest(_MetaRequest):
    """Which tag keys exist for an entity between two dates."""


class ListTagValuesRequest(_MetaRequest):
    """Which values one tag has for an entity between two dates."""

    def __init__(self, entity: Entity | str, entity_id: str, tag: str,
                 start_date: _dt.datetime, end_date: _dt.datetime) -> None:
        if not isinstance(tag, str) or not tag:
            raise InvalidParameterException("tag non empty string")
        super().__init__(entity, entity_id, start_date, end_date)
        self.tag = tag


class Metric:
    """A metric group and its metric names (an answer of list_metrics)."""

    def __init__(self, metric_group: str | None = None,
                 metric_names: list[str] | None = None) -> None:
        self.metric_group, self.metric_names = metric_group, metric_names

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Metric:
        """A Metric from its wire form."""
        return cls(data.get("metric_group"), data.get("metric_names"))


class Tags:
    """A metric group and its tag keys (an answer of list_tag_keys)."""

    def __init__(self, metric_group: str | None = None, tags: list[str] | None = None) -> None:
        self.metric_group, self.tags = metric_group, tags

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Tags:
        """A Tags from its wire form."""
        return cls(data.get("metric_group"), data.get("tags"))
