"""``on_created``: the new resource's id reaches the caller before any follow-up read fails."""

from __future__ import annotations

import pytest

from pytest_robofixtures.rapyuta import APIError, Client, Device, DeviceRuntime, ROSDistro
from pytest_robofixtures.sim.rapyuta import DEVICE_AMD64_DOCKER

from ._support import Sandbox, cloud_manifest

# more failures than the client's retries (3), so the follow-up GET fails for good
_MANY = 10


def test_cloud_network_id_known_when_the_get_fails(sandbox: Sandbox, client: Client) -> None:
    seen: list[str] = []
    sandbox.fault(kind="status", status=503, method="GET", path="^/routednetwork/", count=_MANY)
    with pytest.raises(APIError, match="503"):
        client.create_cloud_routed_network("net-a", ROSDistro.NOETIC, True,
                                           on_created=seen.append)
    live = [n["id"] for n in sandbox.resources()["routed_networks"]]
    assert seen == live and len(live) == 1


def test_device_network_id_known_when_the_get_fails(sandbox: Sandbox, client: Client) -> None:
    device = client.get_device(DEVICE_AMD64_DOCKER)
    iface = sorted(device.ip_interfaces)[0]
    seen: list[str] = []
    sandbox.fault(kind="status", status=503, method="GET", path="^/routednetwork/", count=_MANY)
    with pytest.raises(APIError, match="503"):
        client.create_device_routed_network("net-d", ROSDistro.NOETIC, False, device, iface,
                                            on_created=seen.append)
    assert seen == [n["id"] for n in sandbox.resources()["routed_networks"]]


def test_device_id_known_when_the_get_fails(sandbox: Sandbox, client: Client) -> None:
    seen: list[str] = []
    sandbox.fault(kind="status", status=503, method="GET", path="/devices/", count=_MANY)
    with pytest.raises(APIError, match="503"):
        client.create_device(Device("bot", runtime=DeviceRuntime.DOCKER),
                             on_created=seen.append)
    assert len(seen) == 1 and seen[0] in sandbox.app.dm.devices
    assert sandbox.app.dm.devices[seen[0]]["name"] == "bot"


def test_on_created_gets_the_id_on_success_too(sandbox: Sandbox, client: Client) -> None:
    seen: list[str] = []
    net = client.create_cloud_routed_network("net-ok", ROSDistro.NOETIC, True,
                                             on_created=seen.append)
    assert seen == [net.guid]
    answer = client.create_package(cloud_manifest(), on_created=seen.append)
    assert seen[1] == answer["packageId"] == sandbox.resources()["packages"][0]["id"]


def test_no_call_when_the_create_itself_fails(sandbox: Sandbox, client: Client) -> None:
    seen: list[str] = []
    sandbox.fault(kind="status", status=400, method="POST", path="^/routednetwork$", count=1)
    with pytest.raises(APIError):
        client.create_cloud_routed_network("net-x", ROSDistro.NOETIC, True,
                                           on_created=seen.append)
    assert seen == [] and sandbox.resources()["routed_networks"] == []


def test_deployment_id_known_when_the_get_fails(sandbox: Sandbox, client: Client) -> None:
    pkg = client.get_package(client.create_package(cloud_manifest())["packageId"])
    cfg = pkg.get_provision_configuration()
    seen: list[str] = []
    sandbox.fault(kind="status", status=503, method="GET", path="^/serviceinstance/",
                  count=_MANY)
    with pytest.raises(APIError, match="503"):
        pkg.provision("dep-a", cfg, on_created=seen.append)
    live = [d["id"] for d in sandbox.resources()["deployments"]]
    assert seen == live and len(live) == 1


def test_exact_name_lookups_find_an_unknown_outcome(sandbox: Sandbox, client: Client) -> None:
    """How a caller reconciles a create whose answer was lost: list, then match the name."""
    client.create_cloud_routed_network("net-exact", ROSDistro.NOETIC, True)
    client.create_cloud_routed_network("net-exact-2", ROSDistro.NOETIC, True)
    nets = [n for n in client.get_all_routed_networks() if n.name == "net-exact"]
    assert len(nets) == 1
    client.create_package(cloud_manifest(name="talk"))
    client.create_package(cloud_manifest(name="talker"))
    # name= is a substring filter, as in the SDK: the exact match is the caller's
    pkgs = [p for p in client.get_all_packages(name="talk") if p.packageName == "talk"]
    assert len(pkgs) == 1
    pkg = client.get_package(pkgs[0].packageId)
    pkg.provision("dep-exact", pkg.get_provision_configuration())
    deps = [d for d in client.get_all_deployments() if d.name == "dep-exact"]
    assert len(deps) == 1 and deps[0].packageId == pkg.packageId
