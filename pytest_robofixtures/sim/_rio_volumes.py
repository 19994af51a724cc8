"""Sandbox persistent volumes (the public volume package and ``/disk``), part of ``Families``.

A disk is backed by a deployment of ``io-public-persistent-volume`` (``GET
/serviceinstance/{internalDeploymentGUID}``), ready after ``delay``. A deployment mounts it with a
``context.dependentDeployments`` entry whose ``config`` has ``mountPath`` or ``mountPaths``; the
disk is then ``Bound``, and a mounted disk can neither be mounted again nor deleted (409).
"""

from __future__ import annotations

import copy
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from pytest_robofixtures.sim._rio_base import (
    FamilyBase,
    Route,
    _list_arg,
)
from pytest_robofixtures.sim._wsgi import json_response
from pytest_robofixtures.sim.rapyuta_devices import CREATOR, error, iso

VOLUME_PACKAGE_ID = "io-public-persistent-volume"
VOLUME_PLAN_ID = "default"
VOLUME_COMPONENT = "volumeComponent"
DISK_CAPACITIES = (4, 8, 16, 32, 64, 128, 256, 512)
DISK_TYPES = ("ssd",)


class Volumes(FamilyBase):
    """Persistent volumes of the sandbox."""

    def volume_routes(self) -> list[Route]:
        """The routes of disks (volume instances)."""
        return [
            ("/disk", self.create_disk, ["POST"]),
            ("/disk", self.list_disks, ["GET"]),
            ("/disk/<guid>", self.get_disk, ["GET"]),
            ("/disk/<guid>", self.delete_disk, ["DELETE"]),
        ]

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
