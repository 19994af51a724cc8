"""Client methods for native networks, volumes, static routes, rosbags, secrets and builds.

A mixin of :class:`~pytest_robofixtures.rapyuta.client.Client`, with the official SDK's method
names and signatures. Every ``create_*`` method also takes ``on_created``, called with the new
id as soon as the create answer is parsed (before any follow-up read), so a caller can register
the teardown of a resource even when the read after it fails.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .build import Build, BuildOperation, BuildStatus, build_operation
from .deployment import VOLUME_PACKAGE_ID
from .errors import APIError, InvalidParameterException, PackageNotFound, ResourceNotFoundError
from .native_network import NATIVE_NETWORK_PATH, NativeNetwork
from .persistent_volumes import PersistentVolumes, VolumeInstance
from .rosbag import ROSBagBlob, ROSBagBlobStatus, ROSBagJob, ROSBagJobStatus
from .secret import SECRET_PATH, Secret, delete_secret
from .static_route import STATIC_ROUTE_PATH, StaticRoute, core_call, delete_static_route

if TYPE_CHECKING:
    from ._rest import Rest

OnCreated = Callable[[str], None] | None


def _new_guid(body: Any, what: str, key: str = "guid") -> str:
    """The id in a create answer, or APIError naming the call."""
    if not isinstance(body, dict) or not isinstance(body.get(key), str) or not body[key]:
        raise APIError(f"{what}: no {key} in the answer {str(body)[:200]}")
    return str(body[key])


def _guid_arg(value: Any, what: str = "guid") -> str:
    if not value or not isinstance(value, str):
        raise InvalidParameterException(f"{what} needs to be a non empty string; got {value!r}")
    return value


def _str_list(value: Any, what: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise InvalidParameterException(f"{what} needs to be a list of string; got {value!r}")
    return value


def _enum_list(value: Any, enum_cls: Any, what: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(x, enum_cls) for x in value):
        raise InvalidParameterException(
            f"{what} needs to be a list of {enum_cls.__name__}; got {value!r}")
    return [x.value for x in value]


def _query(**lists: list[str] | None) -> dict[str, list[str]] | None:
    """Query parameters from the non-empty lists (repeated keys on the wire)."""
    params = {key: value for key, value in lists.items() if value}
    return params or None


class _FamiliesMixin:
    """Native networks, persistent volumes, static routes, rosbag jobs, secrets and builds."""

    _rest: Rest

    # -- native networks --------------------------------------------------------------------
    def create_native_network(self, native_network: NativeNetwork, *,
                              on_created: OnCreated = None) -> NativeNetwork:
        """Create a native network (``POST /nativenetwork``) and return it, fetched again."""
        if not isinstance(native_network, NativeNetwork):
            raise InvalidParameterException(
                "native_network must be non-empty and of type "
                "pytest_robofixtures.rapyuta.native_network.NativeNetwork")
        body = self._rest.catalog("POST", f"/{NATIVE_NETWORK_PATH}",
                                  json_body=native_network.serialize())
        guid = _new_guid(body, f"POST /{NATIVE_NETWORK_PATH}")
        if on_created is not None:
            on_created(guid)
        return self.get_native_network(guid)

    def get_native_network(self, network_guid: str) -> NativeNetwork:
        """A native network (full object) by guid."""
        _guid_arg(network_guid)
        body = self._rest.catalog("GET", f"/{NATIVE_NETWORK_PATH}/{network_guid}")
        if not isinstance(body, dict):
            raise APIError(f"GET /{NATIVE_NETWORK_PATH}/{network_guid}: expected an object, "
                           f"got {str(body)[:200]}")
        net = NativeNetwork.deserialize(body, self._rest)
        net.is_partial = False
        return net

    def list_native_networks(self) -> list[NativeNetwork]:
        """All native networks of the project (partial objects)."""
        body = self._rest.catalog("GET", f"/{NATIVE_NETWORK_PATH}")
        return [NativeNetwork.deserialize(n, self._rest) for n in body or []]

    def delete_native_network(self, network_guid: str) -> None:
        """Delete a native network by guid."""
        _guid_arg(network_guid)
        self._rest.catalog("DELETE", f"/{NATIVE_NETWORK_PATH}/{network_guid}")

    def poll_native_network_till_ready(self, network_guid: str, retry_count: int = 120,
                                       sleep_interval: float = 5, *,
                                       timeout: float | None = None) -> NativeNetwork:
        """Fetch the network ``network_guid`` and wait until it is ready (see NativeNetwork)."""
        return self.get_native_network(network_guid).poll_native_network_till_ready(
            retry_count, sleep_interval, timeout=timeout)

    # -- persistent volumes -----------------------------------------------------------------
    def get_persistent_volume(self, retry_limit: int = 0) -> PersistentVolumes:
        """The public persistent volume package (creates and lists volume instances)."""
        body = self._rest.catalog("GET", "/serviceclass/status",
                                  params={"package_uid": VOLUME_PACKAGE_ID},
                                  overrides={404: PackageNotFound})
        info = body.get("packageInfo") if isinstance(body, dict) else None
        if not isinstance(info, dict):
            raise APIError(f"GET /serviceclass/status: no packageInfo in {str(body)[:200]}")
        volume = PersistentVolumes(info, self._rest)
        volume.planId = "default"
        volume.packageId = VOLUME_PACKAGE_ID
        return volume

    def get_volume_instance(self, instance_id: str, retry_limit: int = 0) -> VolumeInstance:
        """A volume instance by its deployment id (``GET /serviceinstance/{id}``)."""
        _guid_arg(instance_id, "instance_id")
        body = self._rest.catalog("GET", f"/serviceinstance/{instance_id}")
        if not isinstance(body, dict):
            raise APIError(f"GET /serviceinstance/{instance_id}: expected an object, got {body!r}")
        volume = VolumeInstance(body, self._rest)
        volume.is_partial = False
        return volume

    # -- static routes ----------------------------------------------------------------------
    def _route(self, data: Any, what: str) -> StaticRoute:
        if not isinstance(data, dict):
            raise APIError(f"{what}: expected a static route object, got {str(data)[:200]}")
        return StaticRoute.from_wire(data, self._rest)

    def get_all_static_routes(self) -> list[StaticRoute]:
        """All static routes of the project."""
        body = core_call(self._rest, "GET", f"{STATIC_ROUTE_PATH}/list")
        return [self._route(r, f"GET {STATIC_ROUTE_PATH}/list") for r in body or []]

    def get_static_route(self, route_guid: str) -> StaticRoute:
        """A static route by guid."""
        _guid_arg(route_guid, "route_guid")
        path = f"{STATIC_ROUTE_PATH}/{route_guid}/get"
        return self._route(core_call(self._rest, "GET", path), f"GET {path}")

    def get_static_route_by_name(self, name: str) -> StaticRoute | None:
        """The static route whose URL prefix is ``name``, or None."""
        _guid_arg(name, "name")
        try:
            body = core_call(self._rest, "GET", f"{STATIC_ROUTE_PATH}/filter",
                             params={"urlPrefix": name})
        except ResourceNotFoundError:
            return None
        if not body:
            return None
        return self._route(body[0], f"GET {STATIC_ROUTE_PATH}/filter")

    def create_static_route(self, name: str, *, on_created: OnCreated = None) -> StaticRoute:
        """Create a static route whose URL prefix is ``name`` (``^[a-z][a-z0-9-]*$``, 4-64)."""
        _guid_arg(name, "name")
        path = f"{STATIC_ROUTE_PATH}/create"
        body = core_call(self._rest, "POST", path, json_body={"urlPrefix": name})
        guid = _new_guid(body, f"POST {path}")
        if on_created is not None:
            on_created(guid)
        return self._route(body, f"POST {path}")

    def delete_static_route(self, route_guid: str) -> None:
        """Delete a static route by guid."""
        _guid_arg(route_guid, "route_guid")
        delete_static_route(self._rest, route_guid)

    # -- rosbag jobs and blobs --------------------------------------------------------------
    def _jobs(self, body: Any) -> list[ROSBagJob]:
        return [ROSBagJob.deserialize(j, self._rest) for j in body or []]

    def get_rosbag_job(self, guid: str) -> ROSBagJob:
        """A rosbag job by guid."""
        _guid_arg(guid)
        return ROSBagJob.deserialize(self._rest.catalog("GET", f"/rosbag-jobs/job/{guid}"),
                                     self._rest)

    def create_rosbag_job(self, rosbag_job: ROSBagJob, *,
                          on_created: OnCreated = None) -> ROSBagJob:
        """Start recording on a running deployment (``POST /rosbag-jobs/{deployment_id}``)."""
        if not isinstance(rosbag_job, ROSBagJob):
            raise InvalidParameterException(
                "rosbag job must be non-empty and of type pytest_robofixtures.rapyuta.ROSBagJob")
        if not rosbag_job.deployment_id or not isinstance(rosbag_job.deployment_id, str):
            raise InvalidParameterException("deployment id must be non empty string")
        if not rosbag_job.component_instance_id or not isinstance(
                rosbag_job.component_instance_id, str):
            raise InvalidParameterException(
                "component instance id must be non empty string: see "
                "deployment.componentInfo[i].componentInstanceID")
        path = f"/rosbag-jobs/{rosbag_job.deployment_id}"
        body = self._rest.catalog("POST", path, json_body=rosbag_job.serialize())
        guid = _new_guid(body, f"POST {path}")
        if on_created is not None:
            on_created(guid)
        return ROSBagJob.deserialize(body, self._rest)

    def list_rosbag_jobs(self, deployment_id: str, component_instance_ids: list[str] | None = None,
                         guids: list[str] | None = None,
                         statuses: list[ROSBagJobStatus] | None = None) -> list[ROSBagJob]:
        """The rosbag jobs of a deployment, filtered by component instance, guid and status."""
        _guid_arg(deployment_id, "deployment id")
        insts = _str_list(component_instance_ids, "component_instance_ids")
        ids = _str_list(guids, "guids")
        states = _enum_list(statuses, ROSBagJobStatus, "statuses")
        if ids is not None and insts:
            raise InvalidParameterException("only guid or component_instance_id should be present")
        params = _query(guid=ids, componentInstanceID=insts, status=states)
        return self._jobs(self._rest.catalog("GET", f"/rosbag-jobs/{deployment_id}",
                                             params=params))

    def list_rosbag_jobs_in_project(self, device_ids: list[str]) -> list[ROSBagJob]:
        """The rosbag jobs recording on the given devices."""
        if not _str_list(device_ids, "device_ids"):
            raise InvalidParameterException("device_ids need to be a non-empty list of string")
        return self._jobs(self._rest.catalog("GET", "/rosbag-jobs",
                                             params={"deviceID": device_ids}))

    def stop_rosbag_jobs(self, deployment_id: str, component_instance_ids: list[str] | None = None,
                         guids: list[str] | None = None) -> None:
        """Stop the rosbag jobs of a deployment (all, or those of instances or guids)."""
        _guid_arg(deployment_id, "deployment id")
        insts = _str_list(component_instance_ids, "component_instance_ids")
        ids = _str_list(guids, "guids")
        if ids and insts:
            raise InvalidParameterException("only guid or component_instance_id should be present")
        self._rest.catalog("PATCH", f"/rosbag-jobs/{deployment_id}",
                           params=_query(guid=ids, componentInstanceID=insts))

    def list_rosbag_blobs(self, guids: list[str] | None = None,
                          deployment_ids: list[str] | None = None,
                          component_instance_ids: list[str] | None = None,
                          job_ids: list[str] | None = None,
                          statuses: list[ROSBagBlobStatus] | None = None,
                          device_ids: list[str] | None = None) -> list[ROSBagBlob]:
        """Recorded bags, filtered by one of guid, deployment, component instance or job."""
        lists = {"guids": _str_list(guids, "guids"),
                 "deployment_ids": _str_list(deployment_ids, "deployment_ids"),
                 "component_instance_ids": _str_list(component_instance_ids,
                                                     "component_instance_ids"),
                 "job_ids": _str_list(job_ids, "job_ids")}
        states = _enum_list(statuses, ROSBagBlobStatus, "statuses")
        devices = _str_list(device_ids, "device_ids")
        if sum(1 for v in lists.values() if v) > 1:
            raise InvalidParameterException(
                "only one of deployment_ids, component_instance_ids, guids or job_ids should be "
                "present")
        params = _query(guid=lists["guids"], deploymentID=lists["deployment_ids"],
                        componentInstanceID=lists["component_instance_ids"],
                        status=states, jobID=lists["job_ids"], deviceID=devices)
        body = self._rest.catalog("GET", "/rosbag-blobs", params=params)
        return [ROSBagBlob.deserialize(b, self._rest) for b in body or []]

    def download_rosbag_blob(self, guid: str, filename: str | None = None,
                             download_dir: str | None = None) -> str:
        """Download a bag to ``download_dir/filename`` (default: the server's file name).

        Returns the path written (the SDK returns None). The signed storage URL is fetched
        without the platform's Authorization header, as storage services expect.
        """
        _guid_arg(guid)
        body = self._rest.catalog("GET", f"/rosbag-blobs/{guid}/file")
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url:
            raise APIError(f"GET /rosbag-blobs/{guid}/file: no url in {str(body)[:200]}")
        try:
            resp = self._rest.session.get(url, stream=True,
                                          headers={"Authorization": None, "project": None})
        except Exception as exc:
            raise APIError(f"downloading rosbag blob {guid} from its signed URL failed: "
                           f"{exc}") from exc
        with resp:
            if resp.status_code != 200:
                raise APIError(f"downloading rosbag blob {guid}: the signed URL answered "
                               f"{resp.status_code}: {resp.text[:200]}",
                               status_code=resp.status_code)
            if not filename:
                found = re.findall("filename=(.+)", resp.headers.get("Content-Disposition", ""))
                if not found:
                    raise APIError(f"rosbag blob {guid}: no file name in the download answer; "
                                   "pass filename=")
                # the server's name, never a path (a hostile "../x" stays inside download_dir)
                filename = os.path.basename(found[0].strip().strip('"'))
                if not filename:
                    raise APIError(f"rosbag blob {guid}: unusable file name {found[0]!r}")
            path = os.path.join(download_dir, filename) if download_dir else filename
            with open(path, "wb") as out:
                for chunk in resp.iter_content(1024 * 1024):
                    out.write(chunk)
        return path

    def delete_rosbag_blob(self, guid: str) -> None:
        """Delete a recorded bag."""
        _guid_arg(guid)
        self._rest.catalog("DELETE", f"/rosbag-blobs/{guid}")

    # -- secrets ----------------------------------------------------------------------------
    def create_secret(self, secret: Secret, *, on_created: OnCreated = None) -> Secret:
        """Create a secret in the project (``POST /api/secret/create``)."""
        if not isinstance(secret, Secret):
            raise InvalidParameterException(
                "secret must be non-empty and of type pytest_robofixtures.rapyuta.Secret")
        path = f"{SECRET_PATH}/create"
        body = core_call(self._rest, "POST", path, json_body=secret.serialize())
        guid = _new_guid(body, f"POST {path}")
        if on_created is not None:
            on_created(guid)
        return Secret.deserialize(body, self._rest)

    def list_secrets(self) -> list[Secret]:
        """The project's secrets (names and types; the credentials are never returned)."""
        body = core_call(self._rest, "GET", f"{SECRET_PATH}/list")
        return [Secret.deserialize(s, self._rest) for s in body or []]

    def get_secret(self, guid: str) -> Secret:
        """A secret by guid."""
        _guid_arg(guid)
        return Secret.deserialize(core_call(self._rest, "GET", f"{SECRET_PATH}/{guid}/get"),
                                  self._rest)

    def update_secret(self, guid: str, secret: Secret) -> Secret:
        """Replace the credentials of the secret ``guid``."""
        _guid_arg(guid)
        if not isinstance(secret, Secret):
            raise InvalidParameterException(
                "secret must be non-empty and of type pytest_robofixtures.rapyuta.Secret")
        body = core_call(self._rest, "PUT", f"{SECRET_PATH}/{guid}/update",
                         json_body=secret.serialize())
        return Secret.deserialize(body, self._rest)

    def delete_secret(self, guid: str) -> None:
        """Delete a secret by guid."""
        _guid_arg(guid)
        delete_secret(self._rest, guid)

    # -- builds -----------------------------------------------------------------------------
    def create_build(self, build: Build, refresh: bool = True, *,
                     on_created: OnCreated = None) -> Build:
        """Create a build (``POST /build``); refreshed from the server unless ``refresh=False``."""
        if not isinstance(build, Build):
            raise InvalidParameterException(
                "build must be non-empty and of type pytest_robofixtures.rapyuta.build.Build")
        body = self._rest.catalog("POST", "/build", json_body=build._serialize())
        build["guid"] = _new_guid(body, "POST /build")
        build._rest = self._rest
        if on_created is not None:
            on_created(build["guid"])
        if refresh:
            build.refresh()
        return build

    def get_build(self, guid: str, include_build_requests: bool = False) -> Build:
        """A build by guid (with its build requests if asked)."""
        _guid_arg(guid)
        if not isinstance(include_build_requests, bool):
            raise InvalidParameterException("include_build_requests must be of bool type")
        params = {"include_build_requests": True} if include_build_requests else None
        build = Build._deserialize(self._rest.catalog("GET", f"/build/{guid}", params=params),
                                   self._rest)
        build.is_partial = False
        return build

    def list_builds(self, statuses: list[BuildStatus] | None = None) -> list[Build]:
        """The project's builds, optionally only those in ``statuses``."""
        if statuses is not None:
            BuildStatus.validate(statuses)
        params = {"status": [str(s) for s in statuses]} if statuses else None
        body = self._rest.catalog("GET", "/build", params=params)
        return [Build._deserialize(b, self._rest) for b in body or []]

    def delete_build(self, guid: str) -> None:
        """Delete a build by guid."""
        _guid_arg(guid)
        self._rest.catalog("DELETE", f"/build/{guid}")

    def trigger_build(self, buildOperation: BuildOperation) -> dict[str, Any]:  # noqa: N803
        """Start new generations of builds; the server's ``buildOperationResponse`` answer."""
        return build_operation(self._rest, "trigger", buildOperation)

    def rollback_build(self, buildOperation: BuildOperation) -> dict[str, Any]:  # noqa: N803
        """Roll builds back to earlier generations; the server's answer."""
        return build_operation(self._rest, "rollback", buildOperation)
