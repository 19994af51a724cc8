"""The rapyuta.io sandbox: the v1 catalog and device-manager wire API on one loopback server.

An independent implementation of the API described in ``reference/rapyuta_api.md``: catalog paths
(routed networks, packages, provisioning, deployments) answer raw JSON, device-manager paths
(``/api/device-manager/v0/...``) answer ``{"status": "success", "response": {"data": ...}}``, and
errors are ``{"error": "..."}`` with 400/401/403/404/409/500. Point the official SDK (or any client)
at ``SimServer(RapyutaSim()).start().url`` for all three hosts.

Usage::

    app = RapyutaSim(token="t", project="p", delay=0.2)
    with SimServer(app) as server:
        ...  # Authorization: Bearer t, project: p

Timing: routed networks and deployments move through their phases lazily over ``delay`` seconds,
computed from the clock at each GET: ``In progress/Pending`` (first quarter),
``Provisioning/Pending`` (second quarter), ``Succeeded/Pending`` (second half), then
``Succeeded/Running``. Log uploads are ``IN PROGRESS`` for ``delay`` seconds, then ``COMPLETED``.

Seeded devices (override with ``devices=[{name, status, arch, runtime, ros_distro,
ros_workspace, rosbag_mount_path, labels, ip_interfaces, config_variables, uuid?}, ...]``):

====================================== ======================== ======= ======== ==============
uuid                                   name                     status  arch     runtime
====================================== ======================== ======= ======== ==============
5e1f7c2a-0001-4a6b-9d3e-a1b2c3d4e501   sim-amd64-docker         ONLINE  amd64    dockercompose
5e1f7c2a-0002-4a6b-9d3e-a1b2c3d4e502   sim-arm64-preinstalled   ONLINE  arm64v8  preinstalled
5e1f7c2a-0003-4a6b-9d3e-a1b2c3d4e503   sim-arm32v7              ONLINE  arm32v7  dockercompose
5e1f7c2a-0004-4a6b-9d3e-a1b2c3d4e504   sim-amd64-offline        OFFLINE amd64    dockercompose
====================================== ======================== ======= ======== ==============

(constants ``DEVICE_AMD64_DOCKER``, ``DEVICE_ARM64_PREINSTALLED``, ``DEVICE_ARM32``,
``DEVICE_OFFLINE``). Commands (``POST cmd/``) really run: ``[shell or /bin/sh, -c, cmd]`` in the
device's scratch directory (``scratch_root/<uuid>``, or a temporary directory), with a clean
environment: a fixed minimal ``PATH``, ``HOME`` (the scratch directory), ``LANG``, ``USER``,
``RIO_DEVICE_ID``, the device's config variables and the command's ``env`` (nothing of the host's
environment). When the sandbox runs as root, commands run as ``command_user`` (default
``nobody``), which owns the scratch directories. They are killed after ``command_timeout``
seconds (answer 500). ``cwd`` and log-upload ``device_path`` are resolved inside the scratch
directory. ``runas`` is ignored. ``bg: true`` starts the command and answers ``{uuid: ""}`` at
once. A device that is not ONLINE refuses commands, topics, log uploads and provisioning with
**409**.

Devices can also be registered (``POST auth-keys/?download_type=script``: REGISTERED), onboarded
(``GET auth-keys/<uuid>/token``, then ``GET /start`` with the device token: INITIALIZING, ONLINE
after ``delay``), saved (``PUT devices/``), upgraded (``PUT devices/<uuid>/upgrade``), get agent
features toggled (``PATCH devices/<uuid>/daemons``: ``vpn``, ``tracing``) and parameters applied
(``POST parameters/``). Deployments can be updated (``PATCH /v2/service_instances/<id>``: new
images, ``currentGeneration`` + 1, phases start over). The core host answers
``GET /api/user/me/get`` and the metrics API (``/api/metrics/v0/query/``, ``metrics/…``,
``tags/…``) with synthetic, deterministic series for the known metric groups (``METRIC_GROUPS``).

Ids (routed networks, packages, deployments, uploads, …) are random per start; ``seed=N``
reproduces them. The secret that signs download URLs is random per start, seed or not.

Fault knobs, beyond SimApp's generic ``/_admin/faults`` (Python method / admin endpoint):

- ``fail_next_deployment("stuck"|"failed"|"ok")`` / ``POST /_admin/deployments/next
  {"outcome": ...}``: the next provisioned deployment stays in ``Provisioning`` forever
  (``stuck``) or ends ``Failed to start``/``Error`` with ``errors ["DEP_E151"]`` (``failed``).
  Outcomes queue up, one per deployment.
- ``fail_next_routed_network(...)`` / ``POST /_admin/routednetworks/next``: the same for routed
  networks (``internalDeploymentStatus.error_code ["DEP_E151"]``).
- ``set_deployment_outcome(id, outcome)`` / ``POST /_admin/deployments/<id> {"outcome"}``: change
  a live deployment's fate (e.g. make a running one fail).
- ``set_device_status(uuid, "OFFLINE")`` / ``POST /_admin/devices/<uuid>/status {"status"}``.
- ``GET /_admin/devices``: uuid, name, status, arch and scratch directory of every device.

``live_resources()`` (``GET /_admin/resources``) lists the live ``routed_networks``,
``packages``, ``deployments`` and ``devices`` registered through the API (not the seeded ones),
id and name each; deleted ones disappear at once.
"""

from __future__ import annotations

import copy
import math
import random
import secrets
import string
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from pytest_robofixtures.sim._wsgi import SimApp, json_response, read_json
from pytest_robofixtures.sim.rapyuta_devices import (
    ARCHES,
    CREATOR,
    DEFAULT_COMMAND_USER,
    DEVICE_AMD64_DOCKER,
    DEVICE_ARM32,
    DEVICE_ARM64_PREINSTALLED,
    DEVICE_OFFLINE,
    DeviceManager,
    default_devices,
    error,
    iso,
)
from pytest_robofixtures.sim.rapyuta_families import Families

__all__ = [
    "DEVICE_AMD64_DOCKER", "DEVICE_ARM32", "DEVICE_ARM64_PREINSTALLED", "DEVICE_OFFLINE",
    "OUTCOMES", "RapyutaSim", "default_devices",
]

