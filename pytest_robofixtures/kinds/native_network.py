"""The ``native_network`` kind: a rapyuta.io native network, ready, deleted at teardown.

A test using it together with ``deployed_package`` gets a deployment bound to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pytest

from .base import Clients, Kind, Param, ResourceType, call_create

if TYPE_CHECKING:
    from ..factory import Robo
    from ..rapyuta import Device, NativeNetwork


def _delete(clients: Clients, ident: str, wait: bool, timeout: float) -> None:
    clients.rapyuta.delete_native_network(ident)


def _find(clients: Clients, name: str, extra: Mapping[str, Any]) -> str | None:
    for network in clients.rapyuta.list_native_networks():
        if network.name == name:
            return str(network.guid)
    return None


def _gone() -> tuple[type[BaseException], ...]:
    from ..rapyuta.errors import ResourceNotFoundError

    return (ResourceNotFoundError,)


# Deployments bound to a network are deprovisioned (order 0) before it is deleted.
NATIVE_NETWORK = ResourceType("rapyuta.native_network", "rapyuta", reap_order=2,
                              delete=_delete, find=_find, gone=_gone())


class NativeNetworkKind(Kind["NativeNetwork"]):
    """A ready rapyuta.io NativeNetwork, configured by @pytest.mark.native_network(...)."""

    name = "native_network"
    help = "configure the native_network fixture (rapyuta.io native network)."
    params = (
        Param("name", (str,)),
        Param("ros_distro", (str,), choices=("kinetic", "melodic", "noetic")),
        Param("runtime", (str,), choices=("cloud", "device")), Param("limits", (dict,)),
        Param("device", ()), Param("network_interface", (str,)),
        Param("restart_policy", (str,), choices=("always", "no", "on-failure")),
        Param("timeout", (int, float), positive=True),
    )
    positional = "name"
    shareable = True
    resource_types = (NATIVE_NETWORK,)

    def fixture(self, robo: Robo, request: pytest.FixtureRequest,
                kwargs: dict[str, Any]) -> NativeNetwork:
        if kwargs.get("runtime") == "device" and kwargs.get("device") is None:
            kwargs["device"] = request.getfixturevalue("online_device")
        return self.provision(robo, **kwargs)

    def provision(self, robo: Robo, **kwargs: Any) -> NativeNetwork:
        return create_native_network(robo, **kwargs)


def create_native_network(
    robo: Robo, name: str | None = None, ros_distro: Any = "melodic", runtime: str = "cloud",
    limits: Any = None, device: Device | None = None, network_interface: str | None = None,
    restart_policy: str | None = None, timeout: float | None = None,
) -> NativeNetwork:
    """Create a native network, wait until it is ready, and delete it at teardown.

    ``limits`` is ``{"cpu": float, "memory": int}`` (MB; cloud only) or a NativeNetworkLimits;
    a device network needs ``device=`` and ``network_interface=``.
    """
    from ..rapyuta import NativeNetwork
    from ..rapyuta.native_network import NativeNetworkLimits, Parameters

    if runtime not in ("cloud", "device"):
        raise ValueError(f"runtime must be 'cloud' or 'device', got {runtime!r}")
    if runtime == "device" and (device is None or not network_interface):
        raise ValueError(
            "a device native network needs a device and its interface: pass device= (e.g. the "
            "online_device fixture) and network_interface="
        )
    if isinstance(limits, Mapping):
        unknown = sorted(set(limits) - {"cpu", "memory"})
        if unknown or "cpu" not in limits or "memory" not in limits:
            raise ValueError(f"limits must be {{'cpu': float, 'memory': int (MB)}}, got "
                             f"{dict(limits)!r}")
        limits = NativeNetworkLimits(limits["cpu"], limits["memory"])
    params = None
    if limits is not None or device is not None or restart_policy is not None:
        params = Parameters(limits=limits, device=device, network_interface=network_interface,
                            restart_policy=restart_policy)
    client = robo.rapyuta
    full_name = robo.name(name or "nnet")
    label = f"native_network {full_name}"
    spec = NativeNetwork(full_name, runtime, ros_distro, params)
    network = robo.create(
        NATIVE_NETWORK, full_name, label,
        create=lambda on_created: call_create(client.create_native_network, on_created,
                                              lambda n: n.guid, spec),
        adopt=client.get_native_network,
    )
    with robo.waiting(label) as hint:
        network.poll_native_network_till_ready(
            timeout=robo.timeout(timeout), on_change=robo.on_change(label), hint=hint
        )
    network.refresh()
    robo.event(label, "ready")
    return network


KINDS = (NativeNetworkKind(),)
