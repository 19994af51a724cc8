"""The official rapyuta-io 1.17.1 SDK drives the sandbox through a full HIL flow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_robofixtures.sim.rapyuta import (
    DEVICE_AMD64_DOCKER,
    DEVICE_ARM32,
    DEVICE_ARM64_PREINSTALLED,
    DEVICE_OFFLINE,
)

from ._support import PROJECT, TOKEN, Sandbox, wait_for

rapyuta_io = pytest.importorskip("rapyuta_io")
from rapyuta_io.clients.deployment import DeploymentPhaseConstants  # noqa: E402
from rapyuta_io.clients.device import SystemMetric, TopicKind  # noqa: E402
from rapyuta_io.clients.device_manager import DeviceArch  # noqa: E402
from rapyuta_io.clients.model import (  # noqa: E402
    Command,  # noqa: E402
    LogsUploadRequest,
    SharedURL,
)
from rapyuta_io.clients.package import ROSDistro  # noqa: E402
from rapyuta_io.utils import error as rio_error  # noqa: E402
from rapyuta_io.utils import settings  # noqa: E402

CLOUD_MANIFEST: dict[str, Any] = {
    "name": "talker-cloud", "packageVersion": "v1.0.0", "apiVersion": "v1.0.0",
    "description": "cloud talker",
    "plans": [{
        "name": "default", "singleton": False, "metadata": {},
        "inboundROSInterfaces": {"topics": [], "services": [], "actions": []},
        "dependentDeployments": [], "exposedParameters": [],
        "components": [{
            "name": "talker", "description": "", "requiredRuntime": "cloud",
            "architecture": "amd64",
            "ros": {"isROS": True, "topics": [{"name": "/chatter", "qos": "low"}],
                    "services": [], "actions": []},
            "parameters": [{"name": "RATE", "default": "10", "description": "hz"}],
            "executables": [{"name": "talkerExec", "docker": "ros:noetic",
                             "cmd": ["roslaunch talker talker.launch"]}],
        }],
    }],
}

DEVICE_MANIFEST: dict[str, Any] = {
    "name": "listener-device", "packageVersion": "v1.0.0", "apiVersion": "v1.0.0",
    "description": "listener on an amd64 docker device",
    "plans": [{
        "name": "default", "singleton": False, "metadata": {},
        "inboundROSInterfaces": {"topics": [], "services": [], "actions": []},
        "dependentDeployments": [], "exposedParameters": [],
        "components": [{
            "name": "listener", "description": "", "requiredRuntime": "device",
            "architecture": "amd64",
            "ros": {"isROS": True, "topics": [], "services": [], "actions": []},
            "parameters": [],
            "executables": [{"name": "listenerExec", "docker": "ros:noetic",
                             "cmd": ["roslaunch listener listener.launch"]}],
        }],
    }],
}


@pytest.fixture
def client(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An SDK Client pointed at the sandbox; the process-global host config is restored."""
    monkeypatch.delenv("RIO_CONFIG", raising=False)  # it would take precedence
    saved = dict(settings.default_host_config)
    settings.default_host_config.update(
        catalog_host=sandbox.url, core_api_host=sandbox.url, rip_host=sandbox.url
    )
    try:
        c = rapyuta_io.Client(auth_token=TOKEN, project=PROJECT)
        assert c._catalog_client._catalog_api_host.startswith("http://127.0.0.1")
        assert c._dmClient._device_api_host.startswith("http://127.0.0.1")
        yield c
    finally:
        settings.default_host_config.clear()
        settings.default_host_config.update(saved)


