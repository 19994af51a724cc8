"""Sandbox routes for native networks, volumes, static routes, rosbag jobs, secrets and builds.

Installed on a :class:`~pytest_robofixtures.sim.rapyuta.RapyutaSim` (``Families(app)``), using its
router, lock, id generator, delay and phase clock, and answering like the platform:

- ``/nativenetwork``: native networks move through the same phases as routed networks
  (``internalDeploymentStatus``); ``fail_next_native_network("failed"|"stuck")`` (or ``POST
  /_admin/nativenetworks/next {"outcome"}``) sets the fate of the next one. Provisioning binds
  them (``context.nativeNetworks``); one in use cannot be deleted (409).
- ``/disk`` and the public ``io-public-persistent-volume`` package: a disk is backed by a
  deployment of that package (``GET /serviceinstance/{internalDeploymentGUID}``), ready after
  ``delay``. A deployment mounts it with a ``context.dependentDeployments`` entry whose
  ``config`` has ``mountPath`` or ``mountPaths``; the disk is then ``Bound`` to it, and a
  mounted disk can neither be mounted by another deployment nor deleted (409).
- ``/api/staticroute/...`` (core host): routes named by a URL prefix, with ``urlString``
  ``<prefix>-<project id part>.ep-r.io``. ``context.component_context[comp].static_route_config``
  binds an exposed endpoint to a route.
- ``/rosbag-jobs`` and ``/rosbag-blobs``: jobs on a running deployment's ROS component
  (created by the API or from the provision's ``ros_bag_job_defs``) go ``Starting`` →
  ``Running``; stopping one (or deprovisioning its deployment) makes it ``Stopping`` →
  ``Stopped`` and produces a blob, ``Starting`` → ``Uploading`` → ``Uploaded`` over ``delay``
  (device OnDemand jobs upload only the time range asked by a PATCH). Blobs download through a
  signed URL as a small stand-in bag file (the ``#ROSBAG V2.0`` magic line, then a JSON
  description of what was recorded), not a bag a ROS tool can read.
  ``fail_next_rosbag_upload()`` makes the next blob end in ``Error``.
- ``/api/secret/...`` (core host): docker registry secrets (``kubernetes.io/dockercfg``, the
  base64 ``.dockercfg`` is checked; credentials are never sent back). An executable with a
  ``docker`` image and a ``secret`` refers to one; provisioning refuses an unknown one (400).
- ``/build`` and ``/build/operation/{trigger,rollback}``: each generation is
  ``BuildInProgress`` for ``delay`` seconds, then ``Complete`` (or ``BuildFailed`` after
  ``fail_next_build()`` / ``POST /_admin/builds/next {"outcome": "failed"}``). Executables
  with a ``buildGUID`` can be provisioned once the build is Complete; a build used by a
  deployment cannot be deleted (409). Secrets named by a build must exist.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import re
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from pytest_robofixtures.sim._wsgi import json_response, read_json
from pytest_robofixtures.sim.rapyuta_devices import CREATOR, error, iso

if TYPE_CHECKING:
    from pytest_robofixtures.sim.rapyuta import RapyutaSim

VOLUME_PACKAGE_ID = "io-public-persistent-volume"
VOLUME_PLAN_ID = "default"
VOLUME_COMPONENT = "volumeComponent"
DISK_CAPACITIES = (4, 8, 16, 32, 64, 128, 256, 512)
DISK_TYPES = ("ssd",)
STATIC_ROUTE_DOMAIN = "ep-r.io"
_ROUTE_PREFIX = re.compile(r"^[a-z][a-z0-9-]*$")
_SECRET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]+[a-z0-9]$")
DOCKER_SECRET = "kubernetes.io/dockercfg"
OUTCOMES = ("ok", "stuck", "failed")
ROS_DISTROS = ("kinetic", "melodic", "noetic")
RESTART_POLICIES = ("always", "no", "on-failure")
UPLOAD_TYPES = ("OnStop", "Continuous", "OnDemand")
JOB_STATUSES = ("Starting", "Running", "Error", "Stopping", "Stopped")
BLOB_STATUSES = ("Starting", "Uploading", "Uploaded", "Error")

Route = tuple[str, Callable[..., Response], list[str]]


def _list_arg(request: Request, name: str) -> list[str]:
    """A repeated query parameter (``?a=1&a=2``), also accepting comma-separated values."""
    out: list[str] = []
    for value in request.args.getlist(name):
        out.extend(v for v in value.split(",") if v)
    return out


class Families:
    """The resource families beyond networks, packages and deployments (module docstring)."""

    def __init__(self, app: RapyutaSim) -> None:
        self.app = app
        self.native_networks: dict[str, dict[str, Any]] = {}
        self.disks: dict[str, dict[str, Any]] = {}
        self.static_routes: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.blobs: dict[str, dict[str, Any]] = {}
        self.secrets: dict[str, dict[str, Any]] = {}
        self.builds: dict[str, dict[str, Any]] = {}
        self._next_build: deque[str] = deque()
        self._next_native: deque[str] = deque()
        self._next_upload_fails = 0
        self._materialized: set[str] = set()
        self._secret = app._rng.randbytes(32)
        self._volume_package = self._make_volume_package()
        for rule, handler, methods in self.routes():
            app.route(rule, handler, methods)
        self._serve_volume_package()

    def routes(self) -> list[Route]:
        """The families' routes."""
        admin = self.app.ADMIN
        return [
            ("/nativenetwork", self.create_native_network, ["POST"]),
            ("/nativenetwork", self.list_native_networks, ["GET"]),
            ("/nativenetwork/<guid>", self.get_native_network, ["GET"]),
            ("/nativenetwork/<guid>", self.delete_native_network, ["DELETE"]),
            (f"{admin}/nativenetworks/next", self._admin_next_native, ["POST"]),
            ("/disk", self.create_disk, ["POST"]),
            ("/disk", self.list_disks, ["GET"]),
            ("/disk/<guid>", self.get_disk, ["GET"]),
            ("/disk/<guid>", self.delete_disk, ["DELETE"]),
            ("/api/staticroute/create", self.create_static_route, ["POST"]),
            ("/api/staticroute/list", self.list_static_routes, ["GET"]),
            ("/api/staticroute/filter", self.filter_static_routes, ["GET"]),
            ("/api/staticroute/<guid>/get", self.get_static_route, ["GET"]),
            ("/api/staticroute/delete", self.delete_static_route, ["DELETE"]),
            ("/rosbag-jobs", self.list_jobs_in_project, ["GET"]),
            ("/rosbag-jobs/job/<guid>", self.get_job, ["GET"]),
            ("/rosbag-jobs/<dep_id>", self.create_job, ["POST"]),
            ("/rosbag-jobs/<dep_id>", self.list_jobs, ["GET"]),
            ("/rosbag-jobs/<dep_id>", self.stop_jobs, ["PATCH"]),
            ("/rosbag-jobs/<dep_id>/job/<guid>", self.patch_job, ["PATCH"]),
            ("/rosbag-blobs", self.list_blobs, ["GET"]),
            ("/rosbag-blobs/<guid>", self.get_blob, ["GET"]),
            ("/rosbag-blobs/<guid>", self.delete_blob, ["DELETE"]),
            ("/rosbag-blobs/<guid>/file", self.blob_url, ["GET"]),
            ("/rosbag-blobs/<guid>/retry", self.retry_blob, ["POST"]),
            ("/_files/rosbags/<guid>", self.serve_blob, ["GET"]),
            ("/api/secret/create", self.create_secret, ["POST"]),
            ("/api/secret/list", self.list_secrets, ["GET"]),
            ("/api/secret/<guid>/get", self.get_secret, ["GET"]),
            ("/api/secret/<guid>/update", self.update_secret, ["PUT"]),
            ("/api/secret/delete", self.delete_secret, ["DELETE"]),
            ("/build", self.create_build, ["POST"]),
            ("/build", self.list_builds, ["GET"]),
            ("/build/<guid>", self.get_build, ["GET"]),
            ("/build/<guid>", self.update_build, ["PUT"]),
            ("/build/<guid>", self.delete_build, ["DELETE"]),
            ("/build/operation/trigger", self.trigger_builds, ["PUT"]),
            ("/build/operation/rollback", self.rollback_builds, ["PUT"]),
            (f"{admin}/builds/next", self._admin_next_build, ["POST"]),
        ]

    # -- knobs and views ------------------------------------------------------------------------
    def fail_next_native_network(self, outcome: str = "failed") -> None:
        """Make the next created native network ``stuck`` or ``failed`` (or ``ok``)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
        with self.app.lock:
            self._next_native.append(outcome)

    def fail_next_build(self, outcome: str = "failed") -> None:
        """Make the next build generation (created or triggered) ``failed`` (or ``ok``)."""
        if outcome not in ("ok", "failed"):
            raise ValueError(f"outcome must be ok or failed, not {outcome!r}")
        with self.app.lock:
            self._next_build.append(outcome)

    def fail_next_rosbag_upload(self, count: int = 1) -> None:
        """Make the next ``count`` rosbag blobs end in ``Error`` instead of ``Uploaded``."""
        with self.app.lock:
            self._next_upload_fails += count

    def live_resources(self) -> dict[str, list[dict[str, Any]]]:
        """Live native networks, disks, static routes, unstopped rosbag jobs and blobs.

        Only the kinds that have live resources appear, so the admin view of a sandbox that
        never used these families is unchanged.
        """
        with self.app.lock:
            self._materialize()
            found = {
                "native_networks": [{"id": g, "name": n["name"]}
                                    for g, n in self.native_networks.items()],
                "volume_instances": [{"id": g, "name": d["name"]}
                                     for g, d in self._live_disks().items()],
                "static_routes": [{"id": g, "name": r["urlPrefix"]}
                                  for g, r in self.static_routes.items()],
                "rosbag_jobs": [{"id": g, "name": j["name"]} for g, j in self.jobs.items()
                                if self._job_status(j) not in ("Stopped", "Error")],
                "rosbag_blobs": [{"id": g, "name": b["filename"]}
                                 for g, b in self.blobs.items()],
                "secrets": [{"id": g, "name": r["name"]} for g, r in self.secrets.items()],
                "builds": [{"id": g, "name": b["buildName"]} for g, b in self.builds.items()],
            }
        return {kind: live for kind, live in found.items() if live}

    # -- provisioning hooks ---------------------------------------------------------------------
    def check_provision(self, context: dict[str, Any], plan: dict[str, Any]) -> Response | None:
        """Native networks, volume mounts and static routes of a provision body (under lock)."""
        deployments = self.app.deployments
        for net in context.get("nativeNetworks") or []:
            guid = net.get("guid") if isinstance(net, dict) else None
            rec = self.native_networks.get(str(guid))
            if rec is None:
                return error(f"native network {guid} not found", 400)
            bind = net.get("bindParameters")
            if rec["runtime"] == "cloud" and bind:
                return error(f"cloud native network {guid} does not bind to a network interface",
                             400)
        comps = {c["componentId"]: c for c in plan["components"]["components"]}
        for comp in comps.values():
            for exe in comp["executables"]:
                problem = self._check_executable(comp, exe)
                if problem is not None:
                    return problem
        for dep in context.get("dependentDeployments") or []:
            target = deployments.get(str(dep.get("dependentDeploymentId"))) if isinstance(
                dep, dict) else None
            if target is None or target["packageId"] != VOLUME_PACKAGE_ID:
                continue  # plain dependencies are checked by the caller
            problem = self._check_mount(dep, target, comps)
            if problem is not None:
                return problem
        used = self._routes_in_use()
        for cid, ctx in (context.get("component_context") or {}).items():
            routes = (ctx or {}).get("static_route_config") or {}
            comp = comps.get(cid)
            if routes and comp is None:
                return error(f"component {cid} is not part of plan {plan['planId']}", 400)
            for endpoint, guid in routes.items():
                if guid not in self.static_routes:
                    # Lenient on purpose: existing callers bind placeholder guids; only routes
                    # of this sandbox are checked (see the report of issue 12).
                    continue
                exposed = [e.get("name") for e in
                           (comp or {}).get("cloudInfra", {}).get("endpoints", [])]
                if endpoint not in exposed:
                    return error(f"endpoint {endpoint} is not an exposed endpoint of component "
                                 f"{(comp or {}).get('name')} (exposed: {exposed})", 400)
                if guid in used:
                    return error(f"static route {guid} is already used by deployment "
                                 f"{used[guid]}", 409)
        return None

    def _check_executable(self, comp: dict[str, Any], exe: dict[str, Any]) -> Response | None:
        """A docker executable's pull secret must exist (and be a docker secret)."""
        secret = exe.get("secret")
        if secret and exe.get("docker"):
            rec = self.secrets.get(str(secret))
            if rec is None:
                return error(f"executable {exe['name']} of component {comp['name']}: docker "
                             f"secret {secret} not found", 400)
        guid = exe.get("buildGUID")
        if guid:
            build = self.builds.get(str(guid))
            if build is None:
                return error(f"executable {exe['name']} of component {comp['name']}: build "
                             f"{guid} not found", 400)
            status = self._build_status(build)
            if status != "Complete":
                return error(f"executable {exe['name']}: build {guid} is {status}, not "
                             "Complete", 400)
        return None

    def _check_mount(self, dep: dict[str, Any], target: dict[str, Any],
                     comps: dict[str, dict[str, Any]]) -> Response | None:
        vid = target["deploymentId"]
        phase, _, _ = self.app._phase(target)
        if phase != "Succeeded":
            return error(f"volume {vid} is not ready (phase {phase})", 400)
        comp = comps.get(dep.get("applicableComponentId") or "")
        if comp is None:
            return error(f"volume {vid} must be mounted in a component of the plan "
                         f"(applicableComponentId {dep.get('applicableComponentId')!r})", 400)
        if comp["requiredRuntime"] != "cloud":
            return error(f"volume {vid} can only be mounted in cloud components", 400)
        config = dep.get("config") or {}
        paths = config.get("mountPaths")
        if not config.get("mountPath") and not paths:
            return error(f"volume {vid}: config needs mountPath or mountPaths", 400)
        if paths:
            names = {e["name"] for e in comp["executables"]}
            unknown = sorted(set(paths) - names)
            if unknown:
                return error(f"volume {vid}: mountPaths names unknown executables {unknown}", 400)
        user = self._volume_user(vid)
        if user is not None:
            return error(f"volume {vid} is already mounted by deployment {user}", 409)
        return None

    def native_network_users(self, guid: str) -> list[str]:
        """Live deployments bound to the native network ``guid``."""
        return [d for d, rec in self.app.deployments.items()
                if any(n.get("guid") == guid
                       for n in rec["provisionContext"].get("nativeNetworks") or [])]

    def _volume_user(self, volume_id: str) -> str | None:
        for d, rec in self.app.deployments.items():
            if any(x.get("dependentDeploymentId") == volume_id
                   for x in rec.get("dependentDeployments") or []):
                return d
        return None

    def _routes_in_use(self) -> dict[str, str]:
        used: dict[str, str] = {}
        for d, rec in self.app.deployments.items():
            for ctx in (rec["provisionContext"].get("component_context") or {}).values():
                for guid in ((ctx or {}).get("static_route_config") or {}).values():
                    used[guid] = d
        return used

    # -- helpers --------------------------------------------------------------------------------
    def _body(self, request: Request) -> tuple[Any, Response | None]:
        try:
            return read_json(request), None
        except ValueError as exc:
            return None, error(f"request body is not valid JSON: {exc}", 400)

    def _new_rec(self, **fields: Any) -> dict[str, Any]:
        return {**fields, "_t0": time.monotonic(), "_wall0": time.time(),
                "_seq": self.app._seq()}

    # -- native networks ------------------------------------------------------------------------
    def _native_view(self, rec: dict[str, Any]) -> dict[str, Any]:
        phase, status, errors = self.app._phase(rec)
        out = {k: copy.deepcopy(v) for k, v in rec.items() if not k.startswith("_")}
        out.update(self.app._stamps(rec))
        out["internalDeploymentStatus"] = {"phase": phase, "status": status, "error_code": errors}
        return out

    def create_native_network(self, request: Request) -> Response:
        """POST /nativenetwork: validate, create, answer the object (with ``guid``)."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        problem = _check_native(body)
        if problem is not None:
            return error(problem, 400)
        with self.app.lock:
            if any(n["name"] == body["name"] for n in self.native_networks.values()):
                return error(f"native network with name {body['name']} already exists", 409)
            params = body.get("parameters") or {}
            if body["runtime"] == "device":
                dev = self.app.dm.get(params.get("device_id", ""))
                if dev is None:
                    return error(f"device {params.get('device_id')} not found", 400)
                if dev["status"] != "ONLINE":
                    return error(f"device {dev['uuid']} is {dev['status']}, not ONLINE", 409)
                if params.get("NETWORK_INTERFACE") not in dev["ip_interfaces"]:
                    return error(f"NETWORK_INTERFACE should be in {sorted(dev['ip_interfaces'])}",
                                 400)
            guid = self.app._id("nn")
            rec = self._new_rec(
                name=body["name"], guid=guid, ownerProject=self.app._owner(), creator=CREATOR,
                runtime=body["runtime"], rosDistro=body["rosDistro"], parameters=params,
                internalDeploymentGUID=self.app._id("dep"),
                _outcome=self._next_native.popleft() if self._next_native else "ok")
            self.native_networks[guid] = rec
            return json_response(self._native_view(rec))

    def list_native_networks(self, request: Request) -> Response:
        """GET /nativenetwork: a JSON array."""
        with self.app.lock:
            return json_response([self._native_view(n) for n in self.native_networks.values()])

    def get_native_network(self, request: Request, guid: str) -> Response:
        """GET /nativenetwork/{guid}."""
        with self.app.lock:
            rec = self.native_networks.get(guid)
            if rec is None:
                return error(f"native network {guid} not found", 404)
            return json_response(self._native_view(rec))

    def delete_native_network(self, request: Request, guid: str) -> Response:
        """DELETE /nativenetwork/{guid}: 409 while a deployment is bound to it."""
        with self.app.lock:
            if guid not in self.native_networks:
                return error(f"native network {guid} not found", 404)
            users = self.native_network_users(guid)
            if users:
                return error(f"native network {guid} is in use by deployments {users}", 409)
            del self.native_networks[guid]
        return json_response({"success": True})

    def _admin_next_native(self, request: Request) -> Response:
        body, _ = self._body(request)
        outcome = body.get("outcome") if isinstance(body, dict) else None
        if outcome not in OUTCOMES:
            return error(f"outcome must be one of {list(OUTCOMES)}", 400)
        self.fail_next_native_network(str(outcome))
        return json_response({"next_native_network": outcome})

    # -- persistent volumes ---------------------------------------------------------------------
    def _make_volume_package(self) -> dict[str, Any]:
        now = iso(time.time())
        comp_id = self.app._id("comp")
        component = {
            "componentId": comp_id, "name": VOLUME_COMPONENT, "description": "",
            "requiredRuntime": "cloud", "architecture": "amd64", "parameters": [
                {"name": "capacity", "description": "disk size in GiB", "default": "32"},
                {"name": "diskType", "description": "disk type", "default": "ssd"}],
            "ros": {"isROS": False, "topics": [], "services": [], "actions": []},
            "executables": [], "cloudInfra": {"endpoints": [], "replicas": 1},
        }
        plan = {
            "planId": VOLUME_PLAN_ID, "planName": "default", "packageId": VOLUME_PACKAGE_ID,
            "description": "", "singleton": False, "metadata": {},
            "inboundROSInterfaces": {"inboundROSInterfaces": {
                "topics": [], "services": [], "actions": [],
                "anyIncomingScopedOrTargetedRosConfig": False}},
            "dependentDeployments": [], "exposedParameters": [],
            "components": {"components": [component]},
            "internalComponents": [{"componentId": comp_id, "componentName": VOLUME_COMPONENT,
                                    "planId": VOLUME_PLAN_ID, "runtime": "cloud"}],
            "CreatedAt": now, "UpdatedAt": now, "DeletedAt": None,
        }
        return {
            "guid": VOLUME_PACKAGE_ID, "packageName": "Rapyuta IO Persistent Volume",
            "packageVersion": "v0.1.0", "apiVersion": "1.0.0",
            "description": "Persistent volume for cloud deployments", "bindable": True,
            "isPublic": True, "category": "Storage", "status": "Complete", "tags": [],
            "buildGeneration": 0, "ownerProject": "", "creator": "", "ID": 0,
            "CreatedAt": now, "UpdatedAt": now, "DeletedAt": None, "plans": [plan],
        }

    def _serve_volume_package(self) -> None:
        """Answer ``GET /serviceclass/status?package_uid=io-public-persistent-volume``.

        The public package is not one of the project's packages (it is neither listed nor
        counted as a live resource), so the package handler is wrapped instead of seeded.
        """
        wrapped = 0
        for endpoint, handler in list(self.app.handlers.items()):
            if getattr(handler, "__name__", "") != "get_package":
                continue
            wrapped += 1

            def serve(request: Request, _inner: Callable[..., Response] = handler,
                      **kw: Any) -> Response:
                if request.args.get("package_uid") == VOLUME_PACKAGE_ID:
                    return json_response({"packageInfo": copy.deepcopy(self._volume_package)})
                return _inner(request, **kw)

            self.app.handlers[endpoint] = serve
        if wrapped != 1:  # fail loudly if the app's package handler was renamed
            raise RuntimeError(f"expected one get_package handler to wrap, found {wrapped}")

    def _live_disks(self) -> dict[str, dict[str, Any]]:
        """Disks whose backing deployment still exists (deprovisioning it deletes the disk)."""
        gone = [g for g, d in self.disks.items()
                if d["internalDeploymentGUID"] not in self.app.deployments]
        for guid in gone:
            del self.disks[guid]
        return self.disks

    def _disk_view(self, rec: dict[str, Any]) -> dict[str, Any]:
        dep = self.app.deployments[rec["internalDeploymentGUID"]]
        phase, status, errors = self.app._phase(dep)
        user = self._volume_user(rec["internalDeploymentGUID"])
        out = {k: copy.deepcopy(v) for k, v in rec.items() if not k.startswith("_")}
        out.update(self.app._stamps(rec))
        out["internalDeploymentStatus"] = {"phase": phase, "status": status, "error_code": errors}
        out["status"] = "Bound" if user else ("Available" if phase == "Succeeded" else "Pending")
        out["usedBy"] = user or ""
        return out

    def create_disk(self, request: Request) -> Response:
        """POST /disk {name, runtime, capacity, diskType}: a volume deployment behind it."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        problem = _check_disk(body)
        if problem is not None:
            return error(problem, 400)
        app = self.app
        with app.lock:
            live = self._live_disks()
            if any(d["name"] == body["name"] for d in live.values()):
                return error(f"disk with name {body['name']} already exists", 409)
            plan = self._volume_package["plans"][0]
            comp_id = plan["internalComponents"][0]["componentId"]
            dep_id = app._id("dep")
            context: dict[str, Any] = {
                "name": body["name"], "labels": [], "routedNetworks": [], "nativeNetworks": [],
                "dependentDeployments": [], "diskMountInfo": [], "component_context": {}}
            app.deployments[dep_id] = self._new_rec(
                deploymentId=dep_id, name=body["name"], packageId=VOLUME_PACKAGE_ID,
                packageName=self._volume_package["packageName"], packageAPIVersion="1.0.0",
                planId=VOLUME_PLAN_ID, bindable=True, currentGeneration=1,
                parameters={"global": {}, comp_id: {
                    "component_id": comp_id, "capacity": str(body["capacity"]),
                    "diskType": body.get("diskType", "ssd")}},
                provisionContext=context, labels=[], dependentDeployments=[],
                ownerProject=app._owner(), creator=CREATOR,
                _components=[{"componentID": comp_id, "componentInstanceID": app._id("inst"),
                              "name": VOLUME_COMPONENT, "runtime": "cloud",
                              "planID": VOLUME_PLAN_ID, "device_id": None, "executables": []}],
                _outcome="ok")
            guid = app._id("disk")
            rec = self._new_rec(guid=guid, name=body["name"], runtime="cloud",
                                capacity=body["capacity"], diskType=body.get("diskType", "ssd"),
                                internalDeploymentGUID=dep_id, ownerProject=app._owner(),
                                creator=CREATOR)
            self.disks[guid] = rec
            return json_response(self._disk_view(rec))

    def list_disks(self, request: Request) -> Response:
        """GET /disk[?deployment_guid=...]: the disks (of those volume deployments)."""
        wanted = set(_list_arg(request, "deployment_guid"))
        with self.app.lock:
            return json_response([
                self._disk_view(d) for d in self._live_disks().values()
                if not wanted or d["internalDeploymentGUID"] in wanted])

    def get_disk(self, request: Request, guid: str) -> Response:
        """GET /disk/{guid}."""
        with self.app.lock:
            rec = self._live_disks().get(guid)
            if rec is None:
                return error(f"disk {guid} not found", 404)
            return json_response(self._disk_view(rec))

    def delete_disk(self, request: Request, guid: str) -> Response:
        """DELETE /disk/{guid}: 409 while a deployment mounts it; removes its deployment."""
        with self.app.lock:
            rec = self._live_disks().get(guid)
            if rec is None:
                return error(f"disk {guid} not found", 404)
            user = self._volume_user(rec["internalDeploymentGUID"])
            if user is not None:
                return error(f"disk {guid} is mounted by deployment {user}; deprovision it first",
                             409)
            del self.disks[guid]
            self.app.deployments.pop(rec["internalDeploymentGUID"], None)
        return json_response({"success": True})

    # -- static routes (core host, raw JSON) ----------------------------------------------------
    def _route_view(self, rec: dict[str, Any]) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in rec.items() if not k.startswith("_")}
        out.update(self.app._stamps(rec))
        return out

    def create_static_route(self, request: Request) -> Response:
        """POST /api/staticroute/create {urlPrefix}."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        prefix = body.get("urlPrefix") if isinstance(body, dict) else None
        if not isinstance(prefix, str) or not _ROUTE_PREFIX.match(prefix) \
                or not 4 <= len(prefix) <= 64:
            return error("urlPrefix must match ^[a-z][a-z0-9-]*$ and have 4 to 64 characters; "
                         f"got {prefix!r}", 400)
        app = self.app
        with app.lock:
            if any(r["urlPrefix"] == prefix for r in self.static_routes.values()):
                return error(f"static route {prefix} already exists", 409)
            guid = app._id("staticroute")
            suffix = "".join(ch for ch in app._owner().lower() if ch.isalnum())[-6:] or "sim"
            rec = self._new_rec(guid=guid, urlPrefix=prefix,
                                urlString=f"{prefix}-{suffix}.{STATIC_ROUTE_DOMAIN}",
                                projectGUID=app._owner(), creator=CREATOR, metadata={})
            self.static_routes[guid] = rec
            return json_response(self._route_view(rec))

    def list_static_routes(self, request: Request) -> Response:
        """GET /api/staticroute/list."""
        with self.app.lock:
            return json_response([self._route_view(r) for r in self.static_routes.values()])

    def filter_static_routes(self, request: Request) -> Response:
        """GET /api/staticroute/filter?urlPrefix=: a list, 404 when none matches."""
        prefix = request.args.get("urlPrefix", "")
        with self.app.lock:
            found = [self._route_view(r) for r in self.static_routes.values()
                     if r["urlPrefix"] == prefix]
        if not found:
            return error(f"static route {prefix} not found", 404)
        return json_response(found)

    def get_static_route(self, request: Request, guid: str) -> Response:
        """GET /api/staticroute/{guid}/get."""
        with self.app.lock:
            rec = self.static_routes.get(guid)
            if rec is None:
                return error(f"static route {guid} not found", 404)
            return json_response(self._route_view(rec))

    def delete_static_route(self, request: Request) -> Response:
        """DELETE /api/staticroute/delete {guid}: 409 while a deployment uses it."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        guid = body.get("guid") if isinstance(body, dict) else None
        with self.app.lock:
            if guid not in self.static_routes:
                return error(f"static route {guid} not found", 404)
            user = self._routes_in_use().get(str(guid))
            if user is not None:
                return error(f"static route {guid} is used by deployment {user}", 409)
            del self.static_routes[str(guid)]
        return json_response({"success": True})

    # -- rosbag jobs ----------------------------------------------------------------------------
    def _job_status(self, job: dict[str, Any]) -> str:
        """Starting/Running until stopped, then Stopping/Stopped (a blob appears at the stop)."""
        now = time.monotonic()
        if job["_stopped"] is None and job["deploymentID"] not in self.app.deployments:
            self._stop(job, now)  # deprovisioning stops the recording
        quarter = self.app.delay / 4
        if job["_stopped"] is not None:
            return "Stopping" if now - job["_stopped"] < quarter else "Stopped"
        return "Starting" if now - job["_t0"] < quarter else "Running"

    def _stop(self, job: dict[str, Any], now: float) -> None:
        job["_stopped"] = now
        if job["componentType"] == "Device" and \
                (job.get("uploadOptions") or {}).get("uploadType", "OnDemand") == "OnDemand":
            return  # recorded on the device; uploaded only when asked for a time range
        self._new_blob(job, now)

    def _job_view(self, job: dict[str, Any]) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in job.items() if not k.startswith("_")}
        out.update(self.app._stamps(job))
        out["status"] = self._job_status(job)
        return out

    def _materialize(self) -> None:
        """Jobs of the provision bodies' ``ros_bag_job_defs`` (once per deployment)."""
        for dep_id, rec in self.app.deployments.items():
            if dep_id in self._materialized:
                continue
            self._materialized.add(dep_id)
            ctxs = rec["provisionContext"].get("component_context") or {}
            for comp in rec["_components"]:
                for job_def in (ctxs.get(comp["componentID"]) or {}).get(
                        "ros_bag_job_defs") or []:
                    job = self._make_job(rec, comp, job_def)
                    job["_t0"] = rec["_t0"] + self.app.delay  # starts once the deployment runs
                    self.jobs[job["guid"]] = job

    def _make_job(self, dep: dict[str, Any], comp: dict[str, Any],
                  body: dict[str, Any]) -> dict[str, Any]:
        device = comp.get("device_id")
        return self._new_rec(
            guid=self.app._id("job"), name=body["name"], deploymentID=dep["deploymentId"],
            componentInstanceID=comp["componentInstanceID"], componentID=comp["componentID"],
            packageID=dep["packageId"], componentType="Device" if device else "Cloud",
            deviceID=device or "", project=self.app._owner(), creator=CREATOR,
            recordOptions=copy.deepcopy(body.get("recordOptions") or {}),
            uploadOptions=copy.deepcopy(body.get("uploadOptions")),
            overrideOptions=copy.deepcopy(body.get("overrideOptions")),
            _stopped=None)

    def _component_is_ros(self, dep: dict[str, Any], component_id: str) -> bool:
        pkg = self.app.packages.get(dep["packageId"]) or {}
        for plan in pkg.get("plans") or []:
            for comp in plan["components"]["components"]:
                if comp["componentId"] == component_id:
                    return bool((comp.get("ros") or {}).get("isROS"))
        return False

    def create_job(self, request: Request, dep_id: str) -> Response:
        """POST /rosbag-jobs/{deploymentID}: record on a running deployment's ROS component."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        problem = _check_job(body)
        if problem is not None:
            return error(problem, 400)
        with self.app.lock:
            self._materialize()
            dep = self.app.deployments.get(dep_id)
            if dep is None:
                return error(f"deployment {dep_id} not found", 404)
            phase, status, _ = self.app._phase(dep)
            if (phase, status) != ("Succeeded", "Running"):
                return error(f"deployment {dep_id} is not running (phase {phase}, status "
                             f"{status})", 400)
            inst = body.get("componentInstanceID")
            comp = next((c for c in dep["_components"] if c["componentInstanceID"] == inst),
                        None)
            if comp is None:
                return error(f"component instance {inst} is not part of deployment {dep_id}", 400)
            if not self._component_is_ros(dep, comp["componentID"]):
                return error(f"component {comp['name']} is not a ROS component", 400)
            if comp.get("device_id") and not body.get("uploadOptions"):
                return error("Rosbag Upload Options are required in case of Device jobs", 400)
            if any(j["name"] == body["name"] and j["componentInstanceID"] == inst
                   and self._job_status(j) not in ("Stopped", "Error")
                   for j in self.jobs.values()):
                return error(f"rosbag job {body['name']} already exists for component instance "
                             f"{inst}", 409)
            job = self._make_job(dep, comp, body)
            self.jobs[job["guid"]] = job
            return json_response(self._job_view(job))

    def _select_jobs(self, request: Request, dep_id: str) -> list[dict[str, Any]]:
        guids = set(_list_arg(request, "guid"))
        insts = set(_list_arg(request, "componentInstanceID"))
        return [j for j in self.jobs.values() if j["deploymentID"] == dep_id
                and (not guids or j["guid"] in guids)
                and (not insts or j["componentInstanceID"] in insts)]

    def list_jobs(self, request: Request, dep_id: str) -> Response:
        """GET /rosbag-jobs/{deploymentID}[?guid=&componentInstanceID=&status=]."""
        statuses = set(_list_arg(request, "status"))
        with self.app.lock:
            self._materialize()
            if dep_id not in self.app.deployments and not any(
                    j["deploymentID"] == dep_id for j in self.jobs.values()):
                return error(f"deployment {dep_id} not found", 404)
            views = [self._job_view(j) for j in self._select_jobs(request, dep_id)]
        return json_response([v for v in views if not statuses or v["status"] in statuses])

    def list_jobs_in_project(self, request: Request) -> Response:
        """GET /rosbag-jobs?deviceID=...: the jobs on those devices."""
        devices = set(_list_arg(request, "deviceID"))
        if not devices:
            return error("deviceID is required", 400)
        with self.app.lock:
            self._materialize()
            return json_response([self._job_view(j) for j in self.jobs.values()
                                  if j["deviceID"] in devices])

    def get_job(self, request: Request, guid: str) -> Response:
        """GET /rosbag-jobs/job/{guid}."""
        with self.app.lock:
            self._materialize()
            job = self.jobs.get(guid)
            if job is None:
                return error(f"rosbag job {guid} not found", 404)
            return json_response(self._job_view(job))

    def stop_jobs(self, request: Request, dep_id: str) -> Response:
        """PATCH /rosbag-jobs/{deploymentID}[?guid=&componentInstanceID=]: stop the jobs."""
        with self.app.lock:
            self._materialize()
            if dep_id not in self.app.deployments:
                return error(f"deployment {dep_id} not found", 404)
            now = time.monotonic()
            stopped = []
            for job in self._select_jobs(request, dep_id):
                if job["_stopped"] is None:
                    self._stop(job, now)
                    stopped.append(job["guid"])
        return json_response({"success": True, "stopped": stopped})

    def patch_job(self, request: Request, dep_id: str, guid: str) -> Response:
        """PATCH /rosbag-jobs/{dep}/job/{guid} {componentInstanceID, uploadOptions}."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        opts = body.get("uploadOptions") if isinstance(body, dict) else None
        if not isinstance(opts, dict):
            return error("uploadOptions (an object) is required", 400)
        with self.app.lock:
            self._materialize()
            job = self.jobs.get(guid)
            if job is None or job["deploymentID"] != dep_id:
                return error(f"rosbag job {guid} not found in deployment {dep_id}", 404)
            if job["componentType"] != "Device":
                return error("upload options can only be changed for device jobs", 400)
            kind = opts.get("uploadType")
            if kind is not None and kind not in UPLOAD_TYPES:
                return error(f"uploadType must be one of {list(UPLOAD_TYPES)}", 400)
            current = job.setdefault("uploadOptions", {}) or {}
            current.update({k: v for k, v in opts.items() if v is not None})
            job["uploadOptions"] = current
            rng = (opts.get("onDemandOpts") or {}).get("timeRange")
            if rng:
                self._new_blob(job, time.monotonic(), time_range=rng)
            return json_response(self._job_view(job))

    # -- rosbag blobs ---------------------------------------------------------------------------
    def _new_blob(self, job: dict[str, Any], now: float,
                  time_range: dict[str, Any] | None = None) -> dict[str, Any]:
        index = sum(1 for b in self.blobs.values() if b["jobID"] == job["guid"])
        fails = self._next_upload_fails > 0
        if fails:
            self._next_upload_fails -= 1
        start = job["_wall0"] if time_range is None else float(time_range.get("from", 0))
        end = time.time() if time_range is None else float(time_range.get("to", 0))
        topics = list((job.get("recordOptions") or {}).get("topics") or ["/rosout"])
        content = self._bag_bytes(job, topics, start, end, index)
        blob = self._new_rec(
            guid=self.app._id("blob"), filename=f"{job['name']}_{index}.bag",
            jobID=job["guid"], blobRefID=self.app._seq(), errorMessage="",
            creator=CREATOR, project=job["project"], componentType=job["componentType"],
            deviceID=job["deviceID"],
            info={"bagVersion": "2.0", "duration": max(0.0, end - start), "startTime": start,
                  "endTime": end, "size": len(content), "messageCount": 0,
                  "compression": (job.get("recordOptions") or {}).get("compression", "none"),
                  "uncompressedSize": len(content), "compressedSize": len(content),
                  "messageTypes": [],
                  "topics": [{"name": t, "messageType": "", "messageCount": 0, "frequency": 0}
                             for t in topics]},
            _content=content, _fails=fails)
        blob["_t0"] = now
        self.blobs[blob["guid"]] = blob
        return blob

    @staticmethod
    def _bag_bytes(job: dict[str, Any], topics: list[str], start: float, end: float,
                   index: int) -> bytes:
        described = {"job": job["name"], "jobID": job["guid"], "split": index,
                     "topics": topics, "startTime": start, "endTime": end,
                     "recordOptions": job.get("recordOptions") or {}}
        return b"#ROSBAG V2.0\n" + json.dumps(described, sort_keys=True).encode() + b"\n"

    def _blob_status(self, blob: dict[str, Any]) -> str:
        elapsed, quarter = time.monotonic() - blob["_t0"], self.app.delay / 4
        if elapsed < quarter:
            return "Starting"
        if elapsed < 2 * quarter:
            return "Uploading"
        return "Error" if blob["_fails"] else "Uploaded"

    def _blob_view(self, blob: dict[str, Any]) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in blob.items() if not k.startswith("_")}
        out.update(self.app._stamps(blob))
        out["status"] = self._blob_status(blob)
        if out["status"] == "Error":
            out["errorMessage"] = "upload failed: the storage rejected the bag (sandbox fault)"
        job = self.jobs.get(blob["jobID"])
        out["job"] = self._job_view(job) if job is not None else None
        return out

    def list_blobs(self, request: Request) -> Response:
        """GET /rosbag-blobs[?guid=&deploymentID=&componentInstanceID=&jobID=&status=&deviceID=]."""
        filters = {name: set(_list_arg(request, name)) for name in (
            "guid", "deploymentID", "componentInstanceID", "jobID", "status", "deviceID")}
        with self.app.lock:
            self._materialize()
            for job in self.jobs.values():
                self._job_status(job)  # stops the jobs of deprovisioned deployments
            out = []
            for blob in self.blobs.values():
                view = self._blob_view(blob)
                job = view["job"] or {}
                fields = {"guid": view["guid"], "deploymentID": job.get("deploymentID"),
                          "componentInstanceID": job.get("componentInstanceID"),
                          "jobID": view["jobID"], "status": view["status"],
                          "deviceID": view["deviceID"]}
                if all(not wanted or fields[name] in wanted for name, wanted in filters.items()):
                    out.append(view)
        return json_response(out)

    def get_blob(self, request: Request, guid: str) -> Response:
        """GET /rosbag-blobs/{guid}."""
        with self.app.lock:
            blob = self.blobs.get(guid)
            if blob is None:
                return error(f"rosbag blob {guid} not found", 404)
            return json_response(self._blob_view(blob))

    def delete_blob(self, request: Request, guid: str) -> Response:
        """DELETE /rosbag-blobs/{guid}."""
        with self.app.lock:
            if self.blobs.pop(guid, None) is None:
                return error(f"rosbag blob {guid} not found", 404)
        return json_response({"success": True})

    def _sign(self, guid: str, expires: int) -> str:
        return hmac.new(self._secret, f"rosbag:{guid}:{expires}".encode(),
                        hashlib.sha256).hexdigest()

    def blob_url(self, request: Request, guid: str) -> Response:
        """GET /rosbag-blobs/{guid}/file: ``{"url": signed URL}`` once Uploaded."""
        with self.app.lock:
            blob = self.blobs.get(guid)
            if blob is None:
                return error(f"rosbag blob {guid} not found", 404)
            status = self._blob_status(blob)
            if status != "Uploaded":
                return error(f"rosbag blob {guid} is {status}, not Uploaded", 400)
        expires = int(time.time()) + 3600
        base = request.host_url.rstrip("/")
        return json_response({"url": f"{base}/_files/rosbags/{guid}?expires={expires}"
                                     f"&signature={self._sign(guid, expires)}"})

    def serve_blob(self, request: Request, guid: str) -> Response:
        """GET /_files/rosbags/{guid}?expires=&signature=: the bag file."""
        try:
            expires = int(request.args.get("expires", ""))
        except ValueError:
            return error("missing or invalid expires", 403)
        if not hmac.compare_digest(request.args.get("signature", ""), self._sign(guid, expires)):
            return error("invalid signature", 403)
        if expires < time.time():
            return error("signed url has expired", 403)
        with self.app.lock:
            blob = self.blobs.get(guid)
            if blob is None:
                return error(f"rosbag blob {guid} not found", 404)
            content, name = blob["_content"], blob["filename"]
        return Response(content, mimetype="application/octet-stream",
                        headers={"Content-Disposition": f"attachment; filename={name}"})

    def retry_blob(self, request: Request, guid: str) -> Response:
        """POST /rosbag-blobs/{guid}/retry: re-upload a device blob that ended in Error."""
        with self.app.lock:
            blob = self.blobs.get(guid)
            if blob is None:
                return error(f"rosbag blob {guid} not found", 404)
            if blob["componentType"] != "Device":
                return error("retry is only supported for device blobs", 400)
            if self._blob_status(blob) != "Error":
                return error(f"rosbag blob {guid} is {self._blob_status(blob)}, not Error", 400)
            blob["_fails"], blob["_t0"] = False, time.monotonic()
            return json_response({"status": self._blob_status(blob)})

    # -- secrets (core host, raw JSON) ----------------------------------------------------------
    def _secret_view(self, rec: dict[str, Any]) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in rec.items() if not k.startswith("_")}
        out.update(self.app._stamps(rec))
        return out  # the credentials (``_data``) are never sent back

    def _secret_body(self, request: Request) -> tuple[dict[str, Any], Response | None]:
        body, bad = self._body(request)
        if bad is not None:
            return {}, bad
        problem = _check_secret(body)
        if problem is not None:
            return {}, error(problem, 400)
        return body, None

    def create_secret(self, request: Request) -> Response:
        """POST /api/secret/create {type, name, data}."""
        body, bad = self._secret_body(request)
        if bad is not None:
            return bad
        with self.app.lock:
            if any(r["name"] == body["name"] for r in self.secrets.values()):
                return error(f"secret {body['name']} already exists", 409)
            guid = self.app._id("secret")
            rec = self._new_rec(guid=guid, name=body["name"], type=body["type"],
                                projectGUID=self.app._owner(), creator=CREATOR,
                                _data=copy.deepcopy(body["data"]))
            self.secrets[guid] = rec
            return json_response(self._secret_view(rec))

    def list_secrets(self, request: Request) -> Response:
        """GET /api/secret/list."""
        with self.app.lock:
            return json_response([self._secret_view(r) for r in self.secrets.values()])

    def get_secret(self, request: Request, guid: str) -> Response:
        """GET /api/secret/{guid}/get."""
        with self.app.lock:
            rec = self.secrets.get(guid)
            if rec is None:
                return error(f"secret {guid} not found", 404)
            return json_response(self._secret_view(rec))

    def update_secret(self, request: Request, guid: str) -> Response:
        """PUT /api/secret/{guid}/update {type, name, data}: new credentials, same name."""
        body, bad = self._secret_body(request)
        if bad is not None:
            return bad
        with self.app.lock:
            rec = self.secrets.get(guid)
            if rec is None:
                return error(f"secret {guid} not found", 404)
            if body["name"] != rec["name"]:
                return error(f"a secret cannot be renamed ({rec['name']} -> {body['name']})", 400)
            rec["_data"], rec["type"] = copy.deepcopy(body["data"]), body["type"]
            return json_response(self._secret_view(rec))

    def delete_secret(self, request: Request) -> Response:
        """DELETE /api/secret/delete {guid}."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        guid = body.get("guid") if isinstance(body, dict) else None
        with self.app.lock:
            if self.secrets.pop(str(guid), None) is None:
                return error(f"secret {guid} not found", 404)
        return json_response({"success": True})

    def docker_credentials(self, guid: str) -> dict[str, Any] | None:
        """The registry credentials stored in a docker secret (for tests and builds)."""
        with self.app.lock:
            rec = self.secrets.get(guid)
            if rec is None:
                return None
            cfg: dict[str, Any] = json.loads(base64.b64decode(rec["_data"][".dockercfg"]))
            return cfg

    # -- builds ---------------------------------------------------------------------------------
    def _build_status(self, build: dict[str, Any]) -> str:
        gen = build["_generations"][build["buildGeneration"] - 1]
        if time.monotonic() - gen["_t0"] < self.app.delay:
            return "BuildInProgress"
        return "BuildFailed" if gen["_fails"] else "Complete"

    def _build_view(self, build: dict[str, Any], with_requests: bool = False) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in build.items() if not k.startswith("_")}
        out.update(self.app._stamps(build))
        out["status"] = self._build_status(build)
        if with_requests:
            requests = []
            for number, gen in enumerate(build["_generations"], start=1):
                done = time.monotonic() - gen["_t0"] >= self.app.delay
                state = ("BuildFailed" if gen["_fails"] else "Complete") if done \
                    else "BuildInProgress"
                requests.append({"buildGenerationNumber": number, "status": state,
                                 "triggerName": gen["triggerName"], "tagName": gen["tagName"],
                                 "errorString": "sandbox build failure" if done and gen["_fails"]
                                 else "", "CreatedAt": iso(gen["_wall0"])})
            out["buildRequests"] = requests
        return out

    def _new_generation(self, trigger: str = "", tag: str = "") -> dict[str, Any]:
        outcome = self._next_build.popleft() if self._next_build else "ok"
        return {"_t0": time.monotonic(), "_wall0": time.time(), "_fails": outcome == "failed",
                "triggerName": trigger, "tagName": tag}

    def _check_build_secrets(self, body: dict[str, Any]) -> Response | None:
        named = [body.get("secret"), body.get("dockerPushSecret"),
                 *(body.get("dockerPullSecrets") or [])]
        for guid in named:
            if guid and guid not in self.secrets:
                return error(f"secret {guid} not found", 400)
        return None

    def create_build(self, request: Request) -> Response:
        """POST /build: a build whose first generation starts at once."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        problem = _check_build(body)
        if problem is not None:
            return error(problem, 400)
        with self.app.lock:
            if any(b["buildName"] == body["buildName"] for b in self.builds.values()):
                return error(f"build {body['buildName']} already exists", 409)
            bad = self._check_build_secrets(body)
            if bad is not None:
                return bad
            guid = self.app._id("build")
            info = {k: copy.deepcopy(body.get(k, d)) for k, d in (
                ("repository", ""), ("branch", ""), ("strategyType", ""),
                ("dockerFilePath", ""), ("contextDir", ""), ("architecture", ""),
                ("isRos", False), ("rosDistro", ""), ("simulationOptions", None),
                ("buildOptions", None))}
            rec = self._new_rec(
                guid=guid, buildName=body["buildName"], buildInfo=info, buildGeneration=1,
                secret=body.get("secret", ""),
                dockerPullSecrets=list(body.get("dockerPullSecrets") or []),
                dockerPushSecret=body.get("dockerPushSecret", ""),
                dockerPushRepository=body.get("dockerPushRepository", ""),
                buildWebhooks=copy.deepcopy(body.get("buildWebhooks")),
                ownerProject=self.app._owner(), creator=CREATOR,
                _generations=[self._new_generation(body.get("triggerName", ""),
                                                   body.get("tagName", ""))])
            self.builds[guid] = rec
            return json_response(self._build_view(rec))

    def list_builds(self, request: Request) -> Response:
        """GET /build[?status=...]."""
        statuses = set(_list_arg(request, "status"))
        with self.app.lock:
            views = [self._build_view(b) for b in self.builds.values()]
        return json_response([v for v in views if not statuses or v["status"] in statuses])

    def get_build(self, request: Request, guid: str) -> Response:
        """GET /build/{guid}[?include_build_requests=true]."""
        with_requests = request.args.get("include_build_requests", "").lower() == "true"
        with self.app.lock:
            rec = self.builds.get(guid)
            if rec is None:
                return error(f"build {guid} not found", 404)
            return json_response(self._build_view(rec, with_requests))

    def update_build(self, request: Request, guid: str) -> Response:
        """PUT /build/{guid}: repository, branch, paths, options, secrets and webhooks."""
        body, bad = self._body(request)
        if bad is not None:
            return bad
        problem = _check_build(body)
        if problem is not None:
            return error(problem, 400)
        with self.app.lock:
            rec = self.builds.get(guid)
            if rec is None:
                return error(f"build {guid} not found", 404)
            info = rec["buildInfo"]
            for fixed in ("strategyType", "architecture", "isRos"):
                if body.get(fixed, info[fixed]) != info[fixed]:
                    return error(f"{fixed} of a build cannot be changed", 400)
            bad = self._check_build_secrets(body)
            if bad is not None:
                return bad
            for key in ("repository", "branch", "dockerFilePath", "contextDir",
                        "buildOptions", "simulationOptions"):
                if key in body:
                    info[key] = copy.deepcopy(body[key])
            for key in ("secret", "dockerPushRepository", "buildWebhooks"):
                if key in body:
                    rec[key] = copy.deepcopy(body[key])
            if "dockerPullSecrets" in body:
                rec["dockerPullSecrets"] = list(body["dockerPullSecrets"] or [])
            return json_response(self._build_view(rec))

    def delete_build(self, request: Request, guid: str) -> Response:
        """DELETE /build/{guid}: 409 while a deployment runs an executable built by it."""
        with self.app.lock:
            if guid not in self.builds:
                return error(f"build {guid} not found", 404)
            users = self._build_users(guid)
            if users:
                return error(f"build {guid} is used by deployments {users}", 409)
            del self.builds[guid]
        return json_response({"success": True})

    def _build_users(self, guid: str) -> list[str]:
        users = []
        for dep_id, rec in self.app.deployments.items():
            pkg = self.app.packages.get(rec["packageId"]) or {}
            plan: dict[str, Any] = next(
                (p for p in pkg.get("plans") or [] if p["planId"] == rec["planId"]), {})
            if any(e.get("buildGUID") == guid
                   for c in (plan.get("components") or {}).get("components") or []
                   for e in c["executables"]):
                users.append(dep_id)
        return users

    def _operations(self, request: Request, kind: str) -> Response:
        body, bad = self._body(request)
        if bad is not None:
            return bad
        infos = body.get("buildOperationInfo") if isinstance(body, dict) else None
        if not isinstance(infos, list) or not infos:
            return error("buildOperationInfo (a non-empty list) is required", 400)
        out = []
        with self.app.lock:
            for info in infos:
                guid = info.get("buildGUID") if isinstance(info, dict) else None
                out.append(self._operate(kind, str(guid), info if isinstance(info, dict) else {}))
        return json_response({"buildOperationResponse": out})

    def _operate(self, kind: str, guid: str, info: dict[str, Any]) -> dict[str, Any]:
        rec = self.builds.get(guid)
        result: dict[str, Any] = {"buildGUID": guid, "buildGenerationNumber": 0,
                                  "success": False, "error": ""}
        if rec is None:
            result["error"] = f"build {guid} not found"
            return result
        status = self._build_status(rec)
        if status == "BuildInProgress":
            result["error"] = f"build {guid} is in progress"
            return result
        if kind == "trigger":
            rec["_generations"].append(self._new_generation(info.get("triggerName", ""),
                                                            info.get("tagName", "")))
            rec["buildGeneration"] = len(rec["_generations"])
        else:
            number = info.get("buildGenerationNumber")
            gens = rec["_generations"]
            if not isinstance(number, int) or not 1 <= number <= len(gens):
                result["error"] = f"build {guid} has no generation {number}"
                return result
            if gens[number - 1]["_fails"]:
                result["error"] = f"generation {number} of build {guid} failed"
                return result
            rec["buildGeneration"] = number
        result.update(buildGenerationNumber=rec["buildGeneration"], success=True)
        return result

    def trigger_builds(self, request: Request) -> Response:
        """PUT /build/operation/trigger: a new generation per build (not while one runs)."""
        return self._operations(request, "trigger")

    def rollback_builds(self, request: Request) -> Response:
        """PUT /build/operation/rollback: back to an earlier, successful generation."""
        return self._operations(request, "rollback")

    def _admin_next_build(self, request: Request) -> Response:
        body, _ = self._body(request)
        outcome = body.get("outcome") if isinstance(body, dict) else None
        if outcome not in ("ok", "failed"):
            return error("outcome must be ok or failed", 400)
        self.fail_next_build(str(outcome))
        return json_response({"next_build": outcome})


