"""The device-manager half of the rapyuta.io sandbox: seeded devices that really run commands.

Served by :class:`pytest_robofixtures.sim.rapyuta.RapyutaSim` under ``/api/device-manager/v0/``
with the real envelope ``{"status": "success", "response": {"data": ...}}``. Each device has a
scratch directory that stands for its filesystem: commands run there, log uploads read from it.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import pwd
import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid as uuid_mod
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from pytest_robofixtures.sim._wsgi import json_response, read_json

DM = "/api/device-manager/v0"

#: uuids of the seeded devices (see :func:`default_devices`).
DEVICE_AMD64_DOCKER = "5e1f7c2a-0001-4a6b-9d3e-a1b2c3d4e501"
DEVICE_ARM64_PREINSTALLED = "5e1f7c2a-0002-4a6b-9d3e-a1b2c3d4e502"
DEVICE_ARM32 = "5e1f7c2a-0003-4a6b-9d3e-a1b2c3d4e503"
DEVICE_OFFLINE = "5e1f7c2a-0004-4a6b-9d3e-a1b2c3d4e504"

#: the whole PATH of a device command: the parent's environment never reaches commands
COMMAND_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: the account commands run as when the sandbox runs as root
DEFAULT_COMMAND_USER = "nobody"
ARCHES = ("amd64", "arm64v8", "arm32v7")
#: what the device agent reports as ``cpuarch`` for each architecture (used by selection/query)
CPUARCH = {"amd64": "x86_64", "arm64v8": "aarch64", "arm32v7": "armv7l"}
DEVICE_STATUSES = (
    "ONLINE", "REJECTED", "ACCEPTED", "OFFLINE", "REGISTERED", "INITIALIZING", "FAILED", "NEW",
    "DELETED",
)
#: config variables that cannot be deleted (and ``runtime`` cannot be updated)
DEFAULT_CONFIG_KEYS = (
    "runtime", "ros_workspace", "ros_distro", "rosbag_mount_path", "runtime_docker",
    "runtime_preinstalled",
)
#: agent features ``toggle_features`` may switch (PATCH devices/{uuid}/daemons)
FEATURES = ("vpn", "tracing")
LOG_SORT_FIELDS = ("status", "filename", "created_at", "updated_at", "total_size")
_ENV_KEY = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*$")
CREATOR = "a1b2c3d4-0000-4000-8000-00000000c0de"


def iso(ts: float) -> str:
    """An RFC 3339 UTC timestamp like the platform's."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(data: Any, status: int = 200) -> Response:
    """The device manager's success envelope."""
    return json_response({"status": "success", "response": {"data": data}}, status)


def error(message: str, status: int) -> Response:
    """The platform's error body."""
    return json_response({"error": message}, status)


def default_devices() -> list[dict[str, Any]]:
    """The seeded devices (deterministic uuids; see the module constants)."""
    return [
        {
            "uuid": DEVICE_AMD64_DOCKER, "name": "sim-amd64-docker", "status": "ONLINE",
            "arch": "amd64", "runtime": "dockercompose", "ros_distro": "noetic",
            "rosbag_mount_path": "/opt/rapyuta/volumes/rosbag",
            "labels": {"site": "lab", "role": "base"},
            "ip_interfaces": {
                "eth0": ["10.0.0.11"], "docker0": ["172.17.0.1"], "lo": ["127.0.0.1"],
            },
            "description": "simulated amd64 docker-compose robot",
        },
        {
            "uuid": DEVICE_ARM64_PREINSTALLED, "name": "sim-arm64-preinstalled",
            "status": "ONLINE", "arch": "arm64v8", "runtime": "preinstalled",
            "ros_distro": "melodic", "ros_workspace": "/home/rapyuta/catkin_ws",
            "labels": {"site": "lab", "role": "arm"},
            "ip_interfaces": {
                "eth0": ["10.0.0.12"], "wlan0": ["192.168.1.12"], "lo": ["127.0.0.1"],
            },
            "description": "simulated arm64 preinstalled robot",
        },
        {
            "uuid": DEVICE_ARM32, "name": "sim-arm32v7", "status": "ONLINE", "arch": "arm32v7",
            "runtime": "dockercompose", "ros_distro": "kinetic",
            "rosbag_mount_path": "/opt/rapyuta/volumes/rosbag",
            "labels": {"site": "field"},
            "ip_interfaces": {"eth0": ["10.0.0.13"], "lo": ["127.0.0.1"]},
            "description": "simulated arm32v7 docker-compose robot",
        },
        {
            "uuid": DEVICE_OFFLINE, "name": "sim-amd64-offline", "status": "OFFLINE",
            "arch": "amd64", "runtime": "dockercompose", "ros_distro": "noetic",
            "rosbag_mount_path": "/opt/rapyuta/volumes/rosbag",
            "labels": {"site": "storage"},
            "ip_interfaces": {"eth0": ["10.0.0.14"], "lo": ["127.0.0.1"]},
            "description": "simulated amd64 robot that is switched off",
        },
    ]


