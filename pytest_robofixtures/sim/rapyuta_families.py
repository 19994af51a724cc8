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
  ``<prefix>-<6 hex digits of the project>.ep-r.io``;
  ``context.component_context[comp].static_route_config`` binds an exposed endpoint to a route.
- ``/rosbag-jobs`` and ``/rosbag-blobs``: jobs on a running deployment's ROS component
  (created by the API or from the provision's ``ros_bag_job_defs``) go ``Starting`` →
  ``Running``; stopping one (or deprovisioning its deployment) makes it ``Stopping`` →
  ``Stopped`` and produces a blob, ``Starting`` → ``Uploading`` → ``Uploaded`` over ``delay``
  (device OnDemand jobs upload only the time range asked by a PATCH; device Continuous
  jobs also upload a split every ``delay`` while running). Blobs download through a
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

import copy
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from pytest_robofixtures.sim._rio_base import FamilyBase, Route
from pytest_robofixtures.sim._rio_builds import Builds
from pytest_robofixtures.sim._rio_native import NativeNetworks
from pytest_robofixtures.sim._rio_rosbag import Rosbags
from pytest_robofixtures.sim._rio_secrets import Secrets
from pytest_robofixtures.sim._rio_static_routes import StaticRoutes
from pytest_robofixtures.sim._rio_volumes import VOLUME_PACKAGE_ID, Volumes
from pytest_robofixtures.sim._wsgi import json_response
from pytest_robofixtures.sim.rapyuta_devices import error

if TYPE_CHECKING:
    from pytest_robofixtures.sim.rapyuta import RapyutaSim

__all__ = ["Families", "VOLUME_PACKAGE_ID"]


class Families(NativeNetworks, Volumes, StaticRoutes, Rosbags, Secrets, Builds, FamilyBase):
    """The resource families beyond networks, packages and deployments (module docstring)."""

    def __init__(self, app: RapyutaSim) -> None:
        self.app = app
        self.native_networks, self.disks, self.static_routes = {}, {}, {}
        self.jobs, self.blobs, self.secrets, self.builds = {}, {}, {}, {}
        self._next_native, self._next_build = deque(), deque()
        self._next_upload_fails = 0
        self._materialized = set()
        self._secret = app._rng.randbytes(32)
        self._volume_package = self._make_volume_package()
        for rule, handler, methods in self.routes():
            app.route(rule, handler, methods)
        self._serve_volume_package()

    def routes(self) -> list[Route]:
        """The routes of all families."""
        return (self.native_routes() + self.volume_routes() + self.static_route_routes()
                + self.rosbag_routes() + self.secret_routes() + self.build_routes())

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