#: fates of a deployment or routed network
OUTCOMES = ("ok", "stuck", "failed")
ROS_DISTROS = ("kinetic", "melodic", "noetic")
RESTART_POLICIES = ("always", "no", "on-failure")
RUNTIMES = ("cloud", "device")
FAILED_ERROR = "DEP_E151"
#: the metric groups and names every entity reports (synthetic values; see query_metrics)
METRIC_GROUPS = {
    "cpu": ["usage_user", "usage_system", "usage_idle"],
    "mem": ["used_percent", "available"],
    "disk": ["used_percent"],
    "net": ["bytes_recv", "bytes_sent"],
}
METRIC_TAGS = ["tenant_id", "organization_id", "device_id", "deployment_id", "host"]
METRIC_FUNCTIONS = ("count", "distinct", "mean", "median", "mode", "avg", "stddev", "derivative",
                    "max", "min", "first", "last", "percentile_95", "percentile_99")
STEPS = {"1s": 1, "10s": 10, "30s": 30, "1m": 60, "5m": 300, "15m": 900}
#: points of one query answer at most (the step is widened beyond)
MAX_POINTS = 500


class RapyutaSim(SimApp):
    """rapyuta.io v1 (catalog + device manager) sandbox; see the module docstring."""

    def __init__(
        self,
        token: str = "sim-token",
        project: str | None = "sim-project",
        delay: float = 0.5,
        scratch_root: Path | None = None,
        devices: list[dict[str, Any]] | None = None,
        seed: int | None = None,
        command_timeout: float = 30.0,
        command_user: str | None = DEFAULT_COMMAND_USER,
        stepwise: bool = False,
    ) -> None:
        super().__init__()
        #: every phase is answered at least once before the next (a seeded, reproducible run)
        self.stepwise = stepwise
        self.token = token
        self.project = project
        self.delay = float(delay)
        self._rng = random.Random(seed)
        self._ids = 0
        self.networks: dict[str, dict[str, Any]] = {}
        self.packages: dict[str, dict[str, Any]] = {}
        self.deployments: dict[str, dict[str, Any]] = {}
        self._next_network: deque[str] = deque()
        self._next_deployment: deque[str] = deque()
        self.dm = DeviceManager(
            self.lock, self.delay, devices, scratch_root, project,
            secret=secrets.token_bytes(32), base_url=lambda r: r.host_url.rstrip("/"),
            command_timeout=command_timeout, rng=self._rng, command_user=command_user,
        )
        self.dm.deployments_of = self._device_deployments
        self.organization = self._id("org")
        routes: list[tuple[str, Callable[..., Response], list[str]]] = [
            ("/routednetwork", self.create_network, ["POST"]),
            ("/routednetwork", self.list_networks, ["GET"]),
            ("/routednetwork/<guid>", self.get_network, ["GET"]),
            ("/routednetwork/<guid>", self.delete_network, ["DELETE"]),
            ("/serviceclass/add", self.create_package, ["POST"]),
            ("/serviceclass/status", self.get_package, ["GET"]),
            ("/serviceclass/delete", self.delete_package, ["DELETE"]),
            ("/v2/catalog", self.catalog, ["GET"]),
            ("/v2/service_instances/<instance>", self.provision, ["PUT"]),
            ("/v2/service_instances/<dep_id>", self.deprovision, ["DELETE"]),
            ("/v2/service_instances/<dep_id>", self.update_deployment, ["PATCH"]),
            ("/v2/service_instances/<dep_id>/service_bindings/<binding>", self.bind, ["PUT"]),
            ("/serviceinstance/<dep_id>", self.get_deployment, ["GET"]),
            ("/deployment/list", self.list_deployments, ["GET"]),
            ("/api/user/me/get", self.get_user, ["GET"]),
            ("/api/metrics/v0/query/", self.query_metrics, ["POST"]),
            ("/api/metrics/v0/metrics/<entity>/<entity_id>", self.list_metrics, ["GET"]),
            ("/api/metrics/v0/tags/<entity>/<entity_id>", self.list_tag_keys, ["GET"]),
            ("/api/metrics/v0/tags/<entity>/<entity_id>/<tag>", self.list_tag_values, ["GET"]),
            (f"{self.ADMIN}/deployments/next", self._admin_next_deployment, ["POST"]),
            (f"{self.ADMIN}/deployments/<dep_id>", self._admin_deployment_outcome, ["POST"]),
            (f"{self.ADMIN}/routednetworks/next", self._admin_next_network, ["POST"]),
            (f"{self.ADMIN}/devices", self._admin_devices, ["GET"]),
            (f"{self.ADMIN}/devices/<uuid>/status", self._admin_device_status, ["POST"]),
        ]
        for rule, handler, methods in routes + self.dm.routes():
            self.route(rule, handler, methods)
        self.families = Families(self)

    # -- public knobs -------------------------------------------------------------------------
    def fail_next_deployment(self, outcome: str = "failed") -> None:
        """Make the next provisioned deployment ``stuck`` or ``failed`` (or ``ok``)."""
        _check_outcome(outcome)
        with self.lock:
            self._next_deployment.append(outcome)

    def fail_next_routed_network(self, outcome: str = "failed") -> None:
        """Make the next created routed network ``stuck`` or ``failed`` (or ``ok``)."""
        _check_outcome(outcome)
        with self.lock:
            self._next_network.append(outcome)

    def set_deployment_outcome(self, deployment_id: str, outcome: str) -> None:
        """Change the fate of a live deployment (KeyError when unknown)."""
        _check_outcome(outcome)
        with self.lock:
            self.deployments[deployment_id]["_outcome"] = outcome

    def set_device_status(self, uuid: str, status: str) -> None:
        """Set a device's status, e.g. ``OFFLINE`` (KeyError when unknown)."""
        self.dm.set_status(uuid, status)

    def scratch_dir(self, uuid: str) -> Path:
        """The directory standing for the device's filesystem (where commands run)."""
        with self.lock:
            return self.dm.scratch_dir(uuid)

    def live_resources(self) -> dict[str, list[dict[str, Any]]]:
        """Live routed networks, packages, deployments and registered devices (id and name)."""
        with self.lock:
            return {
                "devices": [{"id": u, "name": d["name"]} for u, d in self.dm.devices.items()
                            if d.get("_registered")],
                "routed_networks": [{"id": g, "name": n["name"]} for g, n in self.networks.items()],
                "packages": [
                    {"id": p, "name": r["packageName"], "version": r["packageVersion"]}
                    for p, r in self.packages.items()
                ],
                "deployments": [{"id": d, "name": r["name"]} for d, r in self.deployments.items()],
                **self.families.live_resources(),
            }

    def close(self) -> None:
        """Kill running commands and remove scratch and storage directories."""
        self.dm.close()

    # -- SimApp hooks -------------------------------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        """Bearer token must match; so must the ``project`` header when the sandbox has one."""
        path = request.path.lstrip("/")
        if path == "start":
            return None  # authenticated by the device's onboarding token (its own handler)
        if path.startswith(("_files/", "logs/sharedurl/")):
            return None  # signed or shared URLs are public, like the platform's storage links
        auth = request.headers.get("Authorization")
        if auth is None:
            return error("missing Authorization header", 401)
        if auth != f"Bearer {self.token}":
            return error("invalid auth token in the Authorization header", 401)
        if self.project is not None:
            project = request.headers.get("project")
            if project is None:
                return error("missing project header", 403)
            if project != self.project:
                return error(f"project header {project!r} is not a project of this user", 403)
        return None

    # -- helpers ------------------------------------------------------------------------------
    def _id(self, prefix: str, length: int = 20) -> str:
        return f"{prefix}-" + "".join(self._rng.choices(string.ascii_lowercase, k=length))

    def _seq(self) -> int:
        self._ids += 1
        return self._ids

    def _owner(self) -> str:
        return self.project or "project-sim"

    def _phase(self, rec: dict[str, Any]) -> tuple[str, str, list[str]]:
        """(phase, status, errors) of a deployment or routed network, now.

        The phases follow the delay. When ``stepwise`` (a sandbox started with an explicit
        seed), none is skipped: each is answered at least once before the next, so a slow client
        sees the same sequence as a fast one and recordings of one seed hold the same answers.
        """
        elapsed = time.monotonic() - rec["_t0"]
        outcome, d = rec["_outcome"], self.delay
        by_time = 0 if elapsed < d / 4 else 1 if elapsed < d / 2 else 2 if elapsed < d else 3
        if outcome == "stuck":
            by_time = min(by_time, 1)
        elif outcome == "failed":
            by_time = min(by_time, 2)
        stage = by_time
        if self.stepwise:
            stage = min(by_time, rec.get("_stage_seen", -1) + 1)
            rec["_stage_seen"] = max(stage, rec.get("_stage_seen", -1))
        if stage == 0:
            return "In progress", "Pending", []
        if stage == 1:
            return "Provisioning", "Pending", []
        if outcome == "failed":
            return "Failed to start", "Error", [FAILED_ERROR]
        if stage == 2:
            return "Succeeded", "Pending", []
        return "Succeeded", "Running", []

    def _stamps(self, rec: dict[str, Any]) -> dict[str, Any]:
        return {"ID": rec["_seq"], "CreatedAt": iso(rec["_wall0"]),
                "UpdatedAt": iso(rec["_wall0"]), "DeletedAt": None}

    @staticmethod
    def _body(request: Request) -> tuple[Any, Response | None]:
        try:
            return read_json(request), None
        except ValueError as exc:
            return None, error(f"request body is not valid JSON: {exc}", 400)

    # -- routed networks ----------------------------------------------------------------------
    def _network_view(self, rec: dict[str, Any]) -> dict[str, Any]:
        phase, status, errors = self._phase(rec)
        out = {k: copy.deepcopy(v) for k, v in rec.items() if not k.startswith("_")}
        out.update(self._stamps(rec))
        out["internalDeploymentStatus"] = {"phase": phase, "status": status, "error_code": errors}
        return out

    def create_network(self, request: Request) -> Response:
        """POST /routednetwork: validate, create, answer the object (with ``guid``)."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        problem = self._check_network(body)
        if problem is not None:
            return problem
        with self.lock:
            if any(n["name"] == body["name"] for n in self.networks.values()):
                return error(f"routed network with name {body['name']} already exists", 409)
            params = body.get("parameters") or {}
            if body["runtime"] == "device":
                dev = self.dm.get(params.get("device_id", ""))
                if dev is None:
                    return error(f"device {params.get('device_id')} not found", 400)
                if dev["status"] != "ONLINE":
                    return error(f"device {dev['uuid']} is {dev['status']}, not ONLINE", 409)
                iface = params.get("NETWORK_INTERFACE")
                if iface not in dev["ip_interfaces"]:
                    return error(f"NETWORK_INTERFACE should be in {sorted(dev['ip_interfaces'])}",
                                 400)
            guid = self._id("net")
            rec = {
                "name": body["name"], "guid": guid, "ownerProject": self._owner(),
                "creator": CREATOR, "runtime": body["runtime"], "rosDistro": body["rosDistro"],
                "shared": bool(body.get("shared", False)), "parameters": params,
                "internalDeploymentGUID": self._id("dep"),
                "_outcome": self._next_network.popleft() if self._next_network else "ok",
                "_t0": time.monotonic(), "_wall0": time.time(), "_seq": self._seq(),
            }
            self.networks[guid] = rec
            return json_response(self._network_view(rec))

    def _check_network(self, body: Any) -> Response | None:
        if not isinstance(body, dict):
            return error("routed network body must be a JSON object", 400)
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            return error("name is required", 400)
        if body.get("runtime") not in RUNTIMES:
            return error(f"runtime must be one of {list(RUNTIMES)}", 400)
        if body.get("rosDistro") not in ROS_DISTROS:
            return error(f"rosDistro must be one of {list(ROS_DISTROS)}", 400)
        if "shared" in body and not isinstance(body["shared"], bool):
            return error("shared must be a boolean", 400)
        params = body.get("parameters")
        if params is None:
            return None
        if not isinstance(params, dict):
            return error("parameters must be an object", 400)
        limits = params.get("limits")
        if limits is not None:
            if body["runtime"] == "device":
                return error("limits apply to cloud routed networks only", 400)
            cpu, memory = (limits.get("cpu"), limits.get("memory")) if isinstance(
                limits, dict) else (None, None)
            if not _positive(cpu) or not (_positive(memory) and isinstance(memory, int)):
                return error("limits need cpu > 0 and an integer memory > 0", 400)
        if body["runtime"] == "device":
            if not params.get("device_id"):
                return error("parameters.device_id is required for a device routed network", 400)
            policy = params.get("restart_policy", "always")
            if policy not in RESTART_POLICIES:
                return error(f"restart_policy must be one of {list(RESTART_POLICIES)}", 400)
        return None

    def list_networks(self, request: Request) -> Response:
        """GET /routednetwork: a JSON array."""
        with self.lock:
            return json_response([self._network_view(n) for n in self.networks.values()])

    def get_network(self, request: Request, guid: str) -> Response:
        """GET /routednetwork/{guid}."""
        with self.lock:
            rec = self.networks.get(guid)
            if rec is None:
                return error(f"routed network {guid} not found", 404)
            return json_response(self._network_view(rec))

    def delete_network(self, request: Request, guid: str) -> Response:
        """DELETE /routednetwork/{guid}: 409 while a deployment uses it."""
        with self.lock:
            if guid not in self.networks:
                return error(f"routed network {guid} not found", 404)
            users = [
                d for d, rec in self.deployments.items()
                if any(n.get("guid") == guid for n in rec["provisionContext"]["routedNetworks"])
            ]
            if users:
                return error(f"routed network {guid} is in use by deployments {users}", 409)
            del self.networks[guid]
        return json_response({"success": True})

    # -- packages -----------------------------------------------------------------------------
    def create_package(self, request: Request) -> Response:
        """POST /serviceclass/add with the manifest: validate like the platform."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        problem = _check_manifest(body)
        if problem is not None:
            return error(problem, 400)
        with self.lock:
            for pkg in self.packages.values():
                if pkg["packageName"] == body["name"] \
                        and pkg["packageVersion"] == body["packageVersion"]:
                    return error(f"package {body['name']} version {body['packageVersion']} "
                                 "already exists", 409)
            pid = self._id("pkg", 24)
            now = time.time()
            plans, plan_ids = [], []
            for plan in body["plans"]:
                plan_id = self._id("plan")
                internal, components = [], []
                for comp in plan["components"]:
                    comp_id = self._id("comp")
                    internal.append({"componentId": comp_id, "componentName": comp["name"],
                                     "planId": plan_id, "runtime": comp["requiredRuntime"]})
                    components.append(self._component(comp, comp_id))
                inbound = copy.deepcopy(plan.get("inboundROSInterfaces") or {})
                for key in ("topics", "services", "actions"):
                    inbound.setdefault(key, [])
                inbound.setdefault("anyIncomingScopedOrTargetedRosConfig", False)
                plans.append({
                    "planId": plan_id, "planName": plan["name"], "packageId": pid,
                    "description": plan.get("description", ""),
                    "singleton": bool(plan.get("singleton", False)),
                    "inboundROSInterfaces": {"inboundROSInterfaces": inbound},
                    "dependentDeployments": copy.deepcopy(plan.get("dependentDeployments") or []),
                    "exposedParameters": copy.deepcopy(plan.get("exposedParameters") or []),
                    "metadata": copy.deepcopy(plan.get("metadata") or {}),
                    "components": {"components": components},
                    "internalComponents": internal,
                    "CreatedAt": iso(now), "UpdatedAt": iso(now), "DeletedAt": None,
                })
                plan_ids.append({"planId": plan_id,
                                 "componentIds": [c["componentId"] for c in internal]})
            self.packages[pid] = {
                "guid": pid, "packageName": body["name"], "packageVersion": body["packageVersion"],
                "apiVersion": body.get("apiVersion", "1.0.0"),
                "description": body.get("description", ""), "bindable": True,
                "status": "Complete", "tags": copy.deepcopy(body.get("tags") or []),
                "buildGeneration": 0, "ownerProject": self._owner(), "creator": CREATOR,
                "ID": self._seq(), "CreatedAt": iso(now), "UpdatedAt": iso(now),
                "DeletedAt": None, "plans": plans,
            }
        return json_response({"packageId": pid, "planIds": plan_ids})

    def _component(self, comp: dict[str, Any], comp_id: str) -> dict[str, Any]:
        out = copy.deepcopy(comp)
        out["componentId"] = comp_id
        out.setdefault("description", "")
        out.setdefault("parameters", [])
        ros = out.setdefault("ros", {})
        ros.setdefault("isROS", False)
        for key in ("topics", "services", "actions"):
            ros.setdefault(key, [])
        for exe in out["executables"]:
            exe["id"] = self._id("exec")
            exe.setdefault("cmd", [])
        if comp["requiredRuntime"] == "cloud":
            infra = out.setdefault("cloudInfra", {})
            infra.setdefault("endpoints", [])
            infra.setdefault("replicas", 1)
        return out

    def _package_arg(self, request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        pid = request.args.get("package_uid")
        if not pid:
            return None, error("package_uid is required", 400)
        pkg = self.packages.get(pid)
        if pkg is None:
            return None, error(f"package {pid} not found", 404)
        return pkg, None

    def get_package(self, request: Request) -> Response:
        """GET /serviceclass/status?package_uid=: {"packageInfo": {...}}."""
        with self.lock:
            pkg, bad = self._package_arg(request)
            if bad is not None or pkg is None:
                return bad or error("package not found", 404)
            return json_response({"packageInfo": copy.deepcopy(pkg)})

    def delete_package(self, request: Request) -> Response:
        """DELETE /serviceclass/delete?package_uid=: 409 while it has deployments."""
        with self.lock:
            pkg, bad = self._package_arg(request)
            if bad is not None or pkg is None:
                return bad or error("package not found", 404)
            users = [d for d, r in self.deployments.items() if r["packageId"] == pkg["guid"]]
            if users:
                return error(f"package {pkg['guid']} has deployments {users}", 409)
            del self.packages[pkg["guid"]]
        return json_response({"success": True})

    def catalog(self, request: Request) -> Response:
        """GET /v2/catalog: {"services": [...]} in the broker's shape."""
        with self.lock:
            services = [
                {
                    "id": pid, "name": pkg["packageName"], "description": pkg["description"],
                    "bindable": True,
                    "plans": [
                        {"id": p["planId"], "name": p["planName"], "description": p["description"],
                         "free": True, "metadata": copy.deepcopy(p["metadata"])}
                        for p in pkg["plans"]
                    ],
                    "metadata": {"creationDate": pkg["CreatedAt"], "creator": pkg["creator"],
                                 "isPublic": False, "ownerProject": pkg["ownerProject"],
                                 "packageVersion": pkg["packageVersion"]},
                }
                for pid, pkg in self.packages.items()
            ]
        return json_response({"services": services})

    # -- deployments --------------------------------------------------------------------------
    def provision(self, request: Request, instance: str) -> Response:
        """PUT /v2/service_instances/instanceId: validate the body, answer {"operation": id}."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        if not isinstance(body, dict):
            return error("provision body must be a JSON object", 400)
        with self.lock:
            checked = self._check_provision(body)
            if isinstance(checked, Response):
                return checked
            pkg, plan, devices = checked
            dep_id = self._id("dep")
            context = copy.deepcopy(body.get("context") or {})
            for key in ("labels", "routedNetworks", "nativeNetworks", "dependentDeployments",
                        "diskMountInfo"):
                context.setdefault(key, [])
            context.setdefault("component_context", {})
            components = []
            for internal in plan["internalComponents"]:
                cid = internal["componentId"]
                components.append({
                    "componentID": cid, "componentInstanceID": self._id("inst"),
                    "name": internal["componentName"], "runtime": internal["runtime"],
                    "planID": plan["planId"], "device_id": devices.get(cid),
                    "executables": [
                        e["id"] for c in plan["components"]["components"]
                        if c["componentId"] == cid for e in c["executables"]
                    ],
                })
            rec = {
                "deploymentId": dep_id, "name": context["name"], "packageId": pkg["guid"],
                "packageName": pkg["packageName"], "packageAPIVersion": pkg["apiVersion"],
                "planId": plan["planId"], "bindable": True, "currentGeneration": 1,
                "parameters": copy.deepcopy(body.get("parameters") or {}),
                "provisionContext": context, "labels": copy.deepcopy(context["labels"]),
                "dependentDeployments": copy.deepcopy(context["dependentDeployments"]),
                "ownerProject": self._owner(), "creator": CREATOR,
                "_components": components,
                "_outcome": self._next_deployment.popleft() if self._next_deployment else "ok",
                "_t0": time.monotonic(), "_wall0": time.time(), "_seq": self._seq(),
            }
            self.deployments[dep_id] = rec
        return json_response({"operation": dep_id})

    def _check_provision(
        self, body: dict[str, Any]
    ) -> Response | tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
        pkg = self.packages.get(body.get("service_id") or "")
        if pkg is None:
            return error(f"package (service_id) {body.get('service_id')!r} not found", 400)
        plan = next((p for p in pkg["plans"] if p["planId"] == body.get("plan_id")), None)
        if plan is None:
            return error(f"plan {body.get('plan_id')!r} not found in package {pkg['guid']}", 400)
        context = body.get("context")
        if not isinstance(context, dict) or not isinstance(context.get("name"), str) \
                or not context["name"].strip():
            return error("context.name (the deployment name) is required", 400)
        params = body.get("parameters")
        if not isinstance(params, dict):
            return error("parameters must be an object", 400)
        devices: dict[str, str] = {}
        for comp in plan["components"]["components"]:
            cid = comp["componentId"]
            cparams = params.get(cid)
            if not isinstance(cparams, dict):
                return error(f"parameters for component {comp['name']} ({cid}) are missing", 400)
            for declared in comp["parameters"]:
                if cparams.get(declared["name"]) in (None, ""):
                    return error(f"Provide the value for the parameter {declared['name']} in "
                                 f"component {comp['name']}", 400)
            if comp["requiredRuntime"] != "device":
                continue
            uuid = cparams.get("device_id")
            if not uuid:
                return error(f"component {comp['name']} is not mapped with a device", 400)
            dev = self.dm.get(uuid)
            if dev is None:
                return error(f"device {uuid} not found", 400)
            if dev["status"] != "ONLINE":
                return error(f"device {uuid} is {dev['status']}, not ONLINE", 409)
            arch = comp.get("architecture")
            if arch and arch != self.dm.arch(uuid):
                return error(f"component {comp['name']} needs architecture {arch}, device "
                             f"{uuid} is {self.dm.arch(uuid)}", 400)
            config = self.dm.config(uuid)
            docker_ok = config.get("runtime") == "dockercompose" \
                or str(config.get("runtime_docker")).lower() == "true"
            pre_ok = config.get("runtime") == "preinstalled" \
                or str(config.get("runtime_preinstalled")).lower() == "true"
            for exe in comp["executables"]:
                is_docker = any(exe.get(k) for k in ("docker", "gitExecutable", "buildGUID"))
                if is_docker and not docker_ok:
                    return error(f"device {uuid} must be a dockercompose device", 400)
                if not is_docker and not pre_ok:
                    return error(f"device {uuid} must be a preinstalled device", 400)
            devices[cid] = uuid
        context = body["context"]
        for net in context.get("routedNetworks") or []:
            guid = net.get("guid") if isinstance(net, dict) else None
            if guid not in self.networks:
                return error(f"routed network {guid} not found", 400)
        bound = self.families.check_provision(context, plan)
        if bound is not None:
            return bound
        for dep in context.get("dependentDeployments") or []:
            did = dep.get("dependentDeploymentId") if isinstance(dep, dict) else None
            if did not in self.deployments:
                return error(f"dependent deployment {did} not found", 400)
        return pkg, plan, devices

    def _deployment_view(self, rec: dict[str, Any], full: bool = True) -> dict[str, Any]:
        phase, status, errors = self._phase(rec)
        if rec.get("_last_state") != (phase, status):  # when the status last changed, not now
            rec["_last_state"], rec["_last_change"] = (phase, status), time.time()
        out: dict[str, Any] = {
            "deploymentId": rec["deploymentId"], "name": rec["name"],
            "packageId": rec["packageId"], "packageName": rec["packageName"],
            "packageAPIVersion": rec["packageAPIVersion"], "planId": rec["planId"],
            "bindable": True, "currentGeneration": rec["currentGeneration"],
            "phase": phase, "status": status, "errors": errors, "inUse": False, "usedBy": "",
            "ownerProject": rec["ownerProject"], "creator": rec["creator"],
            "lastStatusUpdateTime": iso(rec["_last_change"]),
        }
        out.update(self._stamps(rec))
        if not full:
            return out
        comp_status = {"Running": "Running", "Pending": "Pending", "Error": "Error"}[status]
        exe_status = {"Running": "running", "Pending": "pending", "Error": "error"}[status]
        out.update({
            "parameters": copy.deepcopy(rec["parameters"]),
            "provisionContext": copy.deepcopy(rec["provisionContext"]),
            "labels": copy.deepcopy(rec["labels"]),
            "dependentDeployments": copy.deepcopy(rec["dependentDeployments"]),
            "componentInfo": [
                {
                    "componentID": c["componentID"],
                    "componentInstanceID": c["componentInstanceID"], "name": c["name"],
                    "runtime": c["runtime"], "status": comp_status, "phase": phase,
                    "errorCode": errors,
                    "executablesStatusInfo": [
                        {"id": e, "status": exe_status, "metadata": []} for e in c["executables"]
                    ],
                    "isDeprovisioned": False, "planID": c["planID"],
                }
                for c in rec["_components"]
            ],
            "componentInstanceIds": [
                {"componentInstanceId": c["componentInstanceID"], "packageId": rec["packageId"],
                 "planId": rec["planId"], "source": "catalog", "errorCode": []}
                for c in rec["_components"]
            ],
            "dependentDeploymentStatus": {}, "packageDependencyStatus": {},
        })
        return out

    def get_deployment(self, request: Request, dep_id: str) -> Response:
        """GET /serviceinstance/{id}: the full deployment."""
        with self.lock:
            rec = self.deployments.get(dep_id)
            if rec is None:
                return error(f"deployment {dep_id} not found", 404)
            return json_response(self._deployment_view(rec))

    def list_deployments(self, request: Request) -> Response:
        """GET /deployment/list[?package_uid=&phase=...&device_uid=]: partial deployments."""
        phases = request.args.getlist("phase")
        package = request.args.get("package_uid")
        device = request.args.get("device_uid")
        with self.lock:
            out = []
            for rec in self.deployments.values():
                if package and rec["packageId"] != package:
                    continue
                if device and not any(c["device_id"] == device for c in rec["_components"]):
                    continue
                view = self._deployment_view(rec, full=False)
                if phases and view["phase"] not in phases:
                    continue
                out.append(view)
        return json_response(out)

    def deprovision(self, request: Request, dep_id: str) -> Response:
        """DELETE /v2/service_instances/{id}?plan_id=&service_id=&accepts_incomplete=false."""
        with self.lock:
            rec = self.deployments.get(dep_id)
            if rec is None:
                return error(f"deployment {dep_id} not found", 404)
            plan_id, service_id = request.args.get("plan_id"), request.args.get("service_id")
            if not plan_id or not service_id:
                return error("plan_id and service_id are required", 400)
            if plan_id != rec["planId"] or service_id != rec["packageId"]:
                return error(f"plan_id/service_id do not match deployment {dep_id}", 400)
            dependants = [
                d for d, r in self.deployments.items()
                if any(x.get("dependentDeploymentId") == dep_id for x in r["dependentDeployments"])
            ]
            if dependants:
                return error(f"deployment {dep_id} is a dependency of {dependants}", 409)
            del self.deployments[dep_id]
        return json_response({})

    def update_deployment(self, request: Request, dep_id: str) -> Response:
        """PATCH /v2/service_instances/{id}: new executable images; the deployment restarts.

        The body is the SDK's ``UPDATE_DEPLOYMENT_SCHEMA``: ``deployment_id``, ``service_id``,
        ``plan_id`` and ``context.component_context.<componentId>`` =
        ``{update_deployment: bool, component: {executables: [{id, name, docker}]}}``.
        Answers ``{"operation": id}``; ``currentGeneration`` goes up and the phases start over.
        """
        body, bad = self._body(request)
        if bad is not None:
            return bad
        if not isinstance(body, dict):
            return error("update body must be a JSON object", 400)
        for key in ("deployment_id", "service_id", "plan_id"):
            if not isinstance(body.get(key), str) or not body[key]:
                return error(f"{key} is required (a non-empty string)", 400)
        if body["deployment_id"] != dep_id:
            return error(f"deployment_id {body['deployment_id']!r} does not match the path", 400)
        ctx = body.get("context")
        comps = ctx.get("component_context") if isinstance(ctx, dict) else None
        if not isinstance(comps, dict):
            return error("context.component_context is required (an object)", 400)
        with self.lock:
            rec = self.deployments.get(dep_id)
            if rec is None:
                return error(f"deployment {dep_id} not found", 404)
            if body["service_id"] != rec["packageId"] or body["plan_id"] != rec["planId"]:
                return error(f"service_id/plan_id do not match deployment {dep_id}", 400)
            problem = self._check_update(rec, comps)
            if problem is not None:
                return error(problem, 400)
            for entry in comps.values():
                if entry["update_deployment"]:
                    images = rec.setdefault("_images", {})
                    for exe in entry["component"]["executables"]:
                        images[exe["id"]] = exe["docker"]
            rec["currentGeneration"] += 1
            rec["_t0"] = time.monotonic()
            rec["_outcome"] = self._next_deployment.popleft() if self._next_deployment else "ok"
        return json_response({"operation": dep_id})

    def bind(self, request: Request, dep_id: str, binding: str) -> Response:
        """PUT /v2/service_instances/{id}/service_bindings/{binding} with {service_id, plan_id}.

        Answers ``{"credentials": {<componentID>: {name, componentInstanceID,
        networkEndpoints}}}``; the endpoints of cloud components are synthetic host names
        (``<endpoint>-<deployment>.sim.invalid:<port>``), nothing listens there.
        """
        body, bad = self._body(request)
        if bad is not None:
            return bad
        with self.lock:
            rec = self.deployments.get(dep_id)
            if rec is None:
                return error(f"deployment {dep_id} not found", 404)
            if not isinstance(body, dict) or body.get("service_id") != rec["packageId"] \
                    or body.get("plan_id") != rec["planId"]:
                return error(f"service_id/plan_id do not match deployment {dep_id}", 400)
            pkg = self.packages.get(rec["packageId"])
            specs = {c["componentId"]: c for p in (pkg or {}).get("plans", [])
                     for c in p["components"]["components"]}
            creds = {}
            for comp in rec["_components"]:
                spec = specs.get(comp["componentID"], {})
                endpoints = {
                    e["name"]: f"{e['name']}-{dep_id}.sim.invalid:{e.get('port', 443)}"
                    for e in (spec.get("cloudInfra") or {}).get("endpoints") or []
                    if isinstance(e, dict) and e.get("name")
                }
                creds[comp["componentID"]] = {
                    "name": comp["name"], "componentInstanceID": comp["componentInstanceID"],
                    "networkEndpoints": endpoints}
        return json_response({"credentials": creds, "binding_id": binding})

    @staticmethod
    def _check_update(rec: dict[str, Any], comps: dict[str, Any]) -> str | None:
        known = {c["componentID"]: set(c["executables"]) for c in rec["_components"]}
        for cid, entry in comps.items():
            if cid not in known:
                return f"component {cid} is not part of deployment {rec['deploymentId']}"
            if not isinstance(entry, dict) or not isinstance(entry.get("update_deployment"),
                                                             bool):
                return f"component_context.{cid}.update_deployment must be a boolean"
            exes = (entry.get("component") or {}).get("executables") if isinstance(
                entry.get("component"), dict) else None
            if not isinstance(exes, list):
                return f"component_context.{cid}.component.executables must be a list"
            for exe in exes:
                if not isinstance(exe, dict) or not all(
                        isinstance(exe.get(k), str) and exe[k] for k in ("id", "name", "docker")):
                    return "every executable needs a non-empty id, name and docker image"
                if exe["id"] not in known[cid]:
                    return f"executable {exe['id']} is not part of component {cid}"
        return None

    def _device_deployments(self, uuid: str) -> list[dict[str, Any]]:
        out = []
        for rec in self.deployments.values():
            for comp in rec["_components"]:
                if comp["device_id"] == uuid:
                    phase, _, errors = self._phase(rec)
                    out.append({
                        "phase": phase, "deployment_id": rec["deploymentId"],
                        "io_deployment_id": comp["componentInstanceID"], "error_code": errors,
                        "created_at": iso(rec["_wall0"]),
                    })
        return out

    # -- user and metrics (core host) ---------------------------------------------------------
    def get_user(self, request: Request) -> Response:
        """GET /api/user/me/get: the token's user with its organization and project."""
        org = {"guid": self.organization, "name": "sim-organization", "shortGUID": "simorg",
               "state": "ACTIVATED"}
        return json_response({
            "guid": CREATOR, "firstName": "Sim", "lastName": "User",
            "emailID": "sim.user@example.invalid", "state": "ACTIVATED",
            "projects": [{"guid": self._owner(), "name": self._owner(), "organization": org}],
            "organization": org, "organizations": [org],
        })

    def _metrics_envelope(self, data: Any) -> Response:
        return json_response({"status": "success", "response": {"data": data}})

    def _entity_known(self, entity: str, entity_id: str) -> Response | None:
        known = {
            "device": lambda: self.dm.get(entity_id) is not None,
            "deployment": lambda: entity_id in self.deployments,
            "project": lambda: entity_id == self._owner(),
            "organization": lambda: entity_id == self.organization,
        }
        if entity not in known:
            return error(f"entity must be one of {list(known)}", 400)
        with self.lock:
            if not known[entity]():
                return error(f"{entity} {entity_id} not found", 404)
        return None

    @staticmethod
    def _date_range(request: Request) -> Response | None:
        try:
            start = datetime.fromisoformat(request.args["start_date"])
            end = datetime.fromisoformat(request.args["end_date"])
        except (KeyError, ValueError):
            return error("start_date and end_date (ISO 8601) are required", 400)
        if start > end:
            return error("start_date must be before end_date", 400)
        return None

    def list_metrics(self, request: Request, entity: str, entity_id: str) -> Response:
        """GET /api/metrics/v0/metrics/{entity}/{id}?start_date=&end_date=."""
        bad = self._date_range(request) or self._entity_known(entity, entity_id)
        if bad is not None:
            return bad
        return self._metrics_envelope({"metrics": [
            {"metric_group": g, "metric_names": list(n)} for g, n in METRIC_GROUPS.items()]})

    def list_tag_keys(self, request: Request, entity: str, entity_id: str) -> Response:
        """GET /api/metrics/v0/tags/{entity}/{id}?start_date=&end_date=."""
        bad = self._date_range(request) or self._entity_known(entity, entity_id)
        if bad is not None:
            return bad
        return self._metrics_envelope({"tag_keys": [
            {"metric_group": g, "tags": list(METRIC_TAGS)} for g in METRIC_GROUPS]})

    def list_tag_values(self, request: Request, entity: str, entity_id: str,
                        tag: str) -> Response:
        """GET /api/metrics/v0/tags/{entity}/{id}/{tag}?start_date=&end_date=."""
        bad = self._date_range(request) or self._entity_known(entity, entity_id)
        if bad is not None:
            return bad
        if tag not in METRIC_TAGS:
            return error(f"tag {tag!r} is not one of {METRIC_TAGS}", 400)
        with self.lock:
            values = {
                "tenant_id": [self._owner()], "organization_id": [self.organization],
                "device_id": sorted(self.dm.devices),
                "deployment_id": sorted(self.deployments),
                "host": sorted(d["host"] for d in self.dm.devices.values()),
            }[tag]
        return self._metrics_envelope({"tags_values": values})

    def query_metrics(self, request: Request) -> Response:
        """POST /api/metrics/v0/query/: synthetic but well-shaped columns and rows.

        The body is checked like the platform's (range, step, known metrics and functions,
        tenant and organization tags). Each value is a smooth function of time and metric, so
        equal queries give equal answers; ``rows`` holds one list per column (timestamps
        first), as the SDK's ``to_row_column_format`` reads it.
        """
        body, bad = self._body(request)
        if bad is not None:
            return bad
        checked = self._check_query(body)
        if isinstance(checked, Response):
            return checked
        start, end, step, ops = checked
        count = int((end - start).total_seconds() // step) + 1
        if count > MAX_POINTS:
            step = math.ceil((end - start).total_seconds() / (MAX_POINTS - 1))
            count = int((end - start).total_seconds() // step) + 1
        times = [start + timedelta(seconds=i * step) for i in range(count)]
        if body.get("sort") == "desc":
            times.reverse()
        groupby = body.get("groupby") or []
        tags = body["tags"]
        tag_values = [str((tags.get(g) or {}).get("value", "sim")) for g in groupby]
        columns: list[dict[str, Any]] = [{"name": "timestamp"}]
        rows: list[list[Any]] = [[t.isoformat() for t in times]]
        for function, group, name in ops:
            columns.append({"name": name, "function": function, "metric_group": group,
                            "tag_names": list(groupby), "tag_values": tag_values})
            phase = sum(map(ord, f"{group}.{name}")) % 97
            rows.append([round(50 + 40 * math.sin((t.timestamp() / 600) + phase), 3)
                         for t in times])
        return self._metrics_envelope({"columns": columns, "rows": rows})

    def _check_query(
        self, body: Any
    ) -> Response | tuple[datetime, datetime, int, list[tuple[str, str, str]]]:
        if not isinstance(body, dict):
            return error("query body must be a JSON object", 400)
        try:
            start = datetime.fromisoformat(body["from"])
            end = datetime.fromisoformat(body["to"])
        except (KeyError, TypeError, ValueError):
            return error("from and to (ISO 8601) are required", 400)
        if start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
        if end.tzinfo is None:
            end = end.replace(tzinfo=timezone.utc)
        if start > end:
            return error("from must be before to", 400)
        step = STEPS.get(body.get("step"))  # type: ignore[arg-type]
        if step is None:
            return error(f"step must be one of {list(STEPS)}", 400)
        if datetime.now(tz=timezone.utc) - start > timedelta(days=7) and step < 60:
            return error("step must be one of 1m, 5m, 15m for data older than 7 days", 400)
        metrics = body.get("metrics")
        if not isinstance(metrics, list) or not metrics:
            return error("metrics must be a non-empty list", 400)
        ops = []
        for m in metrics:
            name = m.get("metric_name") if isinstance(m, dict) else None
            function = m.get("function") if isinstance(m, dict) else None
            if function not in METRIC_FUNCTIONS:
                return error(f"function must be one of {list(METRIC_FUNCTIONS)}", 400)
            group, _, metric = str(name).partition(".")
            if metric not in METRIC_GROUPS.get(group, []):
                return error(f"unknown metric {name!r}; known: "
                             f"{[f'{g}.{n}' for g, ns in METRIC_GROUPS.items() for n in ns]}",
                             400)
            ops.append((str(function), group, metric))
        tags = body.get("tags")
        if not isinstance(tags, dict):
            return error("tags must be an object", 400)
        tenant = (tags.get("tenant_id") or {}).get("value")
        org = (tags.get("organization_id") or {}).get("value")
        if tenant != self._owner():
            return error(f"tags.tenant_id must be this project ({self._owner()})", 403)
        if org != self.organization:
            return error("tags.organization_id must be the user's organization", 403)
        groupby = body.get("groupby")
        if groupby is not None and (not isinstance(groupby, list)
                                    or not all(g in METRIC_TAGS for g in groupby)):
            return error(f"groupby must be a list of tags from {METRIC_TAGS}", 400)
        return start, end, step, ops

    # -- admin --------------------------------------------------------------------------------
    def _admin_outcome(self, request: Request) -> tuple[str, Response | None]:
        try:
            body = read_json(request) or {}
        except ValueError:
            body = {}
        outcome = body.get("outcome") if isinstance(body, dict) else None
        if outcome not in OUTCOMES:
            return "", error(f"outcome must be one of {list(OUTCOMES)}", 400)
        return str(outcome), None

    def _admin_next_deployment(self, request: Request) -> Response:
        outcome, bad = self._admin_outcome(request)
        if bad is not None:
            return bad
        self.fail_next_deployment(outcome)
        return json_response({"next_deployment": outcome})

    def _admin_next_network(self, request: Request) -> Response:
        outcome, bad = self._admin_outcome(request)
        if bad is not None:
            return bad
        self.fail_next_routed_network(outcome)
        return json_response({"next_routed_network": outcome})

    def _admin_deployment_outcome(self, request: Request, dep_id: str) -> Response:
        outcome, bad = self._admin_outcome(request)
        if bad is not None:
            return bad
        try:
            self.set_deployment_outcome(dep_id, outcome)
        except KeyError:
            return error(f"deployment {dep_id} not found", 404)
        return json_response({"deploymentId": dep_id, "outcome": outcome})

    def _admin_devices(self, request: Request) -> Response:
        with self.lock:
            return json_response([
                {"uuid": u, "name": d["name"], "status": d["status"], "arch": d["_arch"],
                 "scratch_dir": str(d["_scratch"])}
                for u, d in self.dm.devices.items()
            ])

    def _admin_device_status(self, request: Request, uuid: str) -> Response:
        try:
            body = read_json(request) or {}
        except ValueError:
            body = {}
        status = body.get("status") if isinstance(body, dict) else None
        if uuid not in self.dm.devices:
            return error(f"device {uuid} not found", 404)
        try:
            self.set_device_status(uuid, str(status))
        except ValueError as exc:
            return error(str(exc), 400)
        return json_response({"uuid": uuid, "status": status})


def _check_outcome(outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _check_manifest(body: Any) -> str | None:
    """The platform's manifest checks; the problem, or None when the manifest is valid."""
    if not isinstance(body, dict):
        return "manifest must be a JSON object"
    for field in ("name", "packageVersion"):
        if not isinstance(body.get(field), str) or not body[field].strip():
            return f"manifest field {field} is required (a non-empty string)"
    plans = body.get("plans")
    if not isinstance(plans, list) or not plans:
        return "manifest field plans is required (a non-empty list)"
    plan_names: set[str] = set()
    for plan in plans:
        if not isinstance(plan, dict) or not isinstance(plan.get("name"), str) \
                or not plan["name"]:
            return "every plan needs a name"
        if plan["name"] in plan_names:
            return f"duplicate plan name {plan['name']}"
        plan_names.add(plan["name"])
        comps = plan.get("components")
        if not isinstance(comps, list) or not comps:
            return f"plan {plan['name']} needs at least one component"
        names: set[str] = set()
        for comp in comps:
            problem = _check_component(comp, names)
            if problem is not None:
                return f"plan {plan['name']}: {problem}"
    return None


def _check_component(comp: Any, names: set[str]) -> str | None:
    if not isinstance(comp, dict) or not isinstance(comp.get("name"), str) or not comp["name"]:
        return "every component needs a name"
    name = comp["name"]
    if name in names:
        return f"duplicate component name {name}"
    names.add(name)
    runtime = comp.get("requiredRuntime")
    if runtime not in RUNTIMES:
        return f"component {name}: requiredRuntime must be one of {list(RUNTIMES)}"
    arch = comp.get("architecture")
    if arch is not None and arch not in ARCHES:
        return f"component {name}: architecture must be one of {list(ARCHES)}"
    if runtime == "device" and arch is None:
        return f"component {name}: device components need an architecture"
    params = comp.get("parameters", [])
    if not isinstance(params, list) or not all(
        isinstance(p, dict) and isinstance(p.get("name"), str) and p["name"] for p in params
    ):
        return f"component {name}: parameters must be a list of objects with a name"
    ros = comp.get("ros")
    if ros is not None and (not isinstance(ros, dict) or not isinstance(ros.get("isROS", False),
                                                                        bool)):
        return f"component {name}: ros must be an object with a boolean isROS"
    exes = comp.get("executables")
    if not isinstance(exes, list) or not exes:
        return f"component {name}: executables must be a non-empty list"
    exe_names: set[str] = set()
    for exe in exes:
        if not isinstance(exe, dict) or not isinstance(exe.get("name"), str) or not exe["name"]:
            return f"component {name}: every executable needs a name"
        if exe["name"] in exe_names:
            return f"component {name}: duplicate executable name {exe['name']}"
        exe_names.add(exe["name"])
        cmd = exe.get("cmd", [])
        if not isinstance(cmd, list) or not all(isinstance(c, str) for c in cmd):
            return f"executable {exe['name']}: cmd must be a list of strings"
        is_docker = any(exe.get(k) for k in ("docker", "gitExecutable", "buildGUID"))
        if runtime == "cloud" and not is_docker:
            return f"executable {exe['name']}: cloud executables need a docker image"
        if not is_docker and not cmd:
            return f"executable {exe['name']}: needs a cmd or a docker image"
    return None
