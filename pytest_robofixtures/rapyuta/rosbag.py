"""ROSBag jobs and blobs (catalog ``/rosbag-jobs``, ``/rosbag-blobs``; camelCase, None dropped).

Jobs are defined for provision configurations or created on a running deployment with
``client.create_rosbag_job``; the bags they record become :class:`ROSBagBlob` objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests

from ..common.polling import Backoff, PollTimeout, poll
from ._model import require_str
from .enums import _StrEnum, coerce_enum
from .errors import (
    APIError,
    BadRequestError,
    InvalidParameterException,
    RetriesExhausted,
    ROSBagBlobError,
)

if TYPE_CHECKING:
    from ._rest import Rest

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


class ROSBagJobStatus(_StrEnum):
    """States of a rosbag job."""

    STARTING = "Starting"
    RUNNING = "Running"
    ERROR = "Error"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


class ComponentType(_StrEnum):
    """Where the recorded component runs."""

    CLOUD = "Cloud"
    DEVICE = "Device"


class ROSBagBlobStatus(_StrEnum):
    """States of a recorded bag file."""

    STARTING = "Starting"
    UPLOADING = "Uploading"
    UPLOADED = "Uploaded"
    ERROR = "Error"


def _maybe_enum(enum_cls: Any, value: Any) -> Any:
    """The member whose value is ``value``, else ``value`` itself (the SDK's enum_field)."""
    for member in enum_cls:
        if value == member.value:
            return member
    return value


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
            raise BadRequestError('"from" time cannot be greater than the "to" time')
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
            raise BadRequestError(
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
    """A named rosbag recording of one component.

    For a provision configuration only ``name`` and the options matter; for
    ``client.create_rosbag_job`` also ``deployment_id`` and ``component_instance_id``. Jobs read
    from the server also carry ``guid``, ``status`` (:class:`ROSBagJobStatus`),
    ``component_id``, ``component_type``, ``device_id``, ``package_id``, ``project`` and
    ``creator``.
    """

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
        self.guid: str | None = None
        self.status: Any = None
        self.package_id = self.component_id = self.component_type = None
        self.device_id = self.project = self.creator = self.node = None
        self._rest: Rest | None = None

    def serialize(self) -> dict[str, Any]:
        """The wire form (a ``ros_bag_job_defs`` entry, plus the ids when set)."""
        job: dict[str, Any] = {}
        if self.component_instance_id is not None:
            job["componentInstanceID"] = self.component_instance_id
        if self.deployment_id is not None:
            job["deploymentID"] = self.deployment_id
        job.update({"name": self.name, "recordOptions": self.rosbag_options.serialize()})
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

    @classmethod
    def deserialize(cls, data: dict[str, Any], rest: Rest | None = None) -> ROSBagJob:
        """A job from a server answer (options taken as sent, without client-side checks)."""
        job = cls.__new__(cls)
        job._rest = rest
        job.guid = data.get("guid")
        job.component_instance_id = data.get("componentInstanceID")
        job.deployment_id = data.get("deploymentID")
        job.component_id = data.get("componentID")
        job.name = data.get("name")  # type: ignore[assignment]
        job.node = data.get("node")
        job.package_id = data.get("packageID")
        job.status = _maybe_enum(ROSBagJobStatus, data.get("status"))
        job.creator = data.get("creator")
        job.project = data.get("project")
        job.component_type = _maybe_enum(ComponentType, data.get("componentType"))
        job.device_id = data.get("deviceID")
        job.rosbag_options = _options_from_wire(data.get("recordOptions"))  # type: ignore
        job.upload_options = _upload_from_wire(data.get("uploadOptions"))
        job.override_options = _override_from_wire(data.get("overrideOptions"))
        return job

    def patch(self, upload_type: ROSBagUploadTypes | None = None,
              on_demand_options: ROSBagOnDemandUploadOptions | None = None) -> None:
        """Change how a device job uploads (``PATCH /rosbag-jobs/{dep}/job/{guid}``)."""
        if upload_type is not None and not isinstance(upload_type, ROSBagUploadTypes):
            raise InvalidParameterException("upload_type must be of the type ROSBagUploadTypes")
        if on_demand_options is not None and not isinstance(
                on_demand_options, ROSBagOnDemandUploadOptions):
            raise InvalidParameterException(
                "on_demand_options must be of the type ROSBagOnDemandUploadOptions")
        if self._rest is None or not self.guid:
            raise InvalidParameterException(
                "only a job read from the server can be patched (client.get_rosbag_job)")
        options: dict[str, Any] = {}
        if upload_type:
            options["uploadType"] = upload_type.value
        if on_demand_options:
            options["onDemandOpts"] = on_demand_options.serialize()
        self._rest.catalog("PATCH", f"/rosbag-jobs/{self.deployment_id}/job/{self.guid}",
                           json_body={"componentInstanceID": self.component_instance_id,
                                      "uploadOptions": options})


def _options_from_wire(data: Any) -> ROSBagOptions | None:
    if not isinstance(data, dict):
        return None
    opts = ROSBagOptions.__new__(ROSBagOptions)
    opts.all_topics, opts.topics = data.get("allTopics"), data.get("topics")
    opts.topic_include_regex = data.get("topicIncludeRegex")
    opts.topic_exclude_regex = data.get("topicExcludeRegex")
    opts.max_message_count, opts.node = data.get("maxMessageCount"), data.get("node")
    opts.compression = _maybe_enum(ROSBagCompression, data.get("compression"))
    opts.max_splits, opts.max_split_size = data.get("maxSplits"), data.get("maxSplitSize")
    opts.chunk_size, opts.max_split_duration = data.get("chunkSize"), data.get("maxSplitDuration")
    return opts


def _upload_from_wire(data: Any) -> UploadOptions | None:
    if not isinstance(data, dict):
        return None
    up = UploadOptions.__new__(UploadOptions)
    up.max_upload_rate = data.get("maxUploadRate")  # type: ignore[assignment]
    up.purge_after = data.get("purgeAfter")  # type: ignore[assignment]
    up.upload_type = _maybe_enum(ROSBagUploadTypes, data.get("uploadType"))
    up.on_demand_options = None
    rng = (data.get("onDemandOpts") or {}).get("timeRange")
    if isinstance(rng, dict):
        tr = ROSBagTimeRange.__new__(ROSBagTimeRange)
        tr.from_time, tr.to_time = rng.get("from"), rng.get("to")  # type: ignore[assignment]
        up.on_demand_options = ROSBagOnDemandUploadOptions(tr)
    return up


def _override_from_wire(data: Any) -> OverrideOptions | None:
    if not isinstance(data, dict):
        return None
    ov = OverrideOptions.__new__(OverrideOptions)
    infos = []
    for item in data.get("topicOverrideInfo") or []:
        info = TopicOverrideInfo.__new__(TopicOverrideInfo)
        info.topic_name = item.get("topicName")
        info.record_frequency, info.latched = item.get("recordFrequency"), item.get("latched")
        infos.append(info)
    ov.topic_override_info, ov.exclude_topics = infos, data.get("excludeTopics")
    return ov


class _Wire:
    """An object whose attributes are read from a wire dict by a ``{attr: key}`` map."""

    _FIELDS: dict[str, str] = {}

    @classmethod
    def deserialize(cls, data: dict[str, Any] | None) -> Any:
        """From a wire dict (None stays None)."""
        if not isinstance(data, dict):
            return None
        obj = cls.__new__(cls)
        for attr, key in cls._FIELDS.items():
            setattr(obj, attr, data.get(key))
        return obj


class MessageType(_Wire):
    """A message type recorded in a bag: ``message_type`` and ``md5``."""

    _FIELDS = {"message_type": "type", "md5": "md5"}


class TopicInfo(_Wire):
    """A recorded topic: ``name``, ``message_type``, ``message_count``, ``frequency``."""

    _FIELDS = {"name": "name", "message_type": "messageType", "message_count": "messageCount",
               "frequency": "frequency"}


class ROSBagInfo(_Wire):
    """What a bag holds: version, duration, times, sizes, message types and topics."""

    _FIELDS = {"bag_version": "bagVersion", "duration": "duration", "start_time": "startTime",
               "end_time": "endTime", "size": "size", "message_count": "messageCount",
               "compression": "compression", "uncompressed_size": "uncompressedSize",
               "compressed_size": "compressedSize"}

    @classmethod
    def deserialize(cls, data: dict[str, Any] | None) -> Any:
        """From a wire dict, with ``message_types`` and ``topics`` as objects."""
        obj = super().deserialize(data)
        if obj is not None and isinstance(data, dict):
            obj.message_types = [MessageType.deserialize(m) for m in data.get("messageTypes")
                                 or []]
            obj.topics = [TopicInfo.deserialize(t) for t in data.get("topics") or []]
        return obj


class ROSBagBlob:
    """A recorded bag file: ``guid``, ``filename``, ``job_id``, ``job``, ``status``, ``info``…."""

    ROSBAG_BLOBS_PATH = "rosbag-blobs"

    def __init__(self) -> None:
        self.guid: str | None = None
        self.filename: str | None = None
        self.job_id: str | None = None
        self.job: ROSBagJob | None = None
        self.blob_ref_id: Any = None
        self.status: Any = None
        self.info: Any = None
        self.error_message: str | None = None
        self.creator = self.project = self.component_type = self.device_id = None
        self.is_partial = True
        self._rest: Rest | None = None

    @classmethod
    def deserialize(cls, data: dict[str, Any], rest: Rest | None = None,
                    obj: ROSBagBlob | None = None) -> ROSBagBlob:
        """A blob from a server answer (into ``obj`` when given)."""
        blob = obj if obj is not None else cls()
        if rest is not None:
            blob._rest = rest
        blob.guid, blob.filename = data.get("guid"), data.get("filename")
        blob.job_id = data.get("jobID")
        job = data.get("job")
        blob.job = ROSBagJob.deserialize(job, blob._rest) if isinstance(job, dict) else None
        blob.blob_ref_id = data.get("blobRefID")
        blob.status = _maybe_enum(ROSBagBlobStatus, data.get("status"))
        blob.info = ROSBagInfo.deserialize(data.get("info"))
        blob.error_message = data.get("errorMessage")
        blob.creator, blob.project = data.get("creator"), data.get("project")
        blob.component_type = _maybe_enum(ComponentType, data.get("componentType"))
        blob.device_id = data.get("deviceID")
        return blob

    def _client(self) -> Rest:
        if self._rest is None or not self.guid:
            raise InvalidParameterException(
                "only a blob read from the server can be used (client.list_rosbag_blobs)")
        return self._rest

    def delete(self) -> requests.Response:
        """Delete the bag (``DELETE /rosbag-blobs/{guid}``); the HTTP response (errors raise)."""
        rest = self._client()
        return rest.request("DELETE", f"{rest.catalog_host}/{self.ROSBAG_BLOBS_PATH}/{self.guid}")

    def retry_upload(self) -> None:
        """Upload a device blob that ended in Error again (``POST …/retry``)."""
        if self.component_type != ComponentType.DEVICE:
            raise InvalidParameterException("retry_upload not supported for Cloud ROSBagBlobs")
        if self.status != ROSBagBlobStatus.ERROR:
            raise InvalidParameterException("ROSBagBlob does not have Error status")
        body = self._client().catalog("POST", f"/{self.ROSBAG_BLOBS_PATH}/{self.guid}/retry")
        self.status = _maybe_enum(ROSBagBlobStatus, (body or {}).get("status"))

    def refresh(self) -> ROSBagBlob:
        """Fetch the blob again and update this object."""
        body = self._client().catalog("GET", f"/{self.ROSBAG_BLOBS_PATH}/{self.guid}")
        if not isinstance(body, dict):
            raise APIError(f"GET /{self.ROSBAG_BLOBS_PATH}/{self.guid}: expected an object, "
                           f"got {str(body)[:200]}")
        ROSBagBlob.deserialize(body, obj=self)
        self.is_partial = False
        return self

    def is_ready(self) -> bool:
        """Uploaded: True; still Starting/Uploading: False; Error: ROSBagBlobError."""
        if self.status == ROSBagBlobStatus.ERROR:
            raise ROSBagBlobError(self.error_message or None)
        return bool(self.status == ROSBagBlobStatus.UPLOADED)

    def poll_till_ready(self, retry_count: int = 240, sleep_interval: float = 5, *,
                        timeout: float | None = None) -> None:
        """Wait until Uploaded (adaptive; ``retry_count * sleep_interval`` is the timeout).

        Raises ROSBagBlobError if the upload fails, RetriesExhausted on timeout.
        """
        if not isinstance(retry_count, int) or retry_count <= 0:
            raise InvalidParameterException(f"retry_count must be a positive int; got "
                                            f"{retry_count!r}")
        if not isinstance(sleep_interval, (int, float)) or sleep_interval < 0:
            raise InvalidParameterException(f"sleep_interval must be >= 0; got {sleep_interval!r}")
        limit = float(timeout) if timeout is not None else float(retry_count * sleep_interval)
        cap = max(float(sleep_interval), 0.01)
        try:
            poll(self.refresh, lambda b: b.is_ready(), timeout=limit,
                 what=f"rosbag blob {self.filename!r} ({self.guid})",
                 describe=lambda b: f"status={b.status}", clock=self._client().clock,
                 backoff=Backoff(initial=min(0.05, cap), factor=1.6, cap=cap))
        except PollTimeout as exc:
            raise RetriesExhausted(
                f"Retries exhausted: waited {exc.elapsed:.1f}s ({exc.polls} polls) for rosbag "
                f"blob {self.guid} to be uploaded; last status {self.status}",
                last_status=self.status) from None
