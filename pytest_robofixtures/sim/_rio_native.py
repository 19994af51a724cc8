"""Sandbox native networks (catalog ``/nativenetwork``), part of ``rapyuta_families.Families``.

They move through the same phases as routed networks (``internalDeploymentStatus``);
``fail_next_native_network("failed"|"stuck")`` (or ``POST /_admin/nativenetworks/next
{"outcome"}``) sets the fate of the next one. One bound to a live deployment cannot be deleted.
"""

from __future__ import annotations

import copy
from typing import Any

from werkzeug.wrappers import Request, Response

from pytest_robofixtures.sim._rio_base import (
    OUTCOMES,
    RESTART_POLICIES,
    ROS_DISTROS,
    FamilyBase,
    Route,
    _positive,
)
from pytest_robofixtures.sim._wsgi import json_response
from pytest_robofixtures.sim.rapyuta_devices import CREATOR, error


class NativeNetworks(FamilyBase):
    """Native networks of the sandbox."""

    def native_routes(self) -> list[Route]:
        """The routes of native networks."""
        return [
            ("/nativenetwork", self.create_native_network, ["POST"]),
            ("/nativenetwork", self.list_native_networks, ["GET"]),
            ("/nativenetwork/<guid>", self.get_native_network, ["GET"]),
            ("/nativenetwork/<guid>", self.delete_native_network, ["DELETE"]),
            (f"{self.app.ADMIN}/nativenetworks/next", self._admin_next_native, ["POST"]),
        ]

    def fail_next_native_network(self, outcome: str = "failed") -> None:
        """Make the next created native network ``stuck`` or ``failed`` (or ``ok``)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
        with self.app.lock:
            self._next_native.append(outcome)

    def native_network_users(self, guid: str) -> list[str]:
        """Live deployments bound to the native network ``guid``."""
        return [d for d, rec in self.app.deployments.items()
                if any(n.get("guid") == guid
                       for n in rec["provisionContext"].get("nativeNetworks") or [])]

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
