"""ROSBag job definitions for provision configurations (camelCase on the wire, None dropped)."""

from __future__ import annotations

from typing import Any

from ._model import require_str
from .enums import _StrEnum, coerce_enum
from .errors import InvalidParameterException

DEFAULT_UPLOAD_RATE = 1048576


class ROSBagCompression(_StrEnum):
    """Bag compression."""

    LZ4 = "LZ4"
    BZ2 = "BZ2"


class ROSBagUploadTypes(_StrEnum):
    """When bags are uploaded."""

    ON_STOP = "OnStop"
    CONTINUOUS = "Continuous"
    ON_DEMAND = "OnDemand"


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _str_list(value: Any, what: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise InvalidParameterException(f"{what} must be a list of strings; got {value!r}")
    return value


class ROSBagTimeRange:
    """Upload the bags recorded between ``from_time`` and ``to_time`` (epoch seconds)."""

    def __init__(self, from_time: int, to_time: int) -> None:
        if from_time > to_time:
            raise InvalidParameterException('"from" time cannot be greater than the "to" time')
        self.from_time, self.to_time = from_time, to_time

    def serialize(self) -> dict[str, Any]:
        """Wire form."""
        return {"from": self.from_time, "to": self.to_time}


class ROSBagOnDemandUploadOptions:
    """Options of an OnDemand upload: the time range."""

    def __init__(self, time_range: ROSBagTimeRange) -> None:
        if not isinstance(time_range, ROSBagTimeRange):
            raise InvalidParameterException("time_range must be a ROSBagTimeRange")
        self.time_range = time_range

    def serialize(self) -> dict[str, Any]:
        """Wire form."""
        return {"timeRange": self.time_range.serialize()}


class UploadOptions:
    """How recorded bags are uploaded."""

    def __init__(
        self,
        max_upload_rate: int = DEFAULT_UPLOAD_RATE,
        purge_after: bool = False,
        upload_type: ROSBagUploadTypes | str = ROSBagUploadTypes.ON_DEMAND,
        on_demand_options: ROSBagOnDemandUploadOptions | None = None,
    ) -> None:
        if isinstance(max_upload_rate, bool) or not isinstance(max_upload_rate, int) \
                or max_upload_rate <= 0:
            raise InvalidParameterException(
                f"max_upload_rate must be a positive int; got {max_upload_rate!r}")
        if not isinstance(purge_after, bool):
            raise InvalidParameterException(f"purge_after must be a bool; got {purge_after!r}")
        self.upload_type = coerce_enum(ROSBagUploadTypes, upload_type, "upload_type")
        if on_demand_options is not None and not isinstance(
                on_demand_options, ROSBagOnDemandUploadOptions):
            raise InvalidParameterException(
                "on_demand_options must be a ROSBagOnDemandUploadOptions")
        self.max_upload_rate, self.purge_after = max_upload_rate, purge_after
        self.on_demand_options = on_demand_options

    def serialize(self) -> dict[str, Any]:
        """Wire form."""
        return _clean({
            "maxUploadRate": self.max_upload_rate, "purgeAfter": self.purge_after,
            "uploadType": self.upload_type.value,
            "onDemandOpts": self.on_demand_options.serialize() if self.on_demand_options else None,
        })


class TopicOverrideInfo:
    """Throttle (``record_frequency``) or latch one topic."""

    def __init__(self, topic_name: str, record_frequency: int | None = None,
                 latched: bool | None = None) -> None:
        require_str(topic_name, "topic_name")
        if record_frequency is not None and (
                not isinstance(record_frequency, int) or record_frequency < 0):
            raise InvalidParameterException("record_frequency must be a non-negative integer")
        if latched is not None and not isinstance(latched, bool):
            raise InvalidParameterException("latched must be a boolean")
        if latched and record_frequency:
            raise InvalidParameterException(
                f"topic {topic_name} can either be throttled or latched, not both")
        self.topic_name, self.record_frequency, self.latched = topic_name, record_frequency, latched

    def serialize(self) -> dict[str, Any]:
        """Wire form."""
        return _clean({"topicName": self.topic_name, "recordFrequency": self.record_frequency,
                       "latched": self.latched})


class OverrideOptions:
    """Per-topic overrides and excluded topics."""

    def __init__(self, topic_override_info: list[TopicOverrideInfo] | None = None,
                 exclude_topics: list[str] | None = None) -> None:
        infos = topic_override_info or []
        if not all(isinstance(i, TopicOverrideInfo) for i in infos):
            raise InvalidParameterException(
                "topic_override_info must be a list of TopicOverrideInfo")
        self.topic_override_info = infos
        self.exclude_topics = _str_list(exclude_topics, "exclude_topics")

    def serialize(self) -> dict[str, Any]:
        """Wire form."""
        return _clean({"topicOverrideInfo": [i.serialize() for i in self.topic_override_info],
                       "excludeTopics": self.exclude_topics})


class ROSBagOptions:
    """What to record (one of all_topics, topics, topic_include_regex, node is required)."""

    def __init__(
        self,
        all_topics: bool | None = None,
        topics: list[str] | None = None,
        topic_include_regex: list[str] | None = None,
        topic_exclude_regex: str | None = None,
        max_message_count: int | None = None,
        node: str | None = None,
        compression: ROSBagCompression | str | None = None,
        max_splits: int | None = None,
        max_split_size: int | None = None,
        chunk_size: int | None = None,
        max_split_duration: int | None = None,
    ) -> None:
        if all_topics is not None and not isinstance(all_topics, bool):
            raise InvalidParameterException("all_topics must be a bool")
        self.topics = _str_list(topics, "topics")
        self.topic_include_regex = _str_list(topic_include_regex, "topic_include_regex")
        if topic_exclude_regex is not None:
            require_str(topic_exclude_regex, "topic_exclude_regex")
        if node is not None:
            require_str(node, "node")
        self.compression = (coerce_enum(ROSBagCompression, compression, "compression")
                            if compression is not None else None)
        if max_splits is not None and not isinstance(max_splits, int):
            raise InvalidParameterException("max_splits must be an int")
        if not (all_topics or topics or topic_include_regex or node):
            raise InvalidParameterException(
                "One of all_topics, topics, topic_include_regex, and node must be provided")
        if max_split_duration is not None and max_split_duration <= 0:
            raise InvalidParameterException("max_split_duration must be positive")
        self.all_topics, self.topic_exclude_regex, self.node = all_topics, topic_exclude_regex, node
        self.max_message_count, self.max_splits = max_message_count, max_splits
        self.max_split_size, self.chunk_size = max_split_size, chunk_size
        self.max_split_duration = max_split_duration

    def serialize(self) -> dict[str, Any]:
        """Wire form."""
        return _clean({
            "allTopics": self.all_topics, "topics": self.topics,
            "topicIncludeRegex": self.topic_include_regex,
            "topicExcludeRegex": self.topic_exclude_regex,
            "maxMessageCount": self.max_message_count, "node": self.node,
            "compression": self.compression.value if self.compression else None,
            "maxSplits": self.max_splits, "maxSplitSize": self.max_split_size,
            "chunkSize": self.chunk_size, "maxSplitDuration": self.max_split_duration,
        })

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> ROSBagOptions:
        """From the manifest's camelCase ``recordOptions``."""
        return cls(
            all_topics=data.get("allTopics"), topics=data.get("topics"),
            topic_include_regex=data.get("topicIncludeRegex"),
            topic_exclude_regex=data.get("topicExcludeRegex"),
            max_message_count=data.get("maxMessageCount"), node=data.get("node"),
            compression=data.get("compression"), max_splits=data.get("maxSplits"),
            max_split_size=data.get("maxSplitSize"), chunk_size=data.get("chunkSize"),
            max_split_duration=data.get("maxSplitDuration"),
        )


class ROSBagJob:
    """A named rosbag recording attached to a component."""

    def __init__(self, name: str, rosbag_options: ROSBagOptions,
                 deployment_id: str | None = None, component_instance_id: str | None = None,
                 upload_options: UploadOptions | None = None,
                 override_options: OverrideOptions | None = None) -> None:
        require_str(name, "rosbag job name")
        if not isinstance(rosbag_options, ROSBagOptions):
            raise InvalidParameterException("rosbag_options must be a ROSBagOptions")
        if upload_options is not None and not isinstance(upload_options, UploadOptions):
            raise InvalidParameterException("upload_options must be an UploadOptions")
        if override_options is not None and not isinstance(override_options, OverrideOptions):
            raise InvalidParameterException("override_options must be an OverrideOptions")
        self.name, self.rosbag_options = name, rosbag_options
        self.deployment_id, self.component_instance_id = deployment_id, component_instance_id
        self.upload_options, self.override_options = upload_options, override_options

    def serialize(self) -> dict[str, Any]:
        """The ``ros_bag_job_defs`` entry."""
        job: dict[str, Any] = {"name": self.name, "recordOptions": self.rosbag_options.serialize()}
        if self.upload_options:
            job["uploadOptions"] = self.upload_options.serialize()
        if self.override_options:
            job["overrideOptions"] = self.override_options.serialize()
        return job

    @classmethod
    def from_definition(cls, job_def: dict[str, Any]) -> ROSBagJob:
        """From a manifest ``rosBagJobDefs`` entry."""
        upload = job_def.get("uploadOptions")
        override = job_def.get("overrideOptions")
        up = None
        if upload:
            up = UploadOptions(
                max_upload_rate=upload.get("maxUploadRate", DEFAULT_UPLOAD_RATE),
                purge_after=upload.get("purgeAfter", False),
                upload_type=upload.get("uploadType", ROSBagUploadTypes.ON_DEMAND))
        ov = None
        if override:
            ov = OverrideOptions(
                [TopicOverrideInfo(i["topicName"], i.get("recordFrequency"), i.get("latched"))
                 for i in override.get("topicOverrideInfo") or []],
                override.get("excludeTopics"))
        return cls(job_def["name"], ROSBagOptions.deserialize(job_def.get("recordOptions") or {}),
                   upload_options=up, override_options=ov)