def _check_secret(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "secret body must be a JSON object"
    name = body.get("name")
    if not isinstance(name, str) or not 3 <= len(name) <= 253 or not _SECRET_NAME.match(name):
        return ("name must be 3 to 253 lower case alphanumeric characters or -, starting and "
                f"ending with an alphanumeric character; got {name!r}")
    if body.get("type") != DOCKER_SECRET:
        return f"type must be {DOCKER_SECRET}"
    data = body.get("data")
    raw = data.get(".dockercfg") if isinstance(data, dict) else None
    if not isinstance(raw, str):
        return "data[.dockercfg] (base64 of the docker config JSON) is required"
    try:
        cfg = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        return "data[.dockercfg] is not base64 of a JSON object"
    if not isinstance(cfg, dict) or not cfg:
        return "data[.dockercfg] must map a registry to its credentials"
    for registry, creds in cfg.items():
        if not isinstance(creds, dict) or not all(
                isinstance(creds.get(k), str) and creds[k] for k in ("username", "password")):
            return f"credentials of registry {registry} need a username and a password"
    return None


def _check_native(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "native network body must be a JSON object"
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        return "name is required"
    if body.get("runtime") not in ("cloud", "device"):
        return "runtime must be one of ['cloud', 'device']"
    if body.get("rosDistro") not in ROS_DISTROS:
        return f"rosDistro must be one of {list(ROS_DISTROS)}"
    params = body.get("parameters") or {}
    if not isinstance(params, dict):
        return "parameters must be an object"
    if body["runtime"] == "device":
        if body["rosDistro"] == "noetic":
            return "device runtime does not support noetic ros_distro yet"
        if not params.get("device_id") or not params.get("NETWORK_INTERFACE"):
            return "parameters.device_id and parameters.NETWORK_INTERFACE are required for a " \
                   "device native network"
        if params.get("limits") is not None:
            return "limits apply to cloud native networks only"
        if params.get("restart_policy", "always") not in RESTART_POLICIES:
            return f"restart_policy must be one of {list(RESTART_POLICIES)}"
    limits = params.get("limits")
    if limits is not None:
        cpu, memory = (limits.get("cpu"), limits.get("memory")) if isinstance(
            limits, dict) else (None, None)
        if not _positive(cpu) or not (_positive(memory) and isinstance(memory, int)):
            return "limits need cpu > 0 and an integer memory > 0"
    return None


def _check_disk(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "disk body must be a JSON object"
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        return "name is required"
    if body.get("runtime", "cloud") != "cloud":
        return "disks are available for the cloud runtime only"
    if body.get("capacity") not in DISK_CAPACITIES or isinstance(body.get("capacity"), bool):
        return f"capacity must be one of {list(DISK_CAPACITIES)} (GiB)"
    if body.get("diskType", "ssd") not in DISK_TYPES:
        return f"diskType must be one of {list(DISK_TYPES)}"
    return None


def _check_job(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "rosbag job body must be a JSON object"
    if not isinstance(body.get("name"), str) or not body["name"]:
        return "name is required"
    if not isinstance(body.get("componentInstanceID"), str) or not body["componentInstanceID"]:
        return "componentInstanceID is required"
    opts = body.get("recordOptions")
    if not isinstance(opts, dict) or not any(
            opts.get(k) for k in ("allTopics", "topics", "topicIncludeRegex", "node")):
        return "recordOptions needs one of allTopics, topics, topicIncludeRegex or node"
    upload = body.get("uploadOptions")
    if upload is not None and (not isinstance(upload, dict)
                               or upload.get("uploadType", "OnDemand") not in UPLOAD_TYPES):
        return f"uploadOptions.uploadType must be one of {list(UPLOAD_TYPES)}"
    return None


def _check_build(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "build body must be a JSON object"
    if not isinstance(body.get("buildName"), str) or not body["buildName"]:
        return "buildName is required"
    if body.get("strategyType") not in ("Source", "Docker"):
        return "strategyType must be Source or Docker"
    repo = body.get("repository")
    if not isinstance(repo, str) or not re.match(r"^(https?://|git@|ssh://)\S+$", repo):
        return f"repository must be a git URL (https://, ssh:// or git@); got {repo!r}"
    if body.get("architecture") not in ("amd64", "arm32v7", "arm64v8"):
        return "architecture must be one of ['amd64', 'arm32v7', 'arm64v8']"
    is_ros = body.get("isRos", False)
    if not isinstance(is_ros, bool):
        return "isRos must be a boolean"
    if is_ros and body.get("rosDistro") not in ROS_DISTROS:
        return f"rosDistro must be one of {list(ROS_DISTROS)} for a ROS build"
    if body["strategyType"] == "Source" and body.get("dockerFilePath"):
        return "dockerFilePath cannot be used with the Source strategy"
    if bool(body.get("dockerPushSecret")) != bool(body.get("dockerPushRepository")):
        return "dockerPushSecret and dockerPushRepository go together"
    return None


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
