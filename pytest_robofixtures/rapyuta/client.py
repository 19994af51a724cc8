"""The rapyuta.io Client: the SDK's surface over one requests session with timeouts and retries."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..common.clock import Clock
from ..common.http import DEFAULT_TIMEOUT
from ._model import ObjDict, require_str
from ._rest import Rest
from .deployment import VOLUME_PACKAGE_ID, Deployment
from .device import Device
from .enums import (
    DeploymentPhaseConstants,
    DeviceArch,
    RestartPolicy,
    ROSDistro,
    Runtime,
    coerce_enum,
)
from .errors import (
    APIError,
    InvalidAuthTokenException,
    InvalidParameterException,
    PackageNotFound,
)
from .families import _FamiliesMixin
from .manifest import load_manifest, validate_manifest
from .metrics import (
    ListMetricsRequest,
    ListTagKeysRequest,
    ListTagValuesRequest,
    Metric,
    QueryMetricsRequest,
    QueryMetricsResponse,
    Tags,
)
from .package import Package
from .routed_network import Parameters, RoutedNetwork

#: Called with the id of a resource as soon as its create call answered.
OnCreated = Callable[[str], None]

#: Production hosts (``rapyuta_io.utils.settings.default_host_config``).
DEFAULT_HOSTS: dict[str, str] = {
    "catalog_host": "https://gacatalog.apps.okd4v2.prod.rapyuta.io",
    "core_api_host": "https://gaapiserver.apps.okd4v2.prod.rapyuta.io",
    "rip_host": "https://garip.apps.okd4v2.prod.rapyuta.io",
}

_ARCH_SELECTORS: dict[str, list[dict[str, Any]]] = {
    "arm32v7": [{"operator": "$in", "args": ["cpuarch", "armv7"]}],
    "arm64v8": [{"operator": "$in", "args": ["cpuarch", "aarch64"]}],
    "amd64": [{"operator": "$eq", "args": ["cpuarch", "x86_64"]},
              {"operator": "$eq", "args": ["cpuarch", "amd64"]}],
}


def resolve_host(key: str, explicit: str | None) -> str:
    """``explicit``, else ``$RIO_CONFIG``'s ``key`` (a JSON file, as the SDK), else production."""
    if explicit:
        return explicit.rstrip("/")
    path = os.environ.get("RIO_CONFIG")
    if path:
        try:
            value = json.loads(Path(path).read_text(encoding="utf-8"))[key]
            if isinstance(value, str) and value:
                return value.rstrip("/")
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return DEFAULT_HOSTS[key]


def _check_strings(value: Any, what: str) -> None:
    if not isinstance(value, list) or not value or not all(
            isinstance(v, str) and v for v in value):
        raise InvalidParameterException(f"{what} must be a non-empty list of strings; got "
                                        f"{value!r}")


def fetch_package_info(rest: Rest, package_id: str) -> dict[str, Any]:
    """``GET /serviceclass/status``'s ``packageInfo`` (404 → PackageNotFound)."""
    body = rest.catalog("GET", "/serviceclass/status", params={"package_uid": package_id},
                        overrides={404: PackageNotFound})
    info = body.get("packageInfo") if isinstance(body, dict) else None
    if not isinstance(info, dict):
        raise APIError(f"GET /serviceclass/status: no packageInfo in {str(body)[:200]}")
    info = dict(info)
    info["packageId"] = package_id
    return info


