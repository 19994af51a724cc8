"""The rapyuta.io Client: the SDK's surface over one requests session with timeouts and retries."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..common.clock import Clock
from ..common.http import DEFAULT_TIMEOUT
from ._model import require_str
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
from .package import Package
from .routed_network import Parameters, RoutedNetwork

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
    def _create_routed_network(self, body: dict[str, Any]) -> RoutedNetwork:
        created = self._rest.catalog("POST", "/routednetwork", json_body=body)
        if not isinstance(created, dict) or not created.get("guid"):
            raise APIError(f"POST /routednetwork: no guid in the answer {created!r}")
        return self.get_routed_network(created["guid"])

    def create_cloud_routed_network(self, name: str, ros_distro: ROSDistro | str, shared: bool,
                                    parameters: Parameters | None = None) -> RoutedNetwork:
        """Create a routed network in the cloud."""
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
            "shared": shared, "parameters": parameters.to_dict() if parameters else {}})

    def create_device_routed_network(
        self, name: str, ros_distro: ROSDistro | str, shared: bool, device: Device,
        network_interface: str, restart_policy: RestartPolicy | str = RestartPolicy.Always,
    ) -> RoutedNetwork:
        """Create a routed network on a device, bound to one of its network interfaces."""
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
                "restart_policy": policy.value}})

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
    def create_package(self, manifest: dict[str, Any], retry_limit: int = 0) -> dict[str, Any]:
        """Create a package from a manifest dict (validated first); returns the server's answer."""
        validate_manifest(manifest)
        body = self._rest.catalog("POST", "/serviceclass/add", json_body=manifest)
        if not isinstance(body, dict):
            raise APIError(f"POST /serviceclass/add: expected an object, got {body!r}")
        return body

    def create_package_from_manifest(self, manifest_filepath: str | Path,
                                     retry_limit: int = 0) -> dict[str, Any]:
        """Create a package from a manifest file (JSON, or YAML for .yaml/.yml)."""
        return self.create_package(load_manifest(manifest_filepath))

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
        devices = [Device(d, self._rest, partial=True)
                   for d in self._rest.dm("GET", "devices/", params=params) or []]
        if online_device:
            devices = [d for d in devices if d.get("status") == "ONLINE"]
        if selected is not None:
            devices = [d for d in devices if d.get("uuid") in selected]
        return devices

    def get_device(self, device_id: str, retry_limit: int = 0) -> Device:
        """A device (full object) by uuid."""
        require_str(device_id, "device_id")
        return Device(self._rest.dm("GET", f"devices/{device_id}"), self._rest)

    def delete_device(self, device_id: str) -> bool:
        """Delete a device by uuid (errors are mapped, unlike the SDK's raw response)."""
        require_str(device_id, "device_id")
        return self._rest.dm_ok("DELETE", f"devices/{device_id}")
