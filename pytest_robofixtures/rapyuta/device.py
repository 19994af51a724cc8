"""Devices (core host, ``/api/device-manager/v0/``): config, labels, commands, topics, logs."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests

from ..common.clock import Clock
from ..common.http import DEFAULT_TIMEOUT
from ..common.polling import Backoff, PollTimeout, poll
from ._model import ObjDict, require_str
from ._rest import raise_for_status
from .device_models import (
    Command,
    DeviceConfig,
    Label,
    LogsUploadRequest,
    LogUploads,
    LogUploadStatus,
    Metric,
    SharedURL,
    TopicsStatus,
)
from .enums import (
    DeploymentPhaseConstants,
    DevicePythonVersion,
    DeviceRuntime,
    DeviceStatus,
    QoS,
    ROSDistro,
    SystemMetric,
    TopicKind,
    coerce_enum,
)
from .errors import (
    APIError,
    CommandException,
    ConfigNotFoundException,
    DeploymentRunningException,
    DeviceNotFoundException,
    InvalidCommandException,
    InvalidParameterException,
    LabelNotFoundException,
    LogsUUIDNotFoundException,
    OperationNotAllowedError,
    ParameterMissingException,
    RetriesExhausted,
    UnknownTopicStatusException,
)

if TYPE_CHECKING:
    from ._rest import Rest

_DEVICE_ERRORS: dict[int, type[Exception]] = {400: ParameterMissingException,
                                              404: DeviceNotFoundException}
DEFAULT_CONFIG_KEYS = frozenset({"runtime", "ros_workspace", "ros_distro", "rosbag_mount_path",
                                 "runtime_docker", "runtime_preinstalled"})
LOG_SORT_FIELDS = ("status", "filename", "created_at", "updated_at", "total_size")
_LOGS_404 = {404: LogsUUIDNotFoundException}


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _json_or(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


class OnboardScript:
    """The agent install script of a device: ``run()`` downloads and runs it.

    ``full_command()`` is the one-line shell command that does both.
    """

    def __init__(self, token: str, url: str, command: str,
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        self.token = token
        self.url = url
        self.command = command
        self._timeout = timeout

    def run(self) -> None:
        """Download the script to ``./start`` and run ``command``; CommandException if it fails."""
        try:
            response = requests.get(self.url, headers={"Authorization": f"Bearer {self.token}"},
                                    timeout=self._timeout)
        except requests.RequestException as exc:
            raise APIError(f"GET {self.url} failed: {exc}", method="GET", path="/start") from exc
        raise_for_status(response)
        with open("start", "w", encoding="utf-8") as f:
            f.write(response.text)
        code = subprocess.call(self.command.split())  # noqa: S603 (the platform's own command)
        if code != 0:
            raise CommandException(f"Command {self.command} returned with non-zero exit code "
                                   f"{code}")

    def full_command(self) -> str:
        """The shell command that downloads and runs the script."""
        return (f"curl -O -H 'Authorization: Bearer {self.token}' {self.url} && "
                f"{self.command}")


class Device(ObjDict):
    """A device; its keys are the server's fields (uuid, name, status, ip_interfaces, …).

    ``Device(name, runtime=…, ros_distro=…, …)`` describes a device to register with
    ``client.create_device()``, as in the SDK; clients return devices built from the server's
    answer.
    """

    DOCKER_COMPOSE = DeviceRuntime.DOCKER.value
    PRE_INSTALLED = DeviceRuntime.PREINSTALLED.value

    def __init__(
        self,
        name: str,
        runtime: DeviceRuntime | str | None = None,
        runtime_docker: bool = False,
        runtime_preinstalled: bool = False,
        ros_distro: ROSDistro | str | None = None,
        rosbag_mount_path: str | None = None,
        ros_workspace: str | None = None,
        description: str | None = None,
        python_version: DevicePythonVersion | str = DevicePythonVersion.PYTHON2,
        config_variables: dict[str, Any] | None = None,
        labels: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self._rest: Rest | None = None
        require_str(name, "name")
        rt = coerce_enum(DeviceRuntime, runtime, "runtime") if runtime is not None else None
        for what, flag in (("runtime_docker", runtime_docker),
                           ("runtime_preinstalled", runtime_preinstalled)):
            if not isinstance(flag, bool):
                raise InvalidParameterException(f"{what} must be a boolean; got {flag!r}")
        version = coerce_enum(DevicePythonVersion, python_version, "python_version")
        distro = coerce_enum(ROSDistro, ros_distro, "ros_distro") if ros_distro else None
        if rt is not None:  # runtime wins over the two flags, as in the SDK
            runtime_docker, runtime_preinstalled = (rt is DeviceRuntime.DOCKER,
                                                    rt is DeviceRuntime.PREINSTALLED)
        if runtime_preinstalled and distro is ROSDistro.NOETIC:
            raise InvalidParameterException(
                "preinstalled runtime does not support noetic ros_distro yet")
        if distro is ROSDistro.NOETIC and version is DevicePythonVersion.PYTHON2:
            raise InvalidParameterException("noetic ros_distro not supported on python_version 2")
        for what, value in (("rosbag_mount_path", rosbag_mount_path),
                            ("ros_workspace", ros_workspace), ("description", description)):
            if value is not None and not isinstance(value, str):
                raise InvalidParameterException(f"{what} must be of type string; got {value!r}")
        self._runtime_docker, self._runtime_preinstalled = runtime_docker, runtime_preinstalled
        self._ros_distro = distro.value if distro else None
        self._rosbag_mount_path, self._ros_workspace = rosbag_mount_path, ros_workspace
        self.name = name
        self.description = description
        self.python_version = version
        self.config_variables = dict(config_variables or {})
        self.labels = dict(labels or {})
        self.is_partial = False

    @classmethod
    def from_api(cls, data: dict[str, Any], rest: Rest, *, partial: bool = False) -> Device:
        """A Device as the server describes it, bound to ``rest`` for its calls."""
        obj = cls.__new__(cls)
        ObjDict.__init__(obj)
        obj._rest = rest
        obj._absorb(data)
        obj.is_partial = partial
        return obj

    def _serialize(self) -> dict[str, Any]:
        """The ``POST auth-keys/?download_type=script`` body of a device to register."""
        body: dict[str, Any] = {"name": self.get("name"),
                                "python_version": str(self.get("python_version")),
                                "config_variables": {}}
        if self.get("description"):
            body["description"] = self["description"]
        for key in ("runtime_docker", "runtime_preinstalled", "ros_distro", "rosbag_mount_path",
                    "ros_workspace"):
            value = getattr(self, f"_{key}", None)
            if value:
                body["config_variables"][key] = value
        extra = self.get("config_variables")
        if isinstance(extra, dict):
            body["config_variables"].update(extra)
        body["labels"] = dict(self.get("labels") or {}) if isinstance(
            self.get("labels"), dict) else {}
        return body

    def _require_rest(self) -> Rest:
        """The session of the client that fetched this device (a local Device has none)."""
        if self._rest is None:
            raise InvalidParameterException(
                f"device {self.get('name')!r} is not registered yet: pass it to "
                "client.create_device() and use the Device that returns")
        return self._rest

    @property
    def _api(self) -> Rest:
        return self._require_rest()

    def _absorb(self, data: dict[str, Any]) -> None:
        self.update(data)
        self["deviceId"] = data.get("uuid", self.get("deviceId"))
        if data.get("device_version") in ("2", "3"):
            self["python_version"] = DevicePythonVersion(data["device_version"])
        self["config_variables"] = [DeviceConfig(c) for c in data.get("config_variables") or []]
        self["labels"] = [Label(c) for c in data.get("labels") or []]
        self["deployments"] = [ObjDict(d) for d in data.get("deployments") or []]

    @property
    def _uuid(self) -> str:
        self._require_rest()
        return require_str(self.get("uuid"), "device uuid")

    def _dm(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._api.dm(method, path, **kwargs)

    # -- registration, onboarding, upgrade --------------------------------------------------
    def save(self, retry_limit: int = 0) -> bool:
        """Send the device's name, status and description (``PUT devices/``, the whole device)."""
        self["device_id"] = self._uuid
        body = json.loads(json.dumps(dict(self), default=str))
        self._api.dm_raw("PUT", "devices/", json_body=body, overrides=_DEVICE_ERRORS)
        return True

    def accept_device(self, retry_limit: int = 0) -> bool:
        """Set the status ACCEPTED and save."""
        self["status"] = DeviceStatus.ACCEPTED.value
        return self.save(retry_limit)

    def reject_device(self, retry_limit: int = 0) -> bool:
        """Set the status REJECTED and save."""
        self["status"] = DeviceStatus.REJECTED.value
        return self.save(retry_limit)

    def onboard_script(self) -> OnboardScript:
        """The agent install script (``GET auth-keys/{deviceId}/token``)."""
        uuid = require_str(self.get("deviceId") or self.get("uuid"), "deviceId")
        body = self._api.dm_raw("GET", f"auth-keys/{uuid}/token",
                                overrides={404: DeviceNotFoundException})
        try:
            token, command = body["response"]["data"], body["response"]["script_command"]
        except (TypeError, KeyError) as exc:
            raise APIError(f"GET auth-keys/{uuid}/token: no token or script_command in "
                           f"{str(body)[:200]}") from exc
        return OnboardScript(str(token), f"{self._api.core_api_host}/start", str(command),
                             timeout=self._api.session.timeout)

    def upgrade(self) -> None:
        """Upgrade the agent from python 2 to 3 (``PUT devices/{uuid}/upgrade``).

        DeploymentRunningException while a deployment runs on the device (checked on the last
        fetched ``deployments`` first, then by the server's 400).
        """
        for dep in self.get("deployments") or []:
            if str(dep.get("phase", "")).lower() == DeploymentPhaseConstants.SUCCEEDED.lower():
                raise DeploymentRunningException(
                    f"Cannot upgrade device. Deployment {dep.get('deployment_id')} is running "
                    "on the device")
        self._dm("PUT", f"devices/{self._uuid}/upgrade",
                 overrides={400: DeploymentRunningException, 404: DeviceNotFoundException})

    # -- the device itself ------------------------------------------------------------------
    def refresh(self, retry_limit: int = 0) -> Device:
        """Fetch the device again and update this object."""
        self._absorb(self._dm("GET", f"devices/{self._uuid}"))
        self.is_partial = False
        return self

    def is_online(self) -> bool:
        """Whether the last fetched status is ONLINE."""
        return self.get("status") == "ONLINE"

    def delete(self, retry_limit: int = 0) -> bool:
        """Delete the device (refused while a deployment on it has phase Succeeded)."""
        for dep in self.get("deployments") or []:
            if str(dep.get("phase", "")).lower() == "succeeded":
                raise DeploymentRunningException(
                    f"device {self.get('name')!r} runs deployment "
                    f"{dep.get('io_deployment_id') or dep.get('deployment_id')}; "
                    "deprovision it first")
        ok = self._api.dm_ok("DELETE", f"devices/{self._uuid}",
                              overrides={400: DeploymentRunningException})
        if ok:
            self.clear()
        return ok

    def get_deployments(self) -> list[ObjDict]:
        """Partial deployments on the device (phase, io_deployment_id…); sets ``deployments``."""
        data = self._dm("GET", f"devices/{self._uuid}", overrides={404: DeviceNotFoundException})
        self["deployments"] = [ObjDict(d) for d in (data or {}).get("deployments") or []]
        return list(self["deployments"])

    # -- runtime and config variables -------------------------------------------------------
    def _config_value(self, key: str) -> Any:
        for cfg in self.get("config_variables") or []:
            if cfg.get("key") == key:
                return cfg.get("value")
        return None

    def get_runtime(self) -> str | None:
        """The ``runtime`` config variable (dockercompose/preinstalled), if any."""
        value = self._config_value("runtime")
        return str(value) if value is not None else None

    def is_docker_enabled(self) -> bool:
        """Whether the device runs docker-compose executables."""
        return self.get_runtime() == self.DOCKER_COMPOSE or _truthy(
            self._config_value("runtime_docker"))

    def is_preinstalled_enabled(self) -> bool:
        """Whether the device runs preinstalled executables."""
        return self.get_runtime() == self.PRE_INSTALLED or _truthy(
            self._config_value("runtime_preinstalled"))

    def get_config_variables(self) -> list[DeviceConfig]:
        """The device's configuration variables; replaces ``config_variables``."""
        data = self._dm("GET", f"config_variables/device/{self._uuid}")
        self["config_variables"] = [DeviceConfig(c) for c in data or []]
        return list(self["config_variables"])

    def add_config_variable(self, key: str, value: str) -> DeviceConfig:
        """Add a configuration variable."""
        if not key or not value:
            raise ParameterMissingException(
                f"key and value are required for a config variable; got {key!r}={value!r}")
        data = self._dm("POST", f"config_variables/device/{self._uuid}",
                        json_body={"key": key, "value": value},
                        overrides={400: ParameterMissingException})
        cfg = DeviceConfig(data or {})
        self.setdefault("config_variables", []).append(cfg)
        return cfg

    def update_config_variable(self, config: DeviceConfig) -> DeviceConfig:
        """Update a configuration variable (``config`` from get_config_variables, edited)."""
        for name in ("id", "key", "value"):
            if not isinstance(config, dict) or config.get(name) in (None, ""):
                raise ParameterMissingException(f"parameter {name} is missing")
        if config["key"] == "runtime":
            raise OperationNotAllowedError("the runtime config variable cannot be updated")
        body = {"id": config["id"], "key": config["key"], "value": config["value"]}
        data = self._dm("PUT", f"config_variables/{config['id']}", json_body=body,
                        overrides={400: ParameterMissingException})
        if isinstance(data, dict):
            config.update({k: v for k, v in data.items() if k in ("id", "key", "value")})
        for local in self.get("config_variables") or []:
            if local.get("id") == config["id"]:
                local.update(body)
        return config

    def delete_config_variable(self, config_id: int | str, retry_limit: int = 0) -> bool:
        """Delete a configuration variable (not one of the default keys)."""
        for cfg in self.get("config_variables") or []:
            if cfg.get("id") == config_id and cfg.get("key") in DEFAULT_CONFIG_KEYS:
                raise OperationNotAllowedError(
                    f"the default config variable {cfg.get('key')!r} cannot be deleted")
        ok = self._api.dm_ok("DELETE", f"config_variables/{config_id}",
                              overrides={404: ConfigNotFoundException})
        if ok:
            self["config_variables"] = [c for c in self.get("config_variables") or []
                                        if c.get("id") != config_id]
        return ok

    # -- labels -----------------------------------------------------------------------------
    def get_labels(self) -> list[Label]:
        """The device's labels."""
        data = self._dm("GET", f"labels/{self._uuid}", overrides={404: DeviceNotFoundException})
        self["labels"] = [Label(lb) for lb in data or []]
        return list(self["labels"])

    def add_label(self, key: str, value: str, retry_limit: int = 0) -> Label:
        """Add a label."""
        if not key or not value:
            raise ParameterMissingException(
                f"key and value are required for a label; got {key!r}={value!r}")
        data = self._dm("POST", f"labels/{self._uuid}", json_body={key: value},
                        overrides={400: ParameterMissingException})
        item = data[0] if isinstance(data, list) and data else data
        label = Label(item or {"key": key, "value": value})
        self.setdefault("labels", []).append(label)
        return label

    def update_label(self, label: Label, retry_limit: int = 0) -> Label:
        """Update a label (``label`` from get_labels, edited)."""
        for name in ("id", "key", "value"):
            if not isinstance(label, dict) or label.get(name) in (None, ""):
                raise ParameterMissingException(f"parameter {name} is missing")
        body = {"id": label["id"], "key": label["key"], "value": label["value"]}
        self._api.dm_raw("PUT", f"labels/{label['id']}", json_body=body,
                          overrides={404: LabelNotFoundException})
        return label

    def delete_label(self, label_id: int | str, retry_limit: int = 0) -> bool:
        """Delete a label."""
        return self._api.dm_ok("DELETE", f"labels/{label_id}",
                                overrides={404: LabelNotFoundException})

    # -- commands ---------------------------------------------------------------------------
    def execute_command(self, command: Command, retry_limit: int = 0) -> Any:
        """Run ``command`` on the device; returns its output."""
        if not isinstance(command, Command):
            raise InvalidCommandException(f"command must be a Command; got {command!r}")
        command.validate()
        data = self._dm("POST", "cmd/", json_body=command.to_payload(self._uuid),
                        overrides={400: ParameterMissingException})
        if not isinstance(data, dict) or self._uuid not in data:
            raise APIError(f"POST cmd/: no output for device {self._uuid} in {str(data)[:200]}")
        return data[self._uuid]

    def wait_for_command_output(
        self,
        command: Command,
        predicate: Callable[[Any], bool],
        timeout: float,
        clock: Clock | None = None,
        *,
        backoff: Backoff | None = None,
    ) -> Any:
        """Re-run ``command`` until ``predicate(output)``; RetriesExhausted past ``timeout``."""
        if not callable(predicate):
            raise InvalidParameterException("predicate must be a callable taking the output")
        try:
            result = poll(
                lambda: self.execute_command(command), predicate, timeout=timeout,
                what=f"output of {command.cmd!r} on device {self.get('name')!r} to match",
                describe=lambda out: repr(out)[:200], clock=clock or self._api.clock,
                backoff=backoff or Backoff(initial=0.05, factor=1.6, cap=2.0),
            )
        except PollTimeout as exc:
            raise RetriesExhausted(str(exc), last_status=exc.last) from None
        return result.value

    # -- topics and metrics -----------------------------------------------------------------
    def topics(self, retry_limit: int = 0) -> list[str]:
        """Topics available on the device."""
        data = self._dm("GET", f"topics/{self._uuid}")
        if isinstance(data, list) and len(data) > 1:
            inner = _json_or(data[1])
            if isinstance(inner, dict) and isinstance(inner.get("topics"), list):
                return list(inner["topics"])
        return []

    def topic_status(self, retry_limit: int = 0) -> TopicsStatus:
        """Subscribed and unsubscribed topics."""
        data = self._dm("GET", f"topics/{self._uuid}/status")
        inner = _json_or(data[1]) if isinstance(data, list) and len(data) > 1 else None
        if not data or not isinstance(inner, dict):
            raise UnknownTopicStatusException(f"No topics were found on device {self._uuid}")
        status = TopicsStatus(inner.get("topics") or {})
        status["master_up"] = inner.get("master_up")
        return status

    def subscribe_topic(
        self,
        topic: str,
        qos: int = 0,
        kind: TopicKind | str = TopicKind.METRIC,
        whitelist_tag: list[str] | None = None,
        whitelist_field: list[str] | None = None,
        fail_on_topic_inexistence: bool = True,
        retry_limit: int = 0,
    ) -> dict[str, Any]:
        """Subscribe ``topic`` as a metric or a log."""
        require_str(topic, "topic")
        qos_value = coerce_enum(QoS, qos, "qos").value
        kind_value = coerce_enum(TopicKind, kind, "kind").value.lower()
        if fail_on_topic_inexistence and topic not in self.topics():
            return {"subscribed_error": [{topic: f"Unknown topic type: {topic}"}]}
        body = {"topics": [{"name": topic, "config": {
            "qos": qos_value, "whitelist_tag": whitelist_tag or [],
            "whitelist_field": whitelist_field or []}}], "kind": kind_value}
        data = self._dm("POST", f"topics/{self._uuid}/subscribe", json_body=body)
        return self._sub_result(data, "subscribed")

    def unsubscribe_topic(self, topic: str, kind: TopicKind | str = TopicKind.METRIC,
                          retry_limit: int = 0) -> dict[str, Any]:
        """Unsubscribe ``topic``."""
        require_str(topic, "topic")
        kind_value = coerce_enum(TopicKind, kind, "kind").value.lower()
        data = self._dm("POST", f"topics/{self._uuid}/unsubscribed",
                        json_body={"topics": [topic], "kind": kind_value})
        return self._sub_result(data, "unsubscribed")

    @staticmethod
    def _sub_result(data: Any, prefix: str) -> dict[str, Any]:
        inner = _json_or(data[1]) if isinstance(data, list) and len(data) > 1 else _json_or(data)
        if not isinstance(inner, dict):
            raise APIError(f"unexpected {prefix} answer: {str(data)[:200]}")
        if inner.get(f"{prefix}_success"):
            return {f"{prefix}_success": inner[f"{prefix}_success"]}
        return {f"{prefix}_error": inner.get(f"{prefix}_error") or []}

    def metrics(self, retry_limit: int = 0) -> list[Metric]:
        """Metric subscriptions (deprecated in the SDK)."""
        return [Metric(m) for m in self._dm("GET", f"metrics/{self._uuid}") or []]

    def subscribe_metric(self, metric: SystemMetric | str, qos: QoS | int = QoS.LOW,
                         retry_limit: int = 0) -> bool:
        """Subscribe a system metric."""
        m = coerce_enum(SystemMetric, metric, "metric")
        q = coerce_enum(QoS, qos, "qos")
        return self._api.dm_ok("POST", f"metrics/{self._uuid}",
                                json_body={"name": m.value, "config": {"qos": int(q.value)}})

    def unsubscribe_metric(self, metric: SystemMetric | str, retry_limit: int = 0) -> bool:
        """Unsubscribe a system metric."""
        m = coerce_enum(SystemMetric, metric, "metric")
        return self._api.dm_ok("DELETE", f"metrics/{self._uuid}/{m.value}")

    # -- log files --------------------------------------------------------------------------
    def upload_log_file(self, upload_request: LogsUploadRequest, retry_limit: int = 0) -> str:
        """Start uploading a file from the device; returns the request uuid."""
        if not isinstance(upload_request, LogsUploadRequest):
            raise InvalidParameterException("upload_request must be a LogsUploadRequest")
        data = self._dm("POST", f"logs/{self._uuid}/upload", json_body=upload_request.to_payload())
        return str((data or {}).get("request_uuid"))

    def get_log_upload_status(self, request_uuid: str, retry_limit: int = 0) -> LogUploadStatus:
        """The state of an upload request."""
        require_str(request_uuid, "request_uuid")
        data = self._dm("GET", f"logs/{self._uuid}/status/{request_uuid}", overrides=_LOGS_404)
        status = LogUploadStatus(data or {})
        if status.get("shared_urls"):
            status["shared_urls"] = [SharedURL.from_api(s, self._api.core_api_host)
                                     for s in status["shared_urls"]]
        return status

    def list_uploaded_files_for_device(
        self,
        retry_limit: int = 0,
        sort: str | None = None,
        reverse: bool = False,
        paginate: bool = False,
        page_size: int = 10,
        page_number: int = 1,
        filter_by_filename: str | None = None,
        filter_by_status: list[str] | None = None,
    ) -> list[LogUploads]:
        """Uploaded files, optionally sorted, paginated and filtered server-side."""
        params: dict[str, str] = {}
        if sort is not None:
            if sort not in LOG_SORT_FIELDS:
                raise InvalidParameterException(
                    f"sort must be one of {list(LOG_SORT_FIELDS)}; got {sort!r}")
            params["sort"] = ("-" if reverse else "") + sort
        if paginate:
            params["page"] = json.dumps({"size": page_size, "number": page_number})
        clauses: list[Any] = []
        if filter_by_filename:
            clauses.append({"filename": {"like": f"%{filter_by_filename}%"}})
        if filter_by_status:
            clauses.append({"or": [{"status": s} for s in filter_by_status]})
        if clauses:
            params["filter"] = json.dumps({"and": clauses})
        data = self._dm("GET", f"logs/{self._uuid}/list", params=params or None)
        return [LogUploads(item) for item in data or []]

    def download_log_file(self, request_uuid: str, retry_limit: int = 0) -> str:
        """A signed URL of the uploaded file."""
        require_str(request_uuid, "request_uuid")
        data = self._dm("GET", f"logs/{self._uuid}/{request_uuid}", overrides=_LOGS_404)
        return str((data or {}).get("signed_url"))

    def cancel_log_file_upload(self, request_uuid: str, retry_limit: int = 0) -> bool:
        """Cancel an upload in progress."""
        require_str(request_uuid, "request_uuid")
        data = self._dm("PUT", f"logs/{self._uuid}/{request_uuid}/cancel", overrides=_LOGS_404)
        return _truthy((data or {}).get("success"))

    def delete_uploaded_log_file(self, request_uuid: str, retry_limit: int = 0) -> bool:
        """Delete an uploaded file from cloud storage."""
        require_str(request_uuid, "request_uuid")
        data = self._dm("DELETE", f"logs/{self._uuid}/{request_uuid}", overrides=_LOGS_404)
        return _truthy((data or {}).get("success"))

    def create_shared_url(self, shared_url: SharedURL) -> SharedURL:
        """Create a public download URL for an uploaded file."""
        if not isinstance(shared_url, SharedURL):
            raise InvalidParameterException("shared_url must be a SharedURL")
        body = {"expiry_time": shared_url.expiry_time.timestamp()}
        data = self._dm("POST", f"logs/{shared_url.request_uuid}/shared_urls", json_body=body,
                        overrides=_LOGS_404)
        return SharedURL.from_api({**(data or {}), "request_uuid": shared_url.request_uuid},
                                  self._api.core_api_host)