class Client(_FamiliesMixin):
    """Access to routed networks, packages, deployments and devices of one project."""

    def __init__(
        self,
        auth_token: str | None,
        project: str | None = None,
        *,
        catalog_host: str | None = None,
        core_api_host: str | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = 4,
        clock: Clock | None = None,
    ) -> None:
        if not auth_token or not isinstance(auth_token, str):
            raise InvalidAuthTokenException(
                "Authentication token is missing: pass Client(auth_token=...) or set "
                "RIO_AUTH_TOKEN (and RIO_PROJECT) and use Client.from_env()")
        self._rest = Rest(
            auth_token, project,
            catalog_host=resolve_host("catalog_host", catalog_host),
            core_api_host=resolve_host("core_api_host", core_api_host),
            timeout=timeout, retries=retries, clock=clock,
        )

    @classmethod
    def from_env(cls, **kwargs: Any) -> Client:
        """A Client from ``RIO_AUTH_TOKEN`` and ``RIO_PROJECT``."""
        return cls(os.environ.get("RIO_AUTH_TOKEN"), os.environ.get("RIO_PROJECT"), **kwargs)

    @property
    def catalog_host(self) -> str:
        """The catalog host in use."""
        return self._rest.catalog_host

    @property
    def core_api_host(self) -> str:
        """The core API host in use."""
        return self._rest.core_api_host

    @property
    def session(self) -> Any:
        """The underlying requests session (for recorders)."""
        return self._rest.session

    def set_project(self, project_guid: str | None) -> None:
        """Send ``project_guid`` in the ``project`` header of later calls."""
        self._rest.project = project_guid

    def close(self) -> None:
        """Close the connection pool."""
        self._rest.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- routed networks --------------------------------------------------------------------
    def _create_routed_network(self, body: dict[str, Any],
                               on_created: OnCreated | None) -> RoutedNetwork:
        created = self._rest.catalog("POST", "/routednetwork", json_body=body)
        if not isinstance(created, dict) or not created.get("guid"):
            raise APIError(f"POST /routednetwork: no guid in the answer {created!r}")
        if on_created is not None:
            on_created(str(created["guid"]))  # before the GET: a failed read keeps the id known
        return self.get_routed_network(created["guid"])

    def create_cloud_routed_network(self, name: str, ros_distro: ROSDistro | str, shared: bool,
                                    parameters: Parameters | None = None, *,
                                    on_created: OnCreated | None = None) -> RoutedNetwork:
        """Create a routed network in the cloud.

        ``on_created(guid)`` is called as soon as the POST answered, before the follow-up GET.
        """
        require_str(name, "name")
        distro = coerce_enum(ROSDistro, ros_distro, "ros_distro")
        if not isinstance(shared, bool):
            raise InvalidParameterException(f"shared must be a bool; got {shared!r}")
        if parameters is not None and not isinstance(parameters, Parameters):
            raise InvalidParameterException(
                "parameters must be of type pytest_robofixtures.rapyuta.Parameters, e.g. "
                "Parameters(RoutedNetworkLimits.SMALL)")
        return self._create_routed_network({
            "name": name, "runtime": Runtime.CLOUD.value, "rosDistro": distro.value,
            "shared": shared, "parameters": parameters.to_dict() if parameters else {}},
            on_created)

    def create_device_routed_network(
        self, name: str, ros_distro: ROSDistro | str, shared: bool, device: Device,
        network_interface: str, restart_policy: RestartPolicy | str = RestartPolicy.Always, *,
        on_created: OnCreated | None = None,
    ) -> RoutedNetwork:
        """Create a routed network on a device, bound to one of its network interfaces.

        ``on_created(guid)`` is called as soon as the POST answered, before the follow-up GET.
        """
        require_str(name, "name")
        distro = coerce_enum(ROSDistro, ros_distro, "ros_distro")
        policy = coerce_enum(RestartPolicy, restart_policy, "restart_policy")
        if not isinstance(shared, bool):
            raise InvalidParameterException(f"shared must be a bool; got {shared!r}")
        if not isinstance(device, Device):
            raise InvalidParameterException(
                f"device must be a Device (from client.get_device()); got {type(device).__name__}")
        if "ip_interfaces" not in device:
            device.refresh()
        interfaces = sorted((device.get("ip_interfaces") or {}).keys())
        if network_interface not in interfaces:
            raise InvalidParameterException(
                f"NETWORK_INTERFACE should be in {interfaces} (the interfaces of device "
                f"{device.get('name')!r}); got {network_interface!r}")
        return self._create_routed_network({
            "name": name, "runtime": Runtime.DEVICE.value, "rosDistro": distro.value,
            "shared": shared, "parameters": {
                "device_id": device["uuid"], "NETWORK_INTERFACE": network_interface,
                "restart_policy": policy.value}}, on_created)

    def get_routed_network(self, network_guid: str) -> RoutedNetwork:
        """A routed network by guid."""
        require_str(network_guid, "network_guid")
        body = self._rest.catalog("GET", f"/routednetwork/{network_guid}")
        if not isinstance(body, dict):
            raise APIError(f"GET /routednetwork/{network_guid}: expected an object, got {body!r}")
        return RoutedNetwork(body, self._rest)

    def get_all_routed_networks(self) -> list[RoutedNetwork]:
        """All routed networks of the project (partial objects)."""
        body = self._rest.catalog("GET", "/routednetwork")
        return [RoutedNetwork(n, self._rest, partial=True) for n in body or []]

    def delete_routed_network(self, network_guid: str) -> None:
        """Delete a routed network."""
        if not isinstance(network_guid, str) or not network_guid:
            raise InvalidParameterException(
                f"guid needs to be a non empty string; got {network_guid!r}")
        self._rest.catalog("DELETE", f"/routednetwork/{network_guid}")

    # -- packages ---------------------------------------------------------------------------
    def create_package(self, manifest: dict[str, Any], retry_limit: int = 0, *,
                       on_created: OnCreated | None = None) -> dict[str, Any]:
        """Create a package from a manifest dict (validated first); returns the server's answer.

        ``on_created(packageId)`` is called as soon as the answer is parsed.
        """
        validate_manifest(manifest)
        body = self._rest.catalog("POST", "/serviceclass/add", json_body=manifest)
        if not isinstance(body, dict) or not body.get("packageId"):
            raise APIError(f"POST /serviceclass/add: no packageId in the answer {body!r}")
        if on_created is not None:
            on_created(str(body["packageId"]))
        return body

    def create_package_from_manifest(self, manifest_filepath: str | Path,
                                     retry_limit: int = 0, *,
                                     on_created: OnCreated | None = None) -> dict[str, Any]:
        """Create a package from a manifest file (JSON, or YAML for .yaml/.yml)."""
        return self.create_package(load_manifest(manifest_filepath), on_created=on_created)

    def get_package(self, package_id: str, retry_limit: int = 0) -> Package:
        """A package (full object) by id."""
        require_str(package_id, "package_id")
        return Package(fetch_package_info(self._rest, package_id), self._rest)

    def get_all_packages(self, retry_limit: int = 0, name: str | None = None,
                         version: str | None = None) -> list[Package]:
        """The project's packages (partial), filtered by name substring and exact version."""
        if name is not None and not isinstance(name, str):
            raise InvalidParameterException(f"name must be a string; got {name!r}")
        if version is not None and not isinstance(version, str):
            raise InvalidParameterException(f"version must be a string; got {version!r}")
        body = self._rest.catalog("GET", "/v2/catalog")
        packages = []
        for svc in (body or {}).get("services") or []:
            if svc.get("id") == VOLUME_PACKAGE_ID:
                continue
            meta = svc.get("metadata") or {}
            data = dict(svc, packageId=svc.get("id"), packageName=svc.get("name"),
                        packageVersion=meta.get("packageVersion"))
            if name is not None and name not in (data["packageName"] or ""):
                continue
            if version is not None and version != data["packageVersion"]:
                continue
            packages.append(Package(data, self._rest, partial=True))
        return packages

    def delete_package(self, package_id: str) -> None:
        """Delete a package."""
        if not isinstance(package_id, str) or not package_id:
            raise InvalidParameterException(
                f"package_id must be a non-empty string; got {package_id!r}")
        self._rest.catalog("DELETE", "/serviceclass/delete", params={"package_uid": package_id})

    # -- deployments ------------------------------------------------------------------------
    def get_deployment(self, deployment_id: str, retry_limit: int = 0) -> Deployment:
        """A deployment (full object) by id."""
        require_str(deployment_id, "deployment_id")
        body = self._rest.catalog("GET", f"/serviceinstance/{deployment_id}")
        if not isinstance(body, dict):
            raise APIError(
                f"GET /serviceinstance/{deployment_id}: expected an object, got {body!r}")
        return Deployment(body, self._rest)

    def get_all_deployments(self, phases: list[Any] | None = None, device_id: str = "",
                            retry_limit: int = 0) -> list[Deployment]:
        """Deployments of the project (partial), filtered server-side by phase and device."""
        if not isinstance(device_id, str):
            raise InvalidParameterException(
                f"invalid deviceID: must be a string; got {device_id!r}")
        params: dict[str, Any] = {}
        if phases:
            params["phase"] = [
                coerce_enum(DeploymentPhaseConstants, p, "phase").value for p in phases]
        if device_id:
            params["device_uid"] = device_id
        body = self._rest.catalog("GET", "/deployment/list", params=params or None)
        return [Deployment(d, self._rest, partial=True) for d in body or []
                if d.get("packageId") != VOLUME_PACKAGE_ID]

    def update_deployment(self, payload: dict[str, Any], retry_limit: int = 0, *,
                          on_created: OnCreated | None = None) -> Any:
        """Update a deployment: ``PATCH /v2/service_instances/{payload['deployment_id']}``.

        ``payload`` is sent as is (``deployment_id``, ``service_id``, ``plan_id`` and
        ``context.component_context``). Returns the parsed answer; ``on_created(deployment_id)``
        is called once the server accepted it.
        """
        if not isinstance(payload, dict) or not isinstance(payload.get("deployment_id"), str) \
                or not payload["deployment_id"]:
            raise InvalidParameterException(
                "payload must be a dict with a non-empty deployment_id")
        dep_id = payload["deployment_id"]
        body = self._rest.catalog("PATCH", f"/v2/service_instances/{dep_id}", json_body=payload)
        if on_created is not None:
            on_created(dep_id)
        return ObjDict(body) if isinstance(body, dict) else body

    # -- devices ----------------------------------------------------------------------------
    def get_all_devices(self, online_device: bool = False, arch_list: list[Any] | None = None,
                        retry_limit: int = 0, device_name: str | None = None) -> list[Device]:
        """The project's devices (partial); ``arch_list`` keeps online devices of those arches."""
        arches = [coerce_enum(DeviceArch, a, "arch_list item") for a in arch_list or []]
        if device_name is not None:
            require_str(device_name, "device_name")
        selected: set[str] | None = None
        if arches:
            args = [sel for a in arches for sel in _ARCH_SELECTORS[a.value]]
            body = {"operator": "$or", "specs": {"operator": "$or", "args": args}}
            data = self._rest.dm("POST", "selection/query/", json_body=body)
            selected = {d.get("uuid") for d in data or []}
        params = {"name": device_name} if device_name else None
        devices = [Device.from_api(d, self._rest, partial=True)
                   for d in self._rest.dm("GET", "devices/", params=params) or []]
        if online_device:
            devices = [d for d in devices if d.get("status") == "ONLINE"]
        if selected is not None:
            devices = [d for d in devices if d.get("uuid") in selected]
        return devices

    def get_device(self, device_id: str, retry_limit: int = 0) -> Device:
        """A device (full object) by uuid."""
        require_str(device_id, "device_id")
        return Device.from_api(self._rest.dm("GET", f"devices/{device_id}"), self._rest)

    def create_device(self, device: Device, *, on_created: OnCreated | None = None) -> Device:
        """Register ``device`` (built as ``Device(name, runtime=…, …)``); returns it as fetched.

        ``POST auth-keys/?download_type=script``, then ``GET devices/{device_id}``
        (``on_created(device_id)`` runs between the two). The new device is not ONLINE until
        its agent is installed (``device.onboard_script().run()``).
        """
        if not isinstance(device, Device):
            raise InvalidParameterException(
                "device must be non-empty and of type pytest_robofixtures.rapyuta.Device")
        body = self._rest.dm_raw("POST", "auth-keys/", params={"download_type": "script"},
                                 json_body=device._serialize())
        try:
            device_id = str(body["response"]["device_id"])
        except (TypeError, KeyError) as exc:
            raise APIError(f"POST auth-keys/: no response.device_id in {str(body)[:200]}") from exc
        if on_created is not None:
            on_created(device_id)
        return self.get_device(device_id)

    def toggle_features(self, device_id: str, features: list[tuple[str, bool]] | tuple[Any, ...],
                        config: dict[str, Any] | None = None) -> Any:
        """Switch agent features, e.g. ``[("vpn", True)]`` (``PATCH devices/{id}/daemons``).

        Returns the whole answer, as the SDK.
        """
        if not device_id or not isinstance(device_id, str):
            raise InvalidParameterException("device_id needs to be a non empty string")
        if not features or not isinstance(features, (list, tuple)):
            raise InvalidParameterException("features needs to be a list or tuple")
        data: dict[str, Any] = {}
        for entry in features:
            if not isinstance(entry, (list, tuple)) or len(entry) != 2:
                raise InvalidParameterException(
                    f"each feature must be a (name, state) pair; got {entry!r}")
            data[str(entry[0])] = entry[1]
        if config is not None:
            data["config"] = config
        return self._rest.dm_raw("PATCH", f"devices/{device_id}/daemons", json_body=data)

    def apply_parameters(self, device_list: list[str], tree_names: list[str] | None = None,
                         retry_limit: int = 0) -> list[dict[str, Any]]:
        """Apply configuration parameters on devices; per device ``{device_id, success, error}``."""
        _check_strings(device_list, "device_list")
        payload: dict[str, Any] = {"device_list": device_list}
        if tree_names:
            _check_strings(tree_names, "tree_names")
            payload["tree_names"] = tree_names
        data = self._rest.dm("POST", "parameters/", json_body=payload)
        return [ObjDict(d) if isinstance(d, dict) else d for d in data or []]

    def delete_device(self, device_id: str) -> bool:
        """Delete a device by uuid (errors are mapped, unlike the SDK's raw response)."""
        require_str(device_id, "device_id")
        return self._rest.dm_ok("DELETE", f"devices/{device_id}")

    # -- user -------------------------------------------------------------------------------
    def get_authenticated_user(self) -> ObjDict:
        """The token's user (``GET /api/user/me/get``), with the SDK's ``User`` attribute names.

        ``guid``, ``first_name``, ``last_name``, ``email_id``, ``state``, ``projects``,
        ``organization`` and ``organizations``.
        """
        body = self._rest.core("GET", "/api/user/me/get")
        if not isinstance(body, dict):
            raise APIError(f"GET /api/user/me/get: expected an object, got {str(body)[:200]}")
        names = {"guid": "guid", "first_name": "firstName", "last_name": "lastName",
                 "email_id": "emailID", "state": "state", "projects": "projects",
                 "organization": "organization", "organizations": "organizations"}
        return ObjDict({attr: body.get(field) for attr, field in names.items()})

    def get_user_organizations(self) -> list[ObjDict]:
        """The organizations the token's user is part of."""
        return list(self.get_authenticated_user().organizations or [])

    # -- metrics ----------------------------------------------------------------------------
    def _core_data(self, method: str, path: str, **kwargs: Any) -> Any:
        body = self._rest.core(method, path, **kwargs)
        try:
            return body["response"]["data"]
        except (TypeError, KeyError) as exc:
            raise APIError(f"{method} {path}: the answer has no response.data: "
                           f"{str(body)[:200]}") from exc

    def _organization_guid(self) -> str:
        """The organization of the token's user (``GET /api/user/me/get``)."""
        user = self._rest.core("GET", "/api/user/me/get")
        org = user.get("organization") if isinstance(user, dict) else None
        if not isinstance(org, dict) or not org.get("guid"):
            raise APIError(f"GET /api/user/me/get: no organization.guid in {str(user)[:200]}")
        return str(org["guid"])

    def query_metrics(self, query_metrics_request: QueryMetricsRequest) -> QueryMetricsResponse:
        """Query metrics (``POST /api/metrics/v0/query/``).

        As the SDK, the ``tenant_id`` tag defaults to the client's project and
        ``organization_id`` to the user's organization (one more GET).
        """
        req = query_metrics_request
        if not isinstance(req, QueryMetricsRequest):
            raise InvalidParameterException(
                "metrics_query_request must be of type QueryMetricsRequest")
        defaults: dict[str, Any] = {}
        if not req.tags.get(req.TENANT_ID_TAG):
            if not self._rest.project:
                raise InvalidParameterException(
                    f"Either set project on client using client.set_project(), or set "
                    f"{req.TENANT_ID_TAG} in tags")
            defaults[req.TENANT_ID_TAG] = {"operator": "eq", "value": self._rest.project}
        if not req.tags.get(req.ORGANIZATION_ID_TAG):
            defaults[req.ORGANIZATION_ID_TAG] = {"operator": "eq",
                                                 "value": self._organization_guid()}
        req.tags.update(defaults)
        data = self._core_data("POST", "/api/metrics/v0/query/", json_body=req.serialize())
        return QueryMetricsResponse.deserialize(data or {})

    def list_metrics(self, list_metrics_request: ListMetricsRequest) -> list[Metric]:
        """The metrics of an entity (``GET /api/metrics/v0/metrics/{entity}/{id}``)."""
        req = list_metrics_request
        if not isinstance(req, ListMetricsRequest):
            raise InvalidParameterException(
                "metrics_query_request must be of type ListMetricsRequest")
        data = self._core_data("GET", f"/api/metrics/v0/metrics/{req.entity.value}/"
                               f"{req.entity_id}", params=req.params())
        return [Metric.deserialize(m) for m in (data or {}).get("metrics", [])]

    def list_tag_keys(self, list_tag_keys_request: ListTagKeysRequest) -> list[Tags]:
        """The tag keys of an entity (``GET /api/metrics/v0/tags/{entity}/{id}``)."""
        req = list_tag_keys_request
        if not isinstance(req, ListTagKeysRequest):
            raise InvalidParameterException(
                "metrics_query_request must be of type ListTagKeysRequest")
        data = self._core_data("GET", f"/api/metrics/v0/tags/{req.entity.value}/"
                               f"{req.entity_id}", params=req.params())
        return [Tags.deserialize(t) for t in (data or {}).get("tag_keys", [])]

    def list_tag_values(self, list_tag_values_request: ListTagValuesRequest) -> list[Any]:
        """The values of one tag (``GET /api/metrics/v0/tags/{entity}/{id}/{tag}``)."""
        req = list_tag_values_request
        if not isinstance(req, ListTagValuesRequest):
            raise InvalidParameterException(
                "metrics_query_request must be of type ListTagValuesRequest")
        data = self._core_data("GET", f"/api/metrics/v0/tags/{req.entity.value}/"
                               f"{req.entity_id}/{req.tag}", params=req.params())
        return list((data or {}).get("tags_values", []))