def test_full_flow_with_the_official_sdk(client: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    # routed network in the cloud, polled ready
    network = client.create_cloud_routed_network("rn-flow", ROSDistro.NOETIC, True)
    assert network.guid.startswith("net-")
    network.poll_routed_network_till_ready(retry_count=100, sleep_interval=0.02)
    fresh = client.get_routed_network(network.guid)
    assert (fresh.phase, fresh.status) == ("Succeeded", "Running")

    # packages from a dict and from a JSON manifest file
    created = client.create_package(CLOUD_MANIFEST)
    cloud_pkg = client.get_package(created["packageId"])
    assert cloud_pkg.packageName == "talker-cloud"
    manifest_file = tmp_path / "listener.json"
    manifest_file.write_text(json.dumps(DEVICE_MANIFEST))
    device_pkg = client.get_package(client.create_package_from_manifest(str(manifest_file))
                                    ["packageId"])
    listed = {p.packageName for p in client.get_all_packages()}
    assert {"talker-cloud", "listener-device"} <= listed

    # cloud deployment bound to the routed network
    cfg = cloud_pkg.get_provision_configuration()
    cfg.add_routed_network(network)
    cfg.add_label("team", "hil")
    cloud_dep = cloud_pkg.provision("talker-dep", cfg)
    assert cloud_dep.phase in ("In progress", "Provisioning")
    status = cloud_dep.poll_deployment_till_ready(retry_count=100, sleep_interval=0.02)
    assert (status.phase, status.status) == ("Succeeded", "Running")

    # device deployment: get_device + add_device + add_routed_network
    device = client.get_device(DEVICE_AMD64_DOCKER)
    assert device.is_online() and "eth0" in device.ip_interfaces
    dcfg = device_pkg.get_provision_configuration()
    dcfg.add_device("listener", device)
    dcfg.add_routed_network(network)
    device_dep = device_pkg.provision("listener-dep", dcfg)
    device_dep.poll_deployment_till_ready(retry_count=100, sleep_interval=0.02)
    ids = {d.deploymentId for d in client.get_all_deployments(
        phases=[DeploymentPhaseConstants.SUCCEEDED], device_id=DEVICE_AMD64_DOCKER)}
    assert ids == {device_dep.deploymentId}
    assert [d.deploymentId for d in device_pkg.deployments()] == [device_dep.deploymentId]
    assert [d["deployment_id"] for d in device.get_deployments()] == [device_dep.deploymentId]

    # a command really runs on the device, with its config variables in the environment
    device.add_config_variable("ROBOT_ROLE", "picker")
    out = device.execute_command(Command(
        cmd='echo "$ROBOT_ROLE $runtime $GREETING" | tee proof.txt; pwd',
        shell="/bin/bash", env={"GREETING": "hello"},
    ))
    scratch = sandbox.app.scratch_dir(DEVICE_AMD64_DOCKER)
    assert (scratch / "proof.txt").read_text() == "picker dockercompose hello\n"
    assert out.splitlines() == ["picker dockercompose hello", str(scratch)]

    # teardown in reverse order
    assert device_dep.deprovision() is True
    assert cloud_dep.deprovision() is True
    with pytest.raises(rio_error.ResourceNotFoundError):
        client.get_deployment(cloud_dep.deploymentId)
    client.delete_package(cloud_pkg.packageId)
    device_pkg.delete()
    client.delete_routed_network(network.guid)
    empty = {"routed_networks": [], "packages": [], "deployments": [], "devices": []}
    assert sandbox.app.live_resources() == empty
    assert sandbox.get("/_admin/resources").json() == empty


def test_sdk_preinstalled_device_and_device_routed_network(client: Any) -> None:
    device = client.get_device(DEVICE_ARM64_PREINSTALLED)
    assert device.get_runtime() == "preinstalled"
    network = client.create_device_routed_network("rn-dev", ROSDistro.MELODIC, False, device,
                                                  "eth0")
    network.poll_routed_network_till_ready(retry_count=100, sleep_interval=0.02)
    manifest = json.loads(json.dumps(DEVICE_MANIFEST))
    manifest["name"] = "preinstalled-listener"
    comp = manifest["plans"][0]["components"][0]
    comp["architecture"] = "arm64v8"
    comp["executables"] = [{"name": "run", "cmd": ["roslaunch listener listener.launch"]}]
    pkg = client.get_package(client.create_package(manifest)["packageId"])
    cfg = pkg.get_provision_configuration()
    cfg.add_device("listener", device)
    cfg.add_routed_network(network, network_interface="eth0")
    dep = pkg.provision("pre-dep", cfg)
    dep.poll_deployment_till_ready(retry_count=100, sleep_interval=0.02)
    dep.deprovision()
    pkg.delete()
    network.delete()
    assert client.get_all_routed_networks() == []


def test_sdk_sees_failures_offline_devices_and_errors(client: Any, sandbox: Sandbox) -> None:
    sandbox.app.fail_next_routed_network("failed")
    network = client.create_cloud_routed_network("rn-bad", ROSDistro.NOETIC, True)
    with pytest.raises(rio_error.DeploymentNotRunningException, match="DEP_E151"):
        network.poll_routed_network_till_ready(retry_count=100, sleep_interval=0.02)

    pkg = client.get_package(client.create_package(CLOUD_MANIFEST)["packageId"])
    with pytest.raises(rio_error.ConflictError, match="already exists"):
        client.create_package(CLOUD_MANIFEST)
    with pytest.raises(rio_error.BadRequestError, match="plans"):
        client.create_package({"name": "x", "packageVersion": "v1"})
    with pytest.raises(rio_error.PackageNotFound):
        client.get_package("pkg-doesnotexist")

    sandbox.app.fail_next_deployment("failed")
    dep = pkg.provision("doomed", pkg.get_provision_configuration())
    with pytest.raises(rio_error.DeploymentNotRunningException,
                       match="phase=Failed to start status=Error errors=\\['DEP_E151'\\]"):
        dep.poll_deployment_till_ready(retry_count=100, sleep_interval=0.02)
    sandbox.app.fail_next_deployment("stuck")
    stuck = pkg.provision("stuck", pkg.get_provision_configuration())
    with pytest.raises(rio_error.RetriesExhausted, match="phase=Provisioning"):
        stuck.poll_deployment_till_ready(retry_count=25, sleep_interval=0.02)

    offline = client.get_device(DEVICE_OFFLINE)
    assert not offline.is_online()
    with pytest.raises(rio_error.ConflictError, match="OFFLINE"):
        offline.execute_command(Command(cmd="true"))
    online = [d.uuid for d in client.get_all_devices(online_device=True)]
    assert DEVICE_OFFLINE not in online and DEVICE_AMD64_DOCKER in online
    arm = client.get_all_devices(arch_list=["arm64v8"])
    assert [d.uuid for d in arm] == [DEVICE_ARM64_PREINSTALLED]

    bad = rapyuta_io.Client(auth_token="wrong", project=PROJECT)
    with pytest.raises(rio_error.UnauthorizedError):
        bad.get_all_routed_networks()
    other = rapyuta_io.Client(auth_token=TOKEN, project="someone-else")
    with pytest.raises(rio_error.ForbiddenError, match="project"):
        other.get_device(DEVICE_AMD64_DOCKER)


def test_sdk_device_surface(client: Any, sandbox: Sandbox) -> None:
    device = client.get_device(DEVICE_AMD64_DOCKER)
    assert [d.uuid for d in client.get_all_devices(device_name="sim-amd64-docker")] == [
        DEVICE_AMD64_DOCKER]
    assert [d.uuid for d in client.get_all_devices(arch_list=[DeviceArch.AMD64])] == [
        DEVICE_AMD64_DOCKER]

    # config variables
    var = device.add_config_variable("MAX_SPEED", "2")
    var.value = "3"
    device.update_config_variable(var)
    assert {c.key: c.value for c in device.get_config_variables()}["MAX_SPEED"] == "3"
    assert device.delete_config_variable(var.id) is True
    with pytest.raises(rio_error.ConfigNotFoundException):
        device.delete_config_variable(var.id)

    # labels
    label = device.add_label("zone", "north")
    label.value = "south"
    device.update_label(label)
    assert {lb.key: lb.value for lb in device.get_labels()}["zone"] == "south"
    assert device.delete_label(label.id) is True
    with pytest.raises(rio_error.LabelNotFoundException):
        device.delete_label(label.id)

    # topics and metrics
    assert "/chatter" in device.topics()
    assert device.subscribe_topic("/chatter", kind=TopicKind.LOG) == {
        "subscribed_success": ["/chatter"]}
    status = device.topic_status()
    assert status.master_up is True
    assert [t.name for t in status.Subscribed.log] == ["/chatter"]
    assert device.unsubscribe_topic("/chatter", kind=TopicKind.LOG) == {
        "unsubscribed_success": ["/chatter"]}
    assert device.subscribe_metric(SystemMetric.CPU) is True
    assert [m.name for m in device.metrics()] == ["cpu"]
    assert device.unsubscribe_metric(SystemMetric.CPU) is True

    # log upload of a file a command wrote
    device.execute_command(Command(cmd="echo 'robot says hi' > robot.log"))
    req = device.upload_log_file(LogsUploadRequest("robot.log", metadata={"k": "v"}))
    wait_for(lambda: device.get_log_upload_status(req).status == "COMPLETED", what="upload")
    uploads = device.list_uploaded_files_for_device(sort="filename", filter_by_filename="robot")
    assert [u.request_uuid for u in uploads] == [req]
    url = device.download_log_file(req)
    assert requests.get(url, timeout=5).content == b"robot says hi\n"
    shared = device.create_shared_url(SharedURL(req, datetime.now() + timedelta(hours=1)))
    assert "//logs/sharedurl/" in shared.url
    assert requests.get(shared.url, timeout=5).content == b"robot says hi\n"
    assert device.delete_uploaded_log_file(req) is True
    with pytest.raises(rio_error.LogsUUIDNotFoundException):
        device.get_log_upload_status(req)

    # device deletion
    arm = client.get_device(DEVICE_ARM32)
    assert arm.delete() is True
    assert client.delete_device(DEVICE_OFFLINE).status_code == 200
    assert {d.uuid for d in client.get_all_devices()} == {DEVICE_AMD64_DOCKER,
                                                          DEVICE_ARM64_PREINSTALLED}