class DeviceManager:
    """Device state and the ``/api/device-manager/v0/`` handlers (owned by a RapyutaSim)."""

    def __init__(
        self,
        lock: threading.RLock,
        delay: float,
        devices: list[dict[str, Any]] | None,
        scratch_root: Path | None,
        project: str | None,
        secret: bytes,
        base_url: Callable[[Request], str],
        command_timeout: float = 30.0,
        rng: random.Random | None = None,
        command_user: str | None = DEFAULT_COMMAND_USER,
    ) -> None:
        self.lock = lock
        self._rng = rng or random.Random()
        #: (uid, gid) commands run as; None when the sandbox is not root (commands keep its uid)
        self.run_as: tuple[int, int] | None = None
        if command_user and os.geteuid() == 0:
            entry = pwd.getpwnam(command_user)
            self.run_as = (entry.pw_uid, entry.pw_gid)
        self.delay = delay
        self.project = project
        self.command_timeout = command_timeout
        self._secret = secret
        self._base_url = base_url
        self._ids = 0
        self._own_root: Path | None = None
        if scratch_root is None:
            self._own_root = Path(tempfile.mkdtemp(prefix="rio-sim-devices-"))
            scratch_root = self._own_root
        self.scratch_root = Path(scratch_root)
        self._created_dirs: list[Path] = []
        self.storage = Path(tempfile.mkdtemp(prefix="rio-sim-storage-"))
        self.devices: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.shared_urls: dict[str, dict[str, Any]] = {}
        self.procs: set[subprocess.Popen[bytes]] = set()
        self.closed = False
        for spec in devices if devices is not None else default_devices():
            dev = self._make_device(spec)
            self.devices[dev["uuid"]] = dev
        #: called with a device uuid; returns that device's deployments entries (set by the app)
        self.deployments_of: Callable[[str], list[dict[str, Any]]] = lambda uuid: []

    # -- state --------------------------------------------------------------------------------
    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _config_var(self, key: str, value: Any) -> dict[str, Any]:
        kind = "default" if key in DEFAULT_CONFIG_KEYS else "user"
        return {"id": self._next_id(), "key": key, "value": value, "type": kind}

    def _make_device(self, spec: dict[str, Any]) -> dict[str, Any]:
        arch = spec.get("arch", "amd64")
        if arch not in ARCHES:
            raise ValueError(f"device arch must be one of {ARCHES}, not {arch!r}")
        status = spec.get("status", "ONLINE")
        if status not in DEVICE_STATUSES:
            raise ValueError(f"device status must be one of {DEVICE_STATUSES}, not {status!r}")
        runtime = spec.get("runtime", "dockercompose")
        if runtime not in ("dockercompose", "preinstalled"):
            raise ValueError("device runtime must be dockercompose or preinstalled")
        uuid = spec.get("uuid") or str(uuid_mod.uuid5(uuid_mod.NAMESPACE_URL, spec["name"]))
        config: list[dict[str, Any]] = [self._config_var("runtime", runtime)]
        if runtime == "dockercompose":
            config.append(self._config_var("runtime_docker", "True"))
        else:
            config.append(self._config_var("runtime_preinstalled", "True"))
        for key in ("ros_distro", "ros_workspace", "rosbag_mount_path"):
            if spec.get(key):
                config.append(self._config_var(key, spec[key]))
        for key, value in (spec.get("config_variables") or {}).items():
            config.append(self._config_var(key, value))
        labels = [
            {"id": self._next_id(), "key": k, "value": v}
            for k, v in (spec.get("labels") or {}).items()
        ]
        now = time.time()
        scratch = self.scratch_root / uuid
        if not scratch.exists():
            scratch.mkdir(parents=True)
            self._created_dirs.append(scratch)
            self._hand_over(scratch)
        return {
            "uuid": uuid, "name": spec["name"], "status": status,
            "description": spec.get("description", ""),
            "created_by": CREATOR, "registration_time": iso(now - 86400),
            "last_online": iso(now if status == "ONLINE" else now - 3600),
            "error_code": "", "error_message": "",
            "username": spec.get("username", "rapyuta"), "saltversion": "3002.9",
            "host": spec.get("host", spec["name"]),
            "ip_interfaces": copy.deepcopy(spec.get("ip_interfaces")
                                           or {"eth0": ["10.0.0.99"], "lo": ["127.0.0.1"]}),
            "lsb_distrib_description": spec.get("lsb_distrib_description", "Ubuntu 20.04.6 LTS"),
            "device_version": str(spec.get("device_version", "3")),
            "remote_update_script": "", "remote_update_log": "",
            "fingerprint": hashlib.sha1(uuid.encode()).hexdigest(),
            "labels": labels, "config_variables": config,
            # not part of the wire device: kept privately
            "_arch": arch, "_scratch": scratch,
            "_topics": list(spec.get("topics") or ["/rosout", "/chatter", "/odom", "/tf"]),
            "_subscribed": {"metric": [], "log": []}, "_metrics": {},
            "_features": dict.fromkeys(FEATURES, False), "_feature_config": {},
            "_online_at": None,
        }

    def _uuid4(self) -> str:
        """A random (version 4) uuid from the sandbox's generator (a seed reproduces it)."""
        return str(uuid_mod.UUID(int=self._rng.getrandbits(128), version=4))

    def _hand_over(self, path: Path) -> None:
        """Give a directory the sandbox made to the command user (so commands may write there)."""
        if self.run_as is not None:
            os.chown(path, *self.run_as)

    def _settle(self, dev: dict[str, Any]) -> dict[str, Any]:
        """Bring an onboarding device ONLINE once its agent had ``delay`` seconds to start."""
        due = dev.get("_online_at")
        if due is not None and time.monotonic() >= due:
            dev["_online_at"] = None
            dev["status"] = "ONLINE"
            dev["last_online"] = iso(time.time())
        return dev

    def wire(self, dev: dict[str, Any]) -> dict[str, Any]:
        """The device as the platform sends it."""
        self._settle(dev)
        out = {k: copy.deepcopy(v) for k, v in dev.items() if not k.startswith("_")}
        out["deployments"] = self.deployments_of(dev["uuid"])
        return out

    def get(self, uuid: str) -> dict[str, Any] | None:
        """The device (internal record) or None."""
        dev = self.devices.get(uuid)
        return self._settle(dev) if dev is not None else None

    def arch(self, uuid: str) -> str:
        """The device's architecture."""
        return str(self.devices[uuid]["_arch"])

    def config(self, uuid: str) -> dict[str, Any]:
        """The device's config variables as a mapping."""
        return {c["key"]: c["value"] for c in self.devices[uuid]["config_variables"]}

    def scratch_dir(self, uuid: str) -> Path:
        """The directory that stands for the device's filesystem."""
        return Path(self.devices[uuid]["_scratch"])

    def set_status(self, uuid: str, status: str) -> None:
        """Change a device's status (e.g. take it OFFLINE)."""
        if status not in DEVICE_STATUSES:
            raise ValueError(f"status must be one of {DEVICE_STATUSES}")
        with self.lock:
            dev = self.devices[uuid]
            dev["status"] = status
            if status == "ONLINE":
                dev["last_online"] = iso(time.time())

    def device_path(self, uuid: str, path: str) -> Path | None:
        """Map a path on the device into its scratch directory (None when it escapes)."""
        root = self.scratch_dir(uuid).resolve()
        candidate = Path(path)
        if candidate.is_absolute():
            try:
                candidate.resolve().relative_to(root)
                return candidate.resolve()
            except ValueError:
                candidate = Path(path.lstrip("/"))
        full = (root / candidate).resolve()
        try:
            full.relative_to(root)
        except ValueError:
            return None
        return full

    def close(self) -> None:
        """Kill running commands and remove the directories this manager created."""
        with self.lock:
            self.closed = True
            procs = list(self.procs)
        for proc in procs:
            _kill(proc)
        for d in self._created_dirs:
            shutil.rmtree(d, ignore_errors=True)
        if self._own_root is not None:
            shutil.rmtree(self._own_root, ignore_errors=True)
        shutil.rmtree(self.storage, ignore_errors=True)

    # -- routing ------------------------------------------------------------------------------
    def routes(self) -> list[tuple[str, Callable[..., Response], list[str]]]:
        """(rule, handler, methods) for every device-manager endpoint."""
        return [
            (f"{DM}/devices/", self.list_devices, ["GET"]),
            (f"{DM}/devices/", self.save_device, ["PUT"]),
            (f"{DM}/devices/<uuid>", self.get_device, ["GET"]),
            (f"{DM}/devices/<uuid>/upgrade", self.upgrade_device, ["PUT"]),
            (f"{DM}/devices/<uuid>/daemons", self.patch_daemons, ["PATCH"]),
            (f"{DM}/auth-keys/", self.create_device, ["POST"]),
            (f"{DM}/auth-keys/<uuid>/token", self.onboard_token, ["GET"]),
            ("/start", self.onboard_script, ["GET"]),
            (f"{DM}/parameters/", self.apply_parameters, ["POST"]),
            (f"{DM}/devices/<uuid>", self.delete_device, ["DELETE"]),
            (f"{DM}/selection/query/", self.selection, ["POST"]),
            (f"{DM}/config_variables/device/<uuid>", self.list_config, ["GET"]),
            (f"{DM}/config_variables/device/<uuid>", self.add_config, ["POST"]),
            (f"{DM}/config_variables/<int:cid>", self.update_config, ["PUT"]),
            (f"{DM}/config_variables/<int:cid>", self.delete_config, ["DELETE"]),
            (f"{DM}/labels/<uuid>", self.list_labels, ["GET"]),
            (f"{DM}/labels/<uuid>", self.add_label, ["POST"]),
            (f"{DM}/labels/<int:lid>", self.update_label, ["PUT"]),
            (f"{DM}/labels/<int:lid>", self.delete_label, ["DELETE"]),
            (f"{DM}/cmd/", self.command, ["POST"]),
            (f"{DM}/topics/<uuid>", self.topics, ["GET"]),
            (f"{DM}/topics/<uuid>/status", self.topic_status, ["GET"]),
            (f"{DM}/topics/<uuid>/subscribe", self.subscribe, ["POST"]),
            (f"{DM}/topics/<uuid>/unsubscribed", self.unsubscribe, ["POST"]),
            (f"{DM}/metrics/<uuid>", self.list_metrics, ["GET"]),
            (f"{DM}/metrics/<uuid>", self.add_metric, ["POST"]),
            (f"{DM}/metrics/<uuid>/<metric>", self.delete_metric, ["DELETE"]),
            (f"{DM}/logs/<uuid>/upload", self.upload, ["POST"]),
            (f"{DM}/logs/<uuid>/status/<req>", self.upload_status, ["GET"]),
            (f"{DM}/logs/<uuid>/list", self.list_uploads, ["GET"]),
            (f"{DM}/logs/<uuid>/<req>", self.download, ["GET"]),
            (f"{DM}/logs/<uuid>/<req>", self.delete_upload, ["DELETE"]),
            (f"{DM}/logs/<uuid>/<req>/cancel", self.cancel_upload, ["PUT"]),
            (f"{DM}/logs/<req>/shared_urls", self.create_shared_url, ["POST"]),
            ("/logs/sharedurl/<url_uuid>", self.serve_shared_url, ["GET"]),
            ("/_files/<file_id>", self.serve_file, ["GET"]),
        ]

    # -- helpers ------------------------------------------------------------------------------
    def _device_or_404(self, uuid: str) -> dict[str, Any] | Response:
        dev = self.devices.get(uuid)
        if dev is None:
            return error(f"device {uuid} not found", 404)
        return self._settle(dev)

    def _online_or_409(self, dev: dict[str, Any]) -> Response | None:
        if dev["status"] != "ONLINE":
            return error(f"device {dev['uuid']} is {dev['status']}, not ONLINE", 409)
        return None

    @staticmethod
    def _body(request: Request) -> Any:
        try:
            return read_json(request)
        except ValueError:
            return _BAD_JSON

    # -- devices ------------------------------------------------------------------------------
    def list_devices(self, request: Request) -> Response:
        """GET devices/ (optionally ?name=)."""
        name = request.args.get("name")
        with self.lock:
            out = [self.wire(d) for d in self.devices.values() if name is None or d["name"] == name]
        return envelope(out)

    def get_device(self, request: Request, uuid: str) -> Response:
        """GET devices/{uuid}."""
        with self.lock:
            dev = self._device_or_404(uuid)
            if isinstance(dev, Response):
                return dev
            return envelope(self.wire(dev))

    def delete_device(self, request: Request, uuid: str) -> Response:
        """DELETE devices/{uuid}: 400 while deployments run on it."""
        with self.lock:
            dev = self._device_or_404(uuid)
            if isinstance(dev, Response):
                return dev
            deps = self.deployments_of(uuid)
            if deps:
                ids = ", ".join(d["deployment_id"] for d in deps)
                return error(f"device {uuid} has deployments: {ids}", 400)
            del self.devices[uuid]
        return envelope({"uuid": uuid})

    def save_device(self, request: Request) -> Response:
        """PUT devices/ with the whole device and ``device_id``: name, description, status.

        The status may only be changed to ACCEPTED or REJECTED (the SDK's accept/reject).
        """
        body = self._body(request)
        if not isinstance(body, dict) or not isinstance(body.get("device_id"), str) \
                or not body["device_id"]:
            return error("device_id is required", 400)
        name, description = body.get("name"), body.get("description")
        if not isinstance(name, str) or not name.strip():
            return error("name must be a non-empty string", 400)
        if description is not None and not isinstance(description, str):
            return error("description must be a string", 400)
        status = body.get("status")
        with self.lock:
            dev = self._device_or_404(body["device_id"])
            if isinstance(dev, Response):
                return dev
            if status is not None and status != dev["status"]:
                if status not in ("ACCEPTED", "REJECTED"):
                    return error(f"status can be set to ACCEPTED or REJECTED only, not {status!r}",
                                 400)
                dev["status"] = status
            dev["name"] = name
            if description is not None:
                dev["description"] = description
            return envelope(self.wire(dev))

    def upgrade_device(self, request: Request, uuid: str) -> Response:
        """PUT devices/{uuid}/upgrade: python 2 agent to python 3; 400 while deployments run."""
        with self.lock:
            dev = self._device_or_404(uuid)
            if isinstance(dev, Response):
                return dev
            running = [d["deployment_id"] for d in self.deployments_of(uuid)
                       if str(d.get("phase", "")).lower() == "succeeded"]
            if running:
                return error(f"cannot upgrade device {uuid}: deployments {running} run on it", 400)
            refused = self._online_or_409(dev)
            if refused is not None:
                return refused
            dev["device_version"] = "3"
            return envelope({"uuid": uuid, "device_version": "3"})

    def create_device(self, request: Request) -> Response:
        """POST auth-keys/?download_type=script: register a device (REGISTERED until onboarded)."""
        if request.args.get("download_type") != "script":
            return error("download_type=script is required", 400)
        body = self._body(request)
        if not isinstance(body, dict):
            return error("device body must be a JSON object", 400)
        name, version = body.get("name"), body.get("python_version", "2")
        config = body.get("config_variables") or {}
        labels = body.get("labels") or {}
        if not isinstance(name, str) or not name.strip():
            return error("name must be a non-empty string", 400)
        if version not in ("2", "3"):
            return error("python_version must be '2' or '3'", 400)
        if not isinstance(config, dict) or not isinstance(labels, dict):
            return error("config_variables and labels must be objects", 400)
        docker = str(config.get("runtime_docker", "")).lower() == "true"
        preinstalled = str(config.get("runtime_preinstalled", "")).lower() == "true"
        if not (docker or preinstalled):
            return error("enable at least one runtime: runtime_docker or runtime_preinstalled",
                         400)
        distro = config.get("ros_distro")
        if distro is not None and distro not in ("kinetic", "melodic", "noetic"):
            return error(f"ros_distro {distro!r} is not supported", 400)
        if distro == "noetic" and version == "2":
            return error("noetic ros_distro not supported on python_version 2", 400)
        extra = {k: v for k, v in config.items() if k not in (
            "runtime_docker", "runtime_preinstalled", "ros_distro", "ros_workspace",
            "rosbag_mount_path")}
        if docker and preinstalled:
            extra["runtime_preinstalled"] = "True"
        spec = {
            "uuid": self._uuid4(), "name": name, "status": "REGISTERED",
            "runtime": "dockercompose" if docker else "preinstalled", "ros_distro": distro,
            "ros_workspace": config.get("ros_workspace"),
            "rosbag_mount_path": config.get("rosbag_mount_path"),
            "config_variables": extra, "labels": labels,
            "description": body.get("description") or "", "device_version": version,
            "ip_interfaces": {"eth0": ["10.0.0.200"], "lo": ["127.0.0.1"]},
        }
        with self.lock:
            try:
                dev = self._make_device(spec)
            except (ValueError, TypeError) as exc:
                return error(str(exc), 400)
            dev["registration_time"] = iso(time.time())
            dev["_registered"] = True  # a resource a test made: listed by live_resources
            self.devices[dev["uuid"]] = dev
            return json_response({"status": "success", "response": {
                "device_id": dev["uuid"], **self._onboard_answer(dev)}})

    def _token(self, uuid: str) -> str:
        return hmac.new(self._secret, f"onboard:{uuid}".encode(), hashlib.sha256).hexdigest()

    def _onboard_answer(self, dev: dict[str, Any]) -> dict[str, Any]:
        return {"data": self._token(dev["uuid"]), "script_command": "sh start"}

    def onboard_token(self, request: Request, uuid: str) -> Response:
        """GET auth-keys/{uuid}/token: the device's onboarding token and script command."""
        with self.lock:
            dev = self._device_or_404(uuid)
            if isinstance(dev, Response):
                return dev
            return json_response({"status": "success", "response": self._onboard_answer(dev)})

    def onboard_script(self, request: Request) -> Response:
        """GET /start with ``Authorization: Bearer <device token>``: the (harmless) install script.

        Fetching it stands for installing the agent: the device turns INITIALIZING, then ONLINE
        after ``delay`` seconds.
        """
        auth = request.headers.get("Authorization", "")
        with self.lock:
            dev = next((d for u, d in self.devices.items()
                        if hmac.compare_digest(auth, f"Bearer {self._token(u)}")), None)
            if dev is None:
                return error("invalid onboarding token", 401)
            if dev["status"] != "ONLINE":
                dev["status"] = "INITIALIZING"
                dev["_online_at"] = time.monotonic() + self.delay
            script = (f"#!/bin/sh\necho 'rapyuta.io sandbox: agent for device {dev['uuid']} "
                      "installed'\n")
        return Response(script, mimetype="text/x-shellscript")

    def patch_daemons(self, request: Request, uuid: str) -> Response:
        """PATCH devices/{uuid}/daemons with {feature: bool, ..., config?}: toggle features."""
        body = self._body(request)
        if not isinstance(body, dict) or not body:
            return error("daemons body must be an object {feature: bool}", 400)
        config = body.get("config", {})
        features = {k: v for k, v in body.items() if k != "config"}
        unknown = sorted(set(features) - set(FEATURES))
        if unknown:
            return error(f"unknown features {unknown}; known: {list(FEATURES)}", 400)
        if not all(isinstance(v, bool) for v in features.values()):
            return error("feature states must be booleans", 400)
        if not isinstance(config, dict):
            return error("config must be an object", 400)
        with self.lock:
            dev = self._online_device(uuid)
            if isinstance(dev, Response):
                return dev
            dev["_features"].update(features)
            for key, value in config.items():
                dev["_feature_config"][key] = copy.deepcopy(value)
            state = dict(dev["_features"], config=copy.deepcopy(dev["_feature_config"]))
            return envelope(state)

    def apply_parameters(self, request: Request) -> Response:
        """POST parameters/ {device_list, tree_names?}: per device {device_id, success, error}."""
        body = self._body(request)
        if not isinstance(body, dict) or not isinstance(body.get("device_list"), list) \
                or not all(isinstance(d, str) for d in body["device_list"]):
            return error("device_list must be a list of device ids", 400)
        trees = body.get("tree_names")
        if trees is not None and (not isinstance(trees, list)
                                  or not all(isinstance(t, str) for t in trees)):
            return error("tree_names must be a list of strings", 400)
        out = []
        with self.lock:
            for uuid in body["device_list"]:
                dev = self.get(uuid)
                if dev is None:
                    out.append({"device_id": uuid, "success": False,
                                "error": f"device {uuid} not found"})
                elif dev["status"] != "ONLINE":
                    out.append({"device_id": uuid, "success": False,
                                "error": f"device {uuid} is {dev['status']}, not ONLINE"})
                else:
                    dev["_applied_trees"] = list(trees) if trees is not None else None
                    out.append({"device_id": uuid, "success": True, "error": ""})
        return envelope(out)

    def selection(self, request: Request) -> Response:
        """POST selection/query/: the ONLINE devices whose facts match the spec tree."""
        body = self._body(request)
        if not isinstance(body, dict) or not isinstance(body.get("specs"), dict):
            return error("selection query needs an object with 'specs'", 400)
        try:
            with self.lock:
                out = [
                    self.wire(d) for d in self.devices.values()
                    if d["status"] == "ONLINE" and _spec_matches(body["specs"], _facts(d))
                ]
        except (KeyError, TypeError, ValueError) as exc:
            return error(f"invalid selection query: {exc}", 400)
        return envelope(out)

    # -- config variables ---------------------------------------------------------------------
    def list_config(self, request: Request, uuid: str) -> Response:
        """GET config_variables/device/{uuid}."""
        with self.lock:
            dev = self._device_or_404(uuid)
            if isinstance(dev, Response):
                return dev
            return envelope(copy.deepcopy(dev["config_variables"]))

    def add_config(self, request: Request, uuid: str) -> Response:
        """POST config_variables/device/{uuid} with {key, value}."""
        body = self._body(request)
        with self.lock:
            dev = self._device_or_404(uuid)
            if isinstance(dev, Response):
                return dev
            if not isinstance(body, dict) or not body.get("key") or body.get("value") in (None, ""):
                return error("config variable needs a non-empty key and value", 400)
            key = body["key"]
            if not isinstance(key, str) or not _ENV_KEY.match(key):
                return error(f"invalid config variable key {key!r}", 400)
            if any(c["key"] == key for c in dev["config_variables"]):
                return error(f"config variable {key} already exists", 409)
            var = self._config_var(key, body["value"])
            dev["config_variables"].append(var)
            return envelope(copy.deepcopy(var))

    def _find_config(self, cid: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for dev in self.devices.values():
            for var in dev["config_variables"]:
                if var["id"] == cid:
                    return dev, var
        return None

    def update_config(self, request: Request, cid: int) -> Response:
        """PUT config_variables/{id} with {id, key, value}."""
        body = self._body(request)
        if not isinstance(body, dict):
            return error("body must be a JSON object", 400)
        for field in ("key", "value"):
            if body.get(field) in (None, ""):
                return error(f"parameter {field} is missing", 400)
        with self.lock:
            found = self._find_config(cid)
            if found is None:
                return error(f"config variable {cid} not found", 404)
            _, var = found
            if var["key"] == "runtime" or body["key"] == "runtime":
                return error("the runtime config variable cannot be updated", 400)
            if body["key"] != var["key"]:
                return error("the key of a config variable cannot be changed", 400)
            var["value"] = body["value"]
            return envelope(copy.deepcopy(var))

    def delete_config(self, request: Request, cid: int) -> Response:
        """DELETE config_variables/{id} (the SDK sends the body ``0``; ignored)."""
        with self.lock:
            found = self._find_config(cid)
            if found is None:
                return error(f"config variable {cid} not found", 404)
            dev, var = found
            if var["key"] in DEFAULT_CONFIG_KEYS:
                return error(f"default config variable {var['key']} cannot be deleted", 400)
            dev["config_variables"].remove(var)
        return envelope({"id": cid})

    # -- labels -------------------------------------------------------------------------------
    def list_labels(self, request: Request, uuid: str) -> Response:
        """GET labels/{uuid}."""
        with self.lock:
            dev = self._device_or_404(uuid)
            if isinstance(dev, Response):
                return dev
            return envelope(copy.deepcopy(dev["labels"]))

    def add_label(self, request: Request, uuid: str) -> Response:
        """POST labels/{uuid} with {"<key>": "<value>", ...}: data is the created labels."""
        body = self._body(request)
        with self.lock:
            dev = self._device_or_404(uuid)
            if isinstance(dev, Response):
                return dev
            if not isinstance(body, dict) or not body:
                return error('labels body must be an object {"<key>": "<value>"}', 400)
            for key, value in body.items():
                if not key or value in (None, "") or not isinstance(value, str):
                    return error("label key and value must be non-empty strings", 400)
                if any(lb["key"] == key for lb in dev["labels"]):
                    return error(f"label {key} already exists on device {uuid}", 409)
            created = []
            for key, value in body.items():
                label = {"id": self._next_id(), "key": key, "value": value}
                dev["labels"].append(label)
                created.append(dict(label))
            return envelope(created)

    def _find_label(self, lid: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for dev in self.devices.values():
            for label in dev["labels"]:
                if label["id"] == lid:
                    return dev, label
        return None

    def update_label(self, request: Request, lid: int) -> Response:
        """PUT labels/{id} with {id, key, value}."""
        body = self._body(request)
        if not isinstance(body, dict) or not body.get("key") or body.get("value") in (None, ""):
            return error("label needs a non-empty key and value", 400)
        with self.lock:
            found = self._find_label(lid)
            if found is None:
                return error(f"label {lid} not found", 404)
            _, label = found
            label["key"], label["value"] = body["key"], body["value"]
            return envelope(dict(label))

    def delete_label(self, request: Request, lid: int) -> Response:
        """DELETE labels/{id}."""
        with self.lock:
            found = self._find_label(lid)
            if found is None:
                return error(f"label {lid} not found", 404)
            dev, label = found
            dev["labels"].remove(label)
        return envelope({"id": lid})

    # -- commands -----------------------------------------------------------------------------
    def command(self, request: Request) -> Response:
        """POST cmd/: run the command for real on each device; data is {uuid: output}."""
        body = self._body(request)
        if not isinstance(body, dict):
            return error("command body must be a JSON object", 400)
        cmd, shell = body.get("cmd"), body.get("shell") or "/bin/sh"
        env, ids = body.get("env") or {}, body.get("device_ids")
        cwd = body.get("cwd") or body.get("pwd")
        if not isinstance(cmd, str) or not cmd.strip():
            return error("cmd must be a non-empty string", 400)
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            return error("device_ids must be a non-empty list of device ids", 400)
        if not isinstance(env, dict) or not all(
            isinstance(k, str) and _ENV_KEY.match(k) for k in env
        ):
            return error("env must be an object whose keys are environment variable names", 400)
        if not isinstance(shell, str) or shutil.which(shell) is None:
            return error(f"shell {shell!r} not found on the device", 400)
        if cwd is not None and not isinstance(cwd, str):
            return error("cwd must be a string", 400)
        background = bool(body.get("bg"))
        with self.lock:
            for uuid in ids:
                dev = self._device_or_404(uuid)
                if isinstance(dev, Response):
                    return dev
                refused = self._online_or_409(dev)
                if refused is not None:
                    return refused
            jobs = []
            for uuid in ids:
                workdir = self.scratch_dir(uuid) if cwd is None else self.device_path(uuid, cwd)
                if workdir is None:
                    return error(f"cwd {cwd!r} is outside the device", 400)
                run_env = {
                    "PATH": COMMAND_PATH, "LANG": "C.UTF-8",
                    "HOME": str(self.scratch_dir(uuid)), "USER": self.devices[uuid]["username"],
                    "RIO_DEVICE_ID": uuid,
                }
                run_env.update({k: str(v) for k, v in self.config(uuid).items()})
                run_env.update({k: str(v) for k, v in env.items()})
                jobs.append((uuid, workdir, run_env))
        results: dict[str, str] = {}
        for uuid, workdir, run_env in jobs:
            missing = [p for p in (workdir, *workdir.parents) if not p.exists()]
            workdir.mkdir(parents=True, exist_ok=True)
            for made in missing:
                self._hand_over(made)
            outcome = self._run(shell, cmd, workdir, run_env, background)
            if isinstance(outcome, Response):
                return outcome
            results[uuid] = outcome
        return envelope(results)

    def _run(
        self, shell: str, cmd: str, cwd: Path, env: dict[str, str], background: bool
    ) -> str | Response:
        with self.lock:
            if self.closed:
                return error("the sandbox is shutting down", 503)
            # as root, drop to the command user (its cwd is entered before the switch, so a
            # scratch directory below a private temp directory still works)
            drop: dict[str, Any] = {} if self.run_as is None else {
                "user": self.run_as[0], "group": self.run_as[1], "extra_groups": []}
            proc: subprocess.Popen[bytes] = subprocess.Popen(
                [shell, "-c", cmd], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL if background else subprocess.PIPE,
                stderr=subprocess.STDOUT, start_new_session=True, **drop,
            )
            self.procs.add(proc)
        if background:
            threading.Thread(target=self._reap, args=(proc,), daemon=True).start()
            return ""
        try:
            out, _ = proc.communicate(timeout=self.command_timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            proc.communicate()
            return error(f"command timed out after {self.command_timeout:g}s", 500)
        finally:
            with self.lock:
                self.procs.discard(proc)
        return out.decode("utf-8", errors="replace")

    def _reap(self, proc: subprocess.Popen[bytes]) -> None:
        try:
            proc.wait(timeout=self.command_timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            proc.wait()
        with self.lock:
            self.procs.discard(proc)

    # -- topics and metrics -------------------------------------------------------------------
    def _online_device(self, uuid: str) -> dict[str, Any] | Response:
        dev = self._device_or_404(uuid)
        if isinstance(dev, Response):
            return dev
        refused = self._online_or_409(dev)
        return refused if refused is not None else dev

    def topics(self, request: Request, uuid: str) -> Response:
        """GET topics/{uuid}: data is [200, "<json {topics: [...]}>"]."""
        with self.lock:
            dev = self._online_device(uuid)
            if isinstance(dev, Response):
                return dev
            return envelope([200, json.dumps({"topics": list(dev["_topics"])})])

    def topic_status(self, request: Request, uuid: str) -> Response:
        """GET topics/{uuid}/status: data is [200, "<json {topics, master_up}>"]."""
        with self.lock:
            dev = self._online_device(uuid)
            if isinstance(dev, Response):
                return dev
            subscribed = dev["_subscribed"]
            taken = {t["name"] for kind in subscribed.values() for t in kind}
            payload = {
                "topics": {
                    "Subscribed": copy.deepcopy(subscribed),
                    "Unsubscribed": [t for t in dev["_topics"] if t not in taken],
                },
                "master_up": bool(self.config(uuid).get("ros_distro")),
            }
            return envelope([200, json.dumps(payload)])

    def subscribe(self, request: Request, uuid: str) -> Response:
        """POST topics/{uuid}/subscribe with {topics: [{name, config}], kind}."""
        body = self._body(request)
        if not isinstance(body, dict) or body.get("kind") not in ("metric", "log") \
                or not isinstance(body.get("topics"), list):
            return error("subscribe needs topics (a list) and kind metric|log", 400)
        with self.lock:
            dev = self._online_device(uuid)
            if isinstance(dev, Response):
                return dev
            ok: list[str] = []
            failed: list[dict[str, str]] = []
            bucket = dev["_subscribed"][body["kind"]]
            for topic in body["topics"]:
                name = topic.get("name") if isinstance(topic, dict) else None
                if not isinstance(name, str) or name not in dev["_topics"]:
                    failed.append({str(name): f"Unknown topic type: {name}"})
                    continue
                if not any(t["name"] == name for t in bucket):
                    bucket.append({"name": name, "config": topic.get("config") or {}})
                ok.append(name)
            payload = {"subscribed_success": ok, "subscribed_error": failed, "master_up": True}
            return envelope([200, json.dumps(payload)])

    def unsubscribe(self, request: Request, uuid: str) -> Response:
        """POST topics/{uuid}/unsubscribed with {topics: [name], kind}."""
        body = self._body(request)
        if not isinstance(body, dict) or body.get("kind") not in ("metric", "log") \
                or not isinstance(body.get("topics"), list):
            return error("unsubscribe needs topics (a list) and kind metric|log", 400)
        with self.lock:
            dev = self._online_device(uuid)
            if isinstance(dev, Response):
                return dev
            bucket = dev["_subscribed"][body["kind"]]
            ok: list[str] = []
            failed: list[dict[str, str]] = []
            for name in body["topics"]:
                match = [t for t in bucket if t["name"] == name]
                if not match:
                    failed.append({str(name): f"topic {name} is not subscribed"})
                    continue
                bucket.remove(match[0])
                ok.append(name)
            payload = {"unsubscribed_success": ok, "unsubscribed_error": failed,
                       "master_up": True}
            return envelope([200, json.dumps(payload)])

    def list_metrics(self, request: Request, uuid: str) -> Response:
        """GET metrics/{uuid}: the subscribed system metrics."""
        with self.lock:
            dev = self._device_or_404(uuid)
            if isinstance(dev, Response):
                return dev
            return envelope([
                {"name": name, "kind": "metric", "config": cfg, "status": "subscribed"}
                for name, cfg in dev["_metrics"].items()
            ])

    def add_metric(self, request: Request, uuid: str) -> Response:
        """POST metrics/{uuid} with {name, config: {qos}}."""
        body = self._body(request)
        metrics = ("cpu", "memory", "disk", "diskio", "network", "wireless")
        if not isinstance(body, dict) or body.get("name") not in metrics:
            return error(f"metric name must be one of {list(metrics)}", 400)
        with self.lock:
            dev = self._online_device(uuid)
            if isinstance(dev, Response):
                return dev
            dev["_metrics"][body["name"]] = body.get("config") or {"qos": 0}
        return envelope({"name": body["name"]})

    def delete_metric(self, request: Request, uuid: str, metric: str) -> Response:
        """DELETE metrics/{uuid}/{metric}."""
        with self.lock:
            dev = self._device_or_404(uuid)
            if isinstance(dev, Response):
                return dev
            if dev["_metrics"].pop(metric, None) is None:
                return error(f"metric {metric} is not subscribed", 404)
        return envelope({"name": metric})

    # -- log uploads --------------------------------------------------------------------------
    def _upload_status(self, rec: dict[str, Any]) -> str:
        if rec["status"] == "IN PROGRESS" and time.monotonic() - rec["_t0"] >= self.delay:
            rec["status"] = "COMPLETED"
            rec["updated_at"] = iso(rec["_wall0"] + self.delay)
        return str(rec["status"])

    def _upload_or_404(self, uuid: str, req: str) -> dict[str, Any] | Response:
        if uuid not in self.devices:
            return error(f"device {uuid} not found", 404)
        rec = self.uploads.get(req)
        if rec is None or rec["_device"] != uuid:
            return error(f"log upload request {req} not found", 404)
        self._upload_status(rec)
        return rec

    def upload(self, request: Request, uuid: str) -> Response:
        """POST logs/{uuid}/upload: copy a file from the device into sandbox storage."""
        body = self._body(request)
        if not isinstance(body, dict) or not isinstance(body.get("device_path"), str) \
                or not body["device_path"]:
            return error("device_path is required", 400)
        with self.lock:
            dev = self._online_device(uuid)
            if isinstance(dev, Response):
                return dev
            source = self.device_path(uuid, body["device_path"])
            filename = body.get("file_name") or Path(body["device_path"]).name
            if not isinstance(filename, str) or "/" in filename or not filename:
                return error("file_name must be a plain file name", 400)
            clash = [
                r for r in self.uploads.values()
                if r["_device"] == uuid and r["filename"] == filename
                and r["status"] in ("IN PROGRESS", "COMPLETED")
            ]
            if clash and not body.get("override"):
                return error(f"file {filename} already uploaded; set override to replace it", 409)
            for r in clash:
                self._drop_upload(r)
            req = self._uuid4()
            now = time.time()
            rec: dict[str, Any] = {
                "request_uuid": req, "filename": filename, "status": "IN PROGRESS",
                "error_message": "", "creator": CREATOR, "created_at": iso(now),
                "updated_at": iso(now), "metadata": body.get("metadata") or {},
                "content_length": 0, "_device": uuid, "_t0": time.monotonic(), "_wall0": now,
                "_file": None,
            }
            if source is None or not source.is_file():
                rec["status"] = "FAILED"
                rec["error_message"] = f"{body['device_path']}: no such file on the device"
            else:
                stored = self.storage / req
                shutil.copyfile(source, stored)
                rec["_file"] = stored
                rec["content_length"] = stored.stat().st_size
                rec["last_modified"] = iso(source.stat().st_mtime)
            self.uploads[req] = rec
            self._upload_status(rec)
        return envelope({"request_uuid": req})

    def _status_view(self, rec: dict[str, Any]) -> dict[str, Any]:
        out = {k: rec[k] for k in ("status", "error_message", "creator", "created_at",
                                   "updated_at", "request_uuid", "filename")}
        out["shared_urls"] = [
            {k: v for k, v in s.items() if not k.startswith("_")}
            for s in self.shared_urls.values() if s["_request"] == rec["request_uuid"]
        ]
        return out

    def upload_status(self, request: Request, uuid: str, req: str) -> Response:
        """GET logs/{uuid}/status/{req}."""
        with self.lock:
            rec = self._upload_or_404(uuid, req)
            if isinstance(rec, Response):
                return rec
            return envelope(self._status_view(rec))

    def list_uploads(self, request: Request, uuid: str) -> Response:
        """GET logs/{uuid}/list with optional sort, page and filter (JSON strings)."""
        try:
            sort = request.args.get("sort")
            page = json.loads(request.args["page"]) if "page" in request.args else None
            flt = json.loads(request.args["filter"]) if "filter" in request.args else None
        except ValueError as exc:
            return error(f"invalid list query: {exc}", 400)
        if sort and sort.lstrip("-") not in LOG_SORT_FIELDS:
            return error(f"sort must be one of {list(LOG_SORT_FIELDS)}", 400)
        with self.lock:
            if uuid not in self.devices:
                return error(f"device {uuid} not found", 404)
            rows = []
            for rec in self.uploads.values():
                if rec["_device"] != uuid:
                    continue
                self._upload_status(rec)
                rows.append({
                    "status": rec["status"], "content_length": rec["content_length"],
                    "creator": rec["creator"], "created_at": rec["created_at"],
                    "request_uuid": rec["request_uuid"], "creation_time": rec["created_at"],
                    "updated_at": rec["updated_at"], "filename": rec["filename"],
                    "last_modified": rec.get("last_modified", rec["created_at"]),
                    "metadata": rec["metadata"],
                })
        try:
            if flt is not None:
                rows = [r for r in rows if _filter_matches(flt, r)]
        except (KeyError, TypeError, AttributeError) as exc:
            return error(f"invalid filter: {exc}", 400)
        if sort:
            field = sort.lstrip("-")
            key = "content_length" if field == "total_size" else field
            rows.sort(key=lambda r: r[key], reverse=sort.startswith("-"))
        if isinstance(page, dict):
            size, number = int(page.get("size", 10)), int(page.get("number", 1))
            rows = rows[(number - 1) * size: number * size]
        return envelope(rows)

    def _sign(self, file_id: str, expires: int) -> str:
        return hmac.new(self._secret, f"{file_id}:{expires}".encode(), hashlib.sha256).hexdigest()

    def download(self, request: Request, uuid: str, req: str) -> Response:
        """GET logs/{uuid}/{req}: data.signed_url, served by the sandbox under /_files/."""
        with self.lock:
            rec = self._upload_or_404(uuid, req)
            if isinstance(rec, Response):
                return rec
            if rec["status"] != "COMPLETED":
                return error(f"upload {req} is {rec['status']}, not COMPLETED", 400)
            expires = int(time.time()) + 3600
            url = (f"{self._base_url(request)}/_files/{req}?expires={expires}"
                   f"&signature={self._sign(req, expires)}")
        return envelope({"signed_url": url})

    def cancel_upload(self, request: Request, uuid: str, req: str) -> Response:
        """PUT logs/{uuid}/{req}/cancel: only while IN PROGRESS."""
        with self.lock:
            rec = self._upload_or_404(uuid, req)
            if isinstance(rec, Response):
                return rec
            if rec["status"] != "IN PROGRESS":
                return error(f"upload {req} is {rec['status']}; only IN PROGRESS can be cancelled",
                             400)
            rec["status"] = "CANCELLED"
            rec["updated_at"] = iso(time.time())
            if rec["_file"] is not None:
                Path(rec["_file"]).unlink(missing_ok=True)
                rec["_file"] = None
        return envelope({"success": True})

    def _drop_upload(self, rec: dict[str, Any]) -> None:
        if rec["_file"] is not None:
            Path(rec["_file"]).unlink(missing_ok=True)
        self.uploads.pop(rec["request_uuid"], None)
        for key in [k for k, s in self.shared_urls.items() if s["_request"] == rec["request_uuid"]]:
            del self.shared_urls[key]

    def delete_upload(self, request: Request, uuid: str, req: str) -> Response:
        """DELETE logs/{uuid}/{req}: not while IN PROGRESS."""
        with self.lock:
            rec = self._upload_or_404(uuid, req)
            if isinstance(rec, Response):
                return rec
            if rec["status"] == "IN PROGRESS":
                return error(f"upload {req} is in progress", 400)
            self._drop_upload(rec)
        return envelope({"success": True})

    def create_shared_url(self, request: Request, req: str) -> Response:
        """POST logs/{req}/shared_urls with {expiry_time: epoch seconds}."""
        body = self._body(request)
        expiry = body.get("expiry_time") if isinstance(body, dict) else None
        if not isinstance(expiry, (int, float)) or isinstance(expiry, bool):
            return error("expiry_time (epoch seconds) is required", 400)
        with self.lock:
            rec = self.uploads.get(req)
            if rec is None:
                return error(f"log upload request {req} not found", 404)
            if self._upload_status(rec) != "COMPLETED":
                return error(f"upload {req} is {rec['status']}, not COMPLETED", 400)
            if expiry <= time.time():
                return error("expiry_time is in the past", 400)
            url_uuid = self._uuid4()
            shared = {
                "id": self._next_id(), "url_uuid": url_uuid, "expiry_time": iso(expiry),
                "creator": CREATOR, "created_at": iso(time.time()), "_request": req,
                "_expiry": float(expiry),
            }
            self.shared_urls[url_uuid] = shared
            return envelope({k: v for k, v in shared.items() if not k.startswith("_")})

    def _file_response(self, rec: dict[str, Any]) -> Response:
        data = Path(rec["_file"]).read_bytes()
        return Response(
            data, mimetype="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{rec["filename"]}"'},
        )

    def serve_shared_url(self, request: Request, url_uuid: str) -> Response:
        """GET /logs/sharedurl/{url_uuid}: public; the file until the URL expires."""
        with self.lock:
            shared = self.shared_urls.get(url_uuid)
            if shared is None:
                return error(f"shared url {url_uuid} not found", 404)
            if shared["_expiry"] <= time.time():
                return error(f"shared url {url_uuid} has expired", 403)
            rec = self.uploads.get(shared["_request"])
            if rec is None or rec["_file"] is None:
                return error("the file behind this shared url is gone", 404)
            return self._file_response(rec)

    def serve_file(self, request: Request, file_id: str) -> Response:
        """GET /_files/{id}?expires=&signature=: the signed download URL."""
        try:
            expires = int(request.args.get("expires", ""))
        except ValueError:
            return error("missing or invalid expires", 403)
        signature = unquote(request.args.get("signature", ""))
        if not hmac.compare_digest(signature, self._sign(file_id, expires)):
            return error("invalid signature", 403)
        if expires < time.time():
            return error("signed url has expired", 403)
        with self.lock:
            rec = self.uploads.get(file_id)
            if rec is None or rec["_file"] is None:
                return error(f"file {file_id} not found", 404)
            return self._file_response(rec)


_BAD_JSON = object()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _facts(dev: dict[str, Any]) -> dict[str, str]:
    return {"cpuarch": CPUARCH[dev["_arch"]], "arch": dev["_arch"], "name": dev["name"],
            "status": dev["status"]}


def _spec_matches(spec: dict[str, Any], facts: dict[str, str]) -> bool:
    op, args = spec["operator"], spec["args"]
    if op in ("$or", "$and"):
        results = [_spec_matches(a, facts) for a in args]
        return any(results) if op == "$or" else all(results)
    field: str
    value: object
    field, value = args
    actual = facts.get(field, "")
    if op == "$eq":
        return actual == value
    if op == "$in":
        return str(value) in actual
    if op == "$ne":
        return actual != value
    raise ValueError(f"unknown operator {op!r}")


def _filter_matches(flt: Any, row: dict[str, Any]) -> bool:
    if "and" in flt:
        return all(_filter_matches(f, row) for f in flt["and"])
    if "or" in flt:
        return any(_filter_matches(f, row) for f in flt["or"])
    ((field, cond),) = flt.items()
    if isinstance(cond, dict) and "like" in cond:
        pattern = re.escape(cond["like"]).replace("%", ".*").replace("_", ".")
        return re.fullmatch(pattern, str(row[field])) is not None
    return bool(row[field] == cond)
