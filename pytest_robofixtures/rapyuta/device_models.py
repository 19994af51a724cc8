"""Value objects of the device manager: commands, config variables, labels, logs, topics."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from ._model import ObjDict, drop_empty, require_str
from .errors import InvalidCommandException, InvalidParameterException

_ENV_KEY = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*$")
DEFAULT_LOG_UPLOAD_RATE = 1048576


class Command:
    """A shell command to run on a device."""

    def __init__(
        self,
        cmd: str,
        shell: str | None = None,
        env: dict[str, str] | None = None,
        bg: bool = False,
        runas: str | None = None,
        pwd: str | None = None,
        cwd: str | None = None,
    ) -> None:
        self.cmd = cmd
        self.shell = shell
        self.env = env if env is not None else {}
        self.bg = bg
        self.runas = runas
        self.cwd = cwd if cwd is not None else pwd
        self.validate()

    @property
    def pwd(self) -> str | None:
        """Deprecated alias of ``cwd``."""
        return self.cwd

    def validate(self) -> None:
        """Raise InvalidCommandException naming the bad field."""
        if not isinstance(self.cmd, str) or not self.cmd.strip():
            raise InvalidCommandException(f"cmd must be a non-empty string; got {self.cmd!r}")
        for name in ("shell", "runas", "cwd"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidCommandException(f"{name} must be a string or None; got {value!r}")
        if not isinstance(self.bg, bool):
            raise InvalidCommandException(f"bg must be a bool; got {self.bg!r}")
        if not isinstance(self.env, dict):
            raise InvalidCommandException(f"env must be a dict; got {self.env!r}")
        for key in self.env:
            if not isinstance(key, str) or not _ENV_KEY.match(key):
                raise InvalidCommandException(
                    f"env key {key!r} is not a valid environment variable name "
                    "([a-zA-Z_][a-zA-Z0-9_]*)")

    def to_payload(self, device_id: str) -> dict[str, Any]:
        """The ``POST cmd/`` body for ``device_id`` (None and '' dropped)."""
        body = drop_empty({"cmd": self.cmd, "shell": self.shell, "env": self.env, "bg": self.bg,
                           "runas": self.runas, "cwd": self.cwd})
        body["device_ids"] = [device_id]
        return body

    def __repr__(self) -> str:
        return f"Command(cmd={self.cmd!r}, shell={self.shell!r}, bg={self.bg!r})"


class DeviceConfig(ObjDict):
    """A device configuration variable: id, key, value."""


class Label(ObjDict):
    """A device label: id, key, value."""


class Metric(ObjDict):
    """A metric subscription: name, kind, config, status."""


class TopicsStatus(ObjDict):
    """Subscribed/Unsubscribed topics of a device, and ``master_up``."""


class LogUploads(ObjDict):
    """One uploaded (or uploading) log file."""


def _parse_time(value: Any) -> Any:
    """An RFC 3339 / ISO 8601 timestamp as an aware datetime (other values unchanged)."""
    if isinstance(value, str) and value:
        try:
            return _dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


class SharedURL(ObjDict):
    """A public URL to download an uploaded log file until ``expiry_time``."""

    def __init__(self, request_uuid: str, expiry_time: _dt.datetime, **fields: Any) -> None:
        super().__init__(fields)
        require_str(request_uuid, "request_uuid")
        if not isinstance(expiry_time, _dt.datetime):
            raise InvalidParameterException(
                f"expiry_time must be a datetime.datetime; got {expiry_time!r}")
        self.request_uuid = request_uuid
        self.expiry_time = expiry_time
        self._host: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any], host: str) -> SharedURL:
        """A SharedURL as the server describes it; ``expiry_time`` parsed to a datetime."""
        obj = cls.__new__(cls)
        ObjDict.__init__(obj, data)
        obj._host = host
        obj.expiry_time = _parse_time(data.get("expiry_time"))
        return obj

    @property
    def url(self) -> str:
        """The public URL (only once the SharedURL was created)."""
        if not self.get("url_uuid") or not self._host:
            raise InvalidParameterException(
                "the SharedURL is not created yet: pass it to device.create_shared_url() first")
        return f"{self._host}/logs/sharedurl/{self['url_uuid']}"


class LogUploadStatus(ObjDict):
    """The state of a log upload request (``status``, ``filename``, ``shared_urls``…)."""


class LogsUploadRequest:
    """A request to upload a file from the device to cloud storage."""

    def __init__(
        self,
        device_path: str,
        file_name: str = "",
        max_upload_rate: int = DEFAULT_LOG_UPLOAD_RATE,
        override: bool = False,
        purge_after: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(device_path, str) or not device_path:
            raise InvalidParameterException(
                f"file must be valid: device_path must be a non-empty path; got {device_path!r}")
        if isinstance(max_upload_rate, bool) or not isinstance(max_upload_rate, int) \
                or max_upload_rate <= 0:
            raise InvalidParameterException(
                f"max_upload_rate must be a positive int; got {max_upload_rate!r}")
        self.device_path, self.file_name = device_path, file_name
        self.max_upload_rate = max_upload_rate
        self.override, self.purge_after = override, purge_after
        self.metadata = metadata or {}

    def to_payload(self) -> dict[str, Any]:
        """The upload body (None and '' dropped)."""
        return drop_empty({
            "device_path": self.device_path, "file_name": self.file_name,
            "max_upload_rate": self.max_upload_rate, "override": self.override,
            "purge_after": self.purge_after, "metadata": self.metadata,
        })

