"""The ``routed_network`` kind: a rapyuta.io routed network, ready, deleted at teardown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pytest

from .base import Clients, Kind, Param, ResourceType, call_create

if TYPE_CHECKING:
    from ..factory import Robo
    from ..rapyuta import Device, RoutedNetwork


def _delete(clients: Clients, ident: str, wait: bool, timeout: float) -> None:
    clients.rapyuta.delete_routed_network(ident)


def _find(clients: Clients, name: str, extra: Mapping[str, Any]) -> str | None:
    for network in clients.rapyuta.get_all_routed_networks():
        if network.get("name") == name:
            return str(network.get("guid"))
    return None


def _gone() -> tuple[type[BaseException], ...]:
    from ..rapyuta.errors import ResourceNotFoundError

    return (ResourceNotFoundError,)


ROUTED_NETWORK = ResourceType("rapyuta.routed_network", "rapyuta", reap_order=2,
                              delete=_delete, find=_find, gone=_gone())


class RoutedNetworkKind(Kind["RoutedNetwork"]):
    """A ready rapyuta.io RoutedNetwork, configured by @pytest.mark.routed_network(...)."""

    name = "routed_network"
    help = "configure the routed_network fixture (rapyuta.io routed network)."
    params = (
        Param("name", (str,)), Param("ros_distro", (str,)), Param("shared", (bool,)),
        Param("runtime", (str,), choices=("cloud", "device")), Param("limits", (str, dict)),
        Param("device", ()), Param("network_interface", (str,)),
        Param("timeout", (int, float), positive=True),
    )
    positional = "name"
    shareable = True
    resource_types = (ROUTED_NETWORK,)

    def fixture(self, robo: Robo, request: pytest.FixtureRequest,
                kwargs: dict[str, Any]) -> RoutedNetwork:
        if kwargs.get("runtime") == "device" and kwargs.get("device") is None:
            kwargs["device"] = request.getfixturevalue("online_device")
        return self.provision(robo, **kwargs)

    def provision(self, robo: Robo, **kwargs: Any) -> RoutedNetwork:
        return create_routed_network(robo, **kwargs)


def create_routed_network(
    robo: Robo, name: str | None = None, ros_distro: Any = "melodic", shared: bool = False,
    runtime: str = "cloud", limits: Any = None, device: Device | None = None,
    network_interface: str | None = None, timeout: float | None = None,
) -> RoutedNetwork:
    """Create a routed network, wait until it is ready, and delete it at teardown."""
    from ..rapyuta import Parameters, ROSDistro, RoutedNetworkLimits

    client = robo.rapyuta
    full_name = robo.name(name or "net")
    label = f"routed_network {full_name}"
    distro = ROSDistro(ros_distro) if isinstance(ros_distro, str) else ros_distro
    if runtime == "device":
        if device is None:
            raise ValueError(
                "a device routed network needs a device: pass device= (e.g. the "
                "online_device fixture) and network_interface="
            )

        def create(on_created: Any) -> RoutedNetwork:
            return call_create(client.create_device_routed_network, on_created, _guid,
                                    full_name, distro, shared, device, network_interface)
    elif runtime == "cloud":
        if isinstance(limits, str):
            limits = getattr(RoutedNetworkLimits, limits.upper())
        params = Parameters(limits) if limits is not None else None

        def create(on_created: Any) -> RoutedNetwork:
            return call_create(client.create_cloud_routed_network, on_created, _guid,
                                    full_name, distro, shared, parameters=params)
    else:
        raise ValueError(f"runtime must be 'cloud' or 'device', got {runtime!r}")
    network = robo.create(ROUTED_NETWORK, full_name, label, create,
                          adopt=client.get_routed_network)
    with robo.waiting(label) as hint:
        network.poll_routed_network_till_ready(
            timeout=robo.timeout(timeout), on_change=robo.on_change(label), hint=hint
        )
    network.refresh()
    robo.event(label, "ready")
    robo.routed_networks.append(network)
    return network


def _guid(network: RoutedNetwork) -> str:
    return str(network.get("guid"))


KINDS = (RoutedNetworkKind(),)
