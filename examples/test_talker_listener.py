"""A talker in the cloud and a listener on the robot, over one routed network.

Run live against rapyuta.io:  pytest examples --robo-live   (needs RIO_AUTH_TOKEN, RIO_PROJECT)
Against the sandbox:          pytest examples --robo-sim
Offline, from recordings:     pytest examples
"""

from __future__ import annotations

import pytest

from pytest_robofixtures.rapyuta import Command, DeploymentPhaseConstants


@pytest.mark.routed_network(ros_distro="melodic")
@pytest.mark.deployed_package("examples/manifests/talker.json",
                              parameters={"talker": {"RATE_HZ": "20"}})
def test_talker_runs_on_the_routed_network(routed_network, deployed_package):
    assert deployed_package.phase == DeploymentPhaseConstants.SUCCEEDED.value
    networks = [n["guid"] for n in deployed_package.provisionContext["routedNetworks"]]
    assert routed_network.guid in networks


@pytest.mark.routed_network(ros_distro="melodic")
@pytest.mark.online_device(arch="amd64")
def test_listener_on_the_robot_hears_the_talker(robo, routed_network, online_device):
    talker = robo.deploy("examples/manifests/talker.json")
    listener = robo.deploy("examples/manifests/listener.json", device=online_device)
    for deployment in (talker, listener):
        assert deployment.status == "Running"
    # The robot itself: its runtime is there and the listener's workspace is writable.
    out = online_device.execute_command(Command("uname -s && echo ok > listener.ready"))
    assert "Linux" in out
    assert "ok" in online_device.execute_command(Command("cat listener.ready"))


@pytest.mark.online_device(labels={"site": "lab"}, arch="arm64v8")
def test_preinstalled_robot_reports_its_ros_distro(online_device):
    variables = {c.key: c.value for c in online_device.get_config_variables()}
    assert variables["ros_distro"] in ("melodic", "noetic")
