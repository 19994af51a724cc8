"""Routed networks against the sandbox: create, read, poll, delete, failures, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_robofixtures.common.clock import SystemClock, VirtualClock
from pytest_robofixtures.common.polling import poll
from pytest_robofixtures.rapyuta import (
    Client,
    DeploymentNotRunningException,
    Device,
    InvalidParameterException,
    Limits,
    Parameters,
    ResourceNotFoundError,
    RestartPolicy,
    RetriesExhausted,
    ROSDistro,
    RoutedNetwork,
    RoutedNetworkLimits,
)
from pytest_robofixtures.sim.rapyuta import DEVICE_AMD64_DOCKER, DEVICE_OFFLINE

from ._support import Sandbox


def test_cloud_network_lifecycle(sandbox: Sandbox, client: Client) -> None:
    seen: list[tuple[str, str]] = []
    net = client.create_cloud_routed_network(
        "net-a", ROSDistro.NOETIC, True, parameters=Parameters(RoutedNetworkLimits.SMALL))
    assert isinstance(net, RoutedNetwork) and net.guid.startswith("net-")
    assert net.runtime == "cloud" and net.rosDistro == "noetic" and net.shared is True
    assert net.parameters == {"limits": {"cpu": 1, "memory": 4096}}
    assert net.phase in ("In progress", "Provisioning", "Succeeded")
    assert sandbox.resources()["routed_networks"] == [{"id": net.guid, "name": "net-a"}]

    same = net.poll_routed_network_till_ready(
        sleep_interval=0.5, on_change=lambda s, t: seen.append((s["phase"], s["status"])))
    assert same is net
    assert (net.phase, net.status) == ("Succeeded", "Running")
    assert seen[-1] == ("Succeeded", "Running")
    assert len(seen) == len(set(seen))  # one entry per state change
    status = net.get_status()
    assert status.phase == "Succeeded" and status.errors == []

    fetched = client.get_routed_network(net.guid)
    assert fetched.status == "Running" and fetched.error_code == []
    listed = client.get_all_routed_networks()
    assert [n.guid for n in listed] == [net.guid] and listed[0].is_partial
    listed[0].refresh()
    assert not listed[0].is_partial and listed[0].status == "Running"

    assert net.delete() is True and net == {}
    assert sandbox.resources()["routed_networks"] == []
    with pytest.raises(ResourceNotFoundError, match="404"):
        client.get_routed_network(fetched.guid)
    with pytest.raises(ResourceNotFoundError):
        client.delete_routed_network(fetched.guid)


@pytest.mark.parametrize("limits, wire", [
    (None, {"limits": None}),
    (RoutedNetworkLimits.MEDIUM, {"limits": {"cpu": 2, "memory": 8192}}),
    (RoutedNetworkLimits.LARGE, {"limits": {"cpu": 4, "memory": 16384}}),
    (Limits(0.5, 2048), {"limits": {"cpu": 0.5, "memory": 2048}}),
])
def test_limits_on_the_wire(client: Client, limits: Any, wire: dict[str, Any]) -> None:
    net = client.create_cloud_routed_network("n", "melodic", False, Parameters(limits))
    assert client.get_routed_network(net.guid).parameters == wire


def test_no_parameters_sends_empty_object(client: Client) -> None:
    net = client.create_cloud_routed_network("n", ROSDistro.KINETIC, False)
    assert net.parameters == {}


def test_device_network(sandbox: Sandbox, client: Client) -> None:
    device = client.get_device(DEVICE_AMD64_DOCKER)
    iface = sorted(device.ip_interfaces)[0]
    net = client.create_device_routed_network("dev-net", ROSDistro.NOETIC, False, device, iface,
                                              restart_policy=RestartPolicy.OnFailure)
    assert net.runtime == "device"
    assert net.parameters == {"device_id": DEVICE_AMD64_DOCKER, "NETWORK_INTERFACE": iface,
                              "restart_policy": "on-failure"}
    net.poll_routed_network_till_ready(sleep_interval=0.5)
    client.delete_routed_network(net.guid)
    assert sandbox.resources()["routed_networks"] == []


def test_device_network_partial_device_is_refreshed(client: Client) -> None:
    partial = next(d for d in client.get_all_devices() if d.uuid == DEVICE_AMD64_DOCKER)
    partial.pop("ip_interfaces", None)
    iface = sorted(client.get_device(DEVICE_AMD64_DOCKER).ip_interfaces)[0]
    net = client.create_device_routed_network("dn", "noetic", True, partial, iface)
    assert net.parameters["NETWORK_INTERFACE"] == iface


def test_failed_network_raises_with_status(sandbox: Sandbox, client: Client) -> None:
    sandbox.app.fail_next_routed_network("failed")
    net = client.create_cloud_routed_network("bad", ROSDistro.NOETIC, True)
    with pytest.raises(DeploymentNotRunningException) as info:
        net.poll_routed_network_till_ready(sleep_interval=0.5)
    assert info.value.deployment_status["phase"] == "Failed to start"
    assert "phase=Failed to start status=Error errors=['DEP_E151']" in str(info.value)


def test_stuck_network_exhausts_with_last_state(sandbox: Sandbox) -> None:
    clock = VirtualClock()
    client = sandbox.client(clock=clock)
    sandbox.app.fail_next_routed_network("stuck")
    net = client.create_cloud_routed_network("stuck-net", ROSDistro.NOETIC, True)
    # let real time pass the sandbox's "In progress" quarter (a real wait, not a sleep)
    poll(net.get_status, lambda s: s.phase == "Provisioning", timeout=10, what="Provisioning",
         clock=SystemClock())
    with pytest.raises(RetriesExhausted) as info:
        net.poll_routed_network_till_ready(retry_count=3, sleep_interval=5)
    msg = str(info.value)
    assert "routed network 'stuck-net'" in msg and "timeout 15s" in msg
    assert "phase=Provisioning status=Pending" in msg
    assert clock.slept == pytest.approx(15.0)  # virtual: the bound is retry_count*sleep_interval
    # an explicit timeout overrides retry_count*sleep_interval
    with pytest.raises(RetriesExhausted, match="timeout 2s"):
        net.poll_routed_network_till_ready(timeout=2)


BAD_INPUT = [
    (lambda c: c.create_cloud_routed_network("n", "hydro", True), "ROSDistro"),
    (lambda c: c.create_cloud_routed_network("n", ROSDistro.NOETIC, "yes"), "shared"),
    (lambda c: c.create_cloud_routed_network("", ROSDistro.NOETIC, True), "name"),
    (lambda c: c.create_cloud_routed_network("n", ROSDistro.NOETIC, True, {"limits": 1}),
     "parameters must be of type"),
    (lambda c: Parameters("SMALL"), "limits must be a RoutedNetworkLimits"),
    (lambda c: Limits(0, 10), "cpu must be a positive number"),
    (lambda c: Limits(1, 1.5), "memory must be a positive int"),
    (lambda c: c.delete_routed_network(""), "guid needs to be a non empty string"),
    (lambda c: c.get_routed_network(None), "network_guid"),
    (lambda c: c.create_device_routed_network("n", "noetic", True, "dev", "eth0"),
     "device must be a Device"),
]


@pytest.mark.parametrize("call, message", BAD_INPUT)
def test_bad_input_refused_before_any_request(sandbox: Sandbox, client: Client, call: Any,
                                              message: str) -> None:
    before = sandbox.app.requests_seen
    with pytest.raises(InvalidParameterException, match=message):
        call(client)
    assert sandbox.app.requests_seen == before


def test_bad_interface_and_policy_refused_before_create(sandbox: Sandbox, client: Client) -> None:
    device = client.get_device(DEVICE_AMD64_DOCKER)
    before = sandbox.app.requests_seen
    with pytest.raises(InvalidParameterException, match=r"NETWORK_INTERFACE should be in \["):
        client.create_device_routed_network("n", "noetic", True, device, "nope0")
    with pytest.raises(InvalidParameterException, match="restart_policy must be one of"):
        client.create_device_routed_network("n", "noetic", True, device, "eth0", "sometimes")
    assert sandbox.app.requests_seen == before


def test_offline_device_network_is_refused_by_the_server(client: Client) -> None:
    offline = client.get_device(DEVICE_OFFLINE)
    assert isinstance(offline, Device) and not offline.is_online()
    iface = sorted(offline.ip_interfaces)[0]
    with pytest.raises(Exception, match="409.*OFFLINE"):
        client.create_device_routed_network("n", "noetic", True, offline, iface)
