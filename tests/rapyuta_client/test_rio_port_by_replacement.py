"""A script written for rapyuta_io 1.17.1 runs unchanged but for the package name.

The same source runs twice against the sandbox: as written (the official SDK), and after
``replace("rapyuta_io", "pytest_robofixtures.rapyuta")`` (ours). Both runs must pass the same
asserts, which use nested attributes, SDK keyword names and SDK import paths.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ._support import PROJECT, TOKEN, Sandbox, cloud_manifest

SCRIPT = '''
import datetime
from rapyuta_io import Client, DeploymentPhaseConstants, ROSDistro
from rapyuta_io.clients.common_models import InternalDeploymentStatus
from rapyuta_io.clients.deployment import DeploymentStatus
from rapyuta_io.clients.device import Device, DeviceRuntime, DevicePythonVersion
from rapyuta_io.clients.model import Command
from rapyuta_io.clients.package import Package, ProvisionConfiguration
from rapyuta_io.clients.routed_network import RoutedNetwork
from rapyuta_io.utils.error import ComponentNotFoundException, PlanNotFound


def run(token, project, manifest, device_id):
    client = Client(auth_token=token, project=project)
    net = client.create_cloud_routed_network("port-net", ROSDistro.NOETIC, True)
    assert isinstance(net, RoutedNetwork)
    net.poll_routed_network_till_ready(retry_count=200, sleep_interval=0)
    net = client.get_routed_network(net.guid)
    assert net.internalDeploymentStatus.phase == DeploymentPhaseConstants.SUCCEEDED
    package = client.get_package(client.create_package(manifest)["packageId"])
    assert isinstance(package, Package)
    plan = package.get_plan_by_id(package.plans[0].planId)
    comp_id = plan.get_component_id(component_name="talker")
    assert package.plans[0].internalComponents[0].componentId == comp_id
    assert plan.get_component_by_name(component_name="talker").name == "talker"
    assert plan.needs_aliases() is False
    try:
        plan.get_component_id(component_name="ghost")
        raise AssertionError("no ComponentNotFoundException")
    except ComponentNotFoundException:
        pass
    try:
        package.get_plan_by_id("plan-ghost")
        raise AssertionError("no PlanNotFound")
    except PlanNotFound:
        pass
    cfg = package.get_provision_configuration(plan.planId)
    assert isinstance(cfg, ProvisionConfiguration)
    cfg.add_routed_network(net)
    deployment = package.provision("port-dep", cfg)
    deployment.poll_deployment_till_ready(retry_count=200, sleep_interval=0.02)
    deployment = client.get_deployment(deployment.deploymentId)
    assert deployment.componentInfo[0].componentID == comp_id
    status = deployment.get_status()
    assert isinstance(status, DeploymentStatus)
    assert status.componentInfo[0].name == "talker"
    assert deployment.get_component_instance_id("talker") == \\
        deployment.componentInfo[0].componentInstanceID
    device = client.get_device(device_id)
    assert device.execute_command(Command("echo ported")).strip() == "ported"
    device.subscribe_topic("/odom")
    assert "/odom" in [t.name for t in device.topic_status().Subscribed.metric]
    new = client.create_device(Device("port-bot", runtime=DeviceRuntime.DOCKER,
                                      python_version=DevicePythonVersion.PYTHON3))
    assert new.onboard_script().command
    deployment.deprovision()
    return deployment.deploymentId
'''


def _run(source: str, name: str) -> Any:
    namespace: dict[str, Any] = {"__name__": name}
    exec(compile(source, f"<{name}>", "exec"), namespace)  # noqa: S102 (our own test script)
    return namespace["run"]


@pytest.mark.parametrize("flavour", ["sdk", "ours"])
def test_the_same_script_runs_with_both(flavour: str, sandbox: Sandbox, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    if flavour == "sdk":
        pytest.importorskip("rapyuta_io")
    config = tmp_path / "rio.json"
    config.write_text(json.dumps({"catalog_host": sandbox.url, "core_api_host": sandbox.url,
                                  "rip_host": sandbox.url}))
    monkeypatch.setenv("RIO_CONFIG", str(config))  # both clients read their hosts from it
    source = SCRIPT if flavour == "sdk" else SCRIPT.replace("rapyuta_io",
                                                            "pytest_robofixtures.rapyuta")
    assert ("rapyuta_io" in source) == (flavour == "sdk")
    from pytest_robofixtures.sim.rapyuta import DEVICE_AMD64_DOCKER

    dep_id = _run(source, f"port_{flavour}")(TOKEN, PROJECT, cloud_manifest(),
                                            DEVICE_AMD64_DOCKER)
    assert dep_id not in [d["id"] for d in sandbox.resources()["deployments"]]
