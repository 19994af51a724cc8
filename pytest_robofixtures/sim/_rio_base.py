"""Shared state and helpers of the sandbox's resource families (see ``rapyuta_families``)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from pytest_robofixtures.sim._wsgi import read_json
from pytest_robofixtures.sim.rapyuta_devices import error

if TYPE_CHECKING:
    from pytest_robofixtures.sim.rapyuta import RapyutaSim

OUTCOMES = ("ok", "stuck", "failed")
ROS_DISTROS = ("kinetic", "melodic", "noetic")
RESTART_POLICIES = ("always", "no", "on-failure")

Route = tuple[str, Callable[..., Response], list[str]]


def _list_arg(request: Request, name: str) -> list[str]:
    """A repeated query parameter (``?a=1&a=2``), also accepting comma-separated values."""
    out: list[str] = []
    for value in request.args.getlist(name):
        out.extend(v for v in value.split(",") if v)
    return out


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


class FamilyBase:
    """The state every family mixin shares: the app and the stores of all families."""

    app: RapyutaSim
    native_networks: dict[str, dict[str, Any]]
    disks: dict[str, dict[str, Any]]
    static_routes: dict[str, dict[str, Any]]
    jobs: dict[str, dict[str, Any]]
    blobs: dict[str, dict[str, Any]]
    secrets: dict[str, dict[str, Any]]
    builds: dict[str, dict[str, Any]]
    _next_native: deque[str]
    _next_build: deque[str]
    _next_upload_fails: int
    _materialized: set[str]
    _secret: bytes
    _volume_package: dict[str, Any]

    def _body(self, request: Request) -> tuple[Any, Response | None]:
        try:
            return read_json(request), None
        except ValueError as exc:
            return None, error(f"request body is not valid JSON: {exc}", 400)

    def _new_rec(self, **fields: Any) -> dict[str, Any]:
        return {**fields, "_t0": time.monotonic(), "_wall0": time.time(),
                "_seq": self.app._seq()}

    # used across families (rosbag jobs read deployments; builds check secrets)
    def _volume_user(self, volume_id: str) -> str | None:
        """The live deployment mounting the volume deployment ``volume_id``, if any."""
        for d, rec in self.app.deployments.items():
            if any(x.get("dependentDeploymentId") == volume_id
                   for x in rec.get("dependentDeployments") or []):
                return d
        return None

    def _routes_in_use(self) -> dict[str, str]:
        """Static route guid -> the live deployment bound to it."""
        used: dict[str, str] = {}
        for d, rec in self.app.deployments.items():
            for ctx in (rec["provisionContext"].get("component_context") or {}).values():
                for guid in ((ctx or {}).get("static_route_config") or {}).values():
                    used[guid] = d
        return used
