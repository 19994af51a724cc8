"""Client methods for native networks, volumes, static routes, rosbags, secrets and builds.

A mixin of :class:`~pytest_robofixtures.rapyuta.client.Client`, with the official SDK's method
names and signatures. Every ``create_*`` method also takes ``on_created``, called with the new
id as soon as the create answer is parsed (before any follow-up read), so a caller can register
the teardown of a resource even when the read after it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .deployment import VOLUME_PACKAGE_ID
from .errors import APIError, InvalidParameterException, PackageNotFound, ResourceNotFoundError
from .native_network import NATIVE_NETWORK_PATH, NativeNetwork
from .persistent_volumes import PersistentVolumes, VolumeInstance
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
