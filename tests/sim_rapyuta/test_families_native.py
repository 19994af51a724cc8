"""Native networks with our client against the sandbox: phases, binding at provision, errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_robofixtures.rapyuta import (
    Client,
    DeploymentNotRunningException,
    DeploymentPhaseConstants,
    InternalDeploymentStatus,
    InvalidParameterException,
    NativeNetwork,
    OperationNotAllowedError,
    RetriesExhausted,
    ROSDistro,
    Runtime,
)
from pytest_robofixtures.rapyuta.errors import (
    BadRequestError,
    ConflictError,
    ResourceNotFoundError,
)
from pytest_robofixtures.rapyuta.native_network import NativeNetworkLimits, Parameters
from pytest_robofixtures.sim.rapyuta import DEVICE_AMD64_DOCKER

from ._families import FAST, our_client, ros_cloud_manifest
from ._support import Sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    c = our_client(sandbox)
    yield c
    c.close()


def test_create_poll_list_delete(client: Client, sandbox: Sandbox) -> None:
    created: list[str] = []
    params = Parameters(limits=NativeNetworkLimits(cpu=1, memory=4096))
    net = client.create_native_network(
        NativeNetwork("nn-1", Runtime.CLOUD, ROSDistro.NOETIC, params), on_created=created.append)
    assert created == [net.guid] and net.guid.startswith("nn-")
    assert net.runtime is Runtime.CLOUD and net.ros_distro is ROSDistro.NOETIC
    assert net.parameters.limits.cpu == 1 and net.owner_project == sandbox.app.project
    status = net.internal_deployment_status
    assert isinstance(status, InternalDeploymentStatus)
    assert isinstance(status.phase, DeploymentPhaseConstants)  # a wire value becomes the enum

    seen: list[str] = []
    ready = net.poll_native_network_till_ready(
        **FAST, on_change=lambda s, _t: seen.append(str(s.phase)))
    assert ready is net
    assert net.internal_deployment_status.phase is DeploymentPhaseConstants.SUCCEEDED
    assert net.internal_deployment_status.status == "Running"
    assert seen[-1] == "Succeeded"

    listed = client.list_native_networks()
    assert [n.guid for n in listed] == [net.guid] and listed[0].is_partial
    fresh = client.get_native_network(net.guid)
    assert fresh.name == "nn-1" and not fresh.is_partial
    assert fresh.get_status().errors == []
    assert sandbox.app.live_resources()["native_networks"] == [{"id": net.guid, "name": "nn-1"}]
    assert net.delete() is True
    with pytest.raises(ResourceNotFoundError, match=f"native network {net.guid} not found"):
        client.get_native_network(net.guid)
    assert "native_networks" not in sandbox.app.live_resources()


def test_bound_at_provision_and_in_use(client: Client, sandbox: Sandbox) -> None:
    net = client.create_native_network(NativeNetwork("nn-bind", "cloud", "melodic"))
    pkg = client.get_package(client.create_package(ros_cloud_manifest())["packageId"])
    cfg = pkg.get_provision_configuration()
    cfg.add_native_network(net)
    cfg.add_native_networks([net])  # the same guid again: one entry
    assert cfg.context["nativeNetworks"] == [{"guid": net.guid}]
    with pytest.raises(OperationNotAllowedError, match="does not bind to network interface"):
        cfg.add_native_network(net, "eth0")
    dep = pkg.provision("nn-dep", cfg)
    dep.poll_deployment_till_ready(**FAST)
    assert dep.provisionContext["nativeNetworks"] == [{"guid": net.guid}]
    with pytest.raises(ConflictError, match="in use by deployments"):
        client.delete_native_network(net.guid)
    dep.deprovision()
    client.delete_native_network(net.guid)


def test_unknown_native_network_is_refused_at_provision(client: Client) -> None:
    net = client.create_native_network(NativeNetwork("nn-gone", "cloud", "noetic"))
    pkg = client.get_package(client.create_package(ros_cloud_manifest())["packageId"])
    cfg = pkg.get_provision_configuration().add_native_network(net)
    client.delete_native_network(net.guid)
    with pytest.raises(BadRequestError, match=f"native network {net.guid} not found"):
        pkg.provision("orphan", cfg)


def test_failed_and_stuck_networks(client: Client, sandbox: Sandbox) -> None:
    sandbox.app.families.fail_next_native_network("failed")
    sandbox.post("/_admin/nativenetworks/next", json={"outcome": "stuck"})
    failed = client.create_native_network(NativeNetwork("nn-fail", "cloud", "noetic"))
    with pytest.raises(DeploymentNotRunningException, match="DEP_E151") as info:
        failed.poll_native_network_till_ready(**FAST)
    assert info.value.deployment_status.phase == "Failed to start"
    stuck = client.create_native_network(NativeNetwork("nn-stuck", "cloud", "noetic"))
    with pytest.raises(RetriesExhausted, match="Provisioning"):
        stuck.poll_native_network_till_ready(sleep_interval=0.05, timeout=0.6)
    assert sandbox.post("/_admin/nativenetworks/next", json={"outcome": "x"}).status_code == 400


def test_device_native_network(client: Client) -> None:
    device = client.get_device(DEVICE_AMD64_DOCKER)
    params = Parameters(device=device, network_interface="eth0", restart_policy="always")
    net = client.create_native_network(NativeNetwork("nn-dev", "device", "melodic", params))
    assert net.parameters.device_id == DEVICE_AMD64_DOCKER
    assert net.parameters.network_interface == "eth0"
    with pytest.raises(InvalidParameterException, match="NETWORK_INTERFACE should be in"):
        Parameters(device=device, network_interface="wlan9")


def test_client_side_and_server_side_errors(client: Client, sandbox: Sandbox) -> None:
    with pytest.raises(InvalidParameterException, match="name must be a non-empty string"):
        NativeNetwork("", "cloud", "noetic")
    with pytest.raises(InvalidParameterException, match="does not support noetic"):
        NativeNetwork("x", Runtime.DEVICE, ROSDistro.NOETIC,
                      Parameters(network_interface="eth0"))
    with pytest.raises(InvalidParameterException, match="parameters must be present"):
        NativeNetwork("x", "device", "melodic")
    with pytest.raises(InvalidParameterException, match="ros_distro must be one of"):
        NativeNetwork("x", "cloud", "humble")
    with pytest.raises(InvalidParameterException, match="must be non-empty and of type"):
        client.create_native_network("nn")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterException, match="non empty string"):
        client.get_native_network("")
    with pytest.raises(OperationNotAllowedError, match="has not been created"):
        NativeNetwork("x", "cloud", "noetic").get_status()
    client.create_native_network(NativeNetwork("dup", "cloud", "noetic"))
    with pytest.raises(ConflictError, match="already exists"):
        client.create_native_network(NativeNetwork("dup", "cloud", "noetic"))
    bad = sandbox.post("/nativenetwork", json={"name": "d", "runtime": "device",
                                               "rosDistro": "melodic", "parameters": {}})
    assert bad.status_code == 400 and "device_id" in bad.json()["error"]
    with pytest.raises(ResourceNotFoundError):
        client.delete_native_network("nn-missing")
