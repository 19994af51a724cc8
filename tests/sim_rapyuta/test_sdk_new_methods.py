"""The official rapyuta-io SDK drives the sandbox's device lifecycle and deployment updates."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from pytest_robofixtures.sim.rapyuta import DEVICE_AMD64_DOCKER, DEVICE_OFFLINE

from ._support import Sandbox, wait_for

rapyuta_io = pytest.importorskip("rapyuta_io")
from rapyuta_io.clients.device import Device, DevicePythonVersion, DeviceRuntime  # noqa: E402
from rapyuta_io.clients.package import ROSDistro  # noqa: E402
from rapyuta_io.utils import error as rio_error  # noqa: E402

MANIFEST: dict[str, Any] = {
    "name": "talker", "packageVersion": "v1.0.0", "description": "",
    "plans": [{"name": "default", "metadata": {}, "components": [{
        "name": "talker", "requiredRuntime": "cloud", "architecture": "amd64",
        "ros": {"isROS": False},
        "executables": [{"name": "talkerExec", "docker": "busybox", "cmd": ["sleep inf"]}],
    }]}],
}


def test_sdk_registers_and_onboards_a_device(sdk: Any, sandbox: Sandbox, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    device = Device("sdk-bot", runtime=DeviceRuntime.DOCKER, ros_distro=ROSDistro.NOETIC,
                    rosbag_mount_path="/opt/rapyuta/volumes/rosbag",
                    python_version=DevicePythonVersion.PYTHON3, labels={"site": "lab"})
    created = sdk.create_device(device)
    assert created.name == "sdk-bot" and created.status == "REGISTERED"
    assert created.python_version == DevicePythonVersion.PYTHON3
    assert created.get_runtime() == "dockercompose"
    script = created.onboard_script()
    assert script.url == f"{sandbox.url}/start"
    monkeypatch.chdir(tmp_path)
    # the SDK's run() resets SIGPIPE to its default for the whole process: a later broken
    # connection in this test worker would then kill it, so the handler is put back
    saved = signal.getsignal(signal.SIGPIPE)
    try:
        script.run()  # downloads ./start and runs "sh start"
    finally:
        signal.signal(signal.SIGPIPE, saved)
    assert (tmp_path / "start").exists()
    wait_for(lambda: sdk.get_device(created.uuid).is_online(), what="device online")

    fresh = sdk.get_device(created.uuid)
    fresh.name = "sdk-bot-renamed"
    assert fresh.save() is True
    assert sdk.get_device(created.uuid).name == "sdk-bot-renamed"
    assert fresh.upgrade() is None


def test_sdk_device_errors(sdk: Any, sandbox: Sandbox) -> None:
    gone = sdk.create_device(Device("gone", runtime=DeviceRuntime.DOCKER))
    sdk.delete_device(gone.uuid)
    with pytest.raises(rio_error.DeviceNotFoundException):
        gone.save()
    dev = sdk.get_device(DEVICE_AMD64_DOCKER)
    dev.name = ""
    with pytest.raises(rio_error.ParameterMissingException):
        dev.save()
    with pytest.raises(rio_error.BadRequestError):
        sdk.create_device(Device("no-runtime"))


def test_sdk_toggle_features_and_apply_parameters(sdk: Any, sandbox: Sandbox) -> None:
    answer = sdk.toggle_features(DEVICE_AMD64_DOCKER, [("vpn", True)],
                                 config={"vpn": {"advertise_routes": True}})
    assert answer["response"]["data"]["vpn"] is True
    result = sdk.apply_parameters([DEVICE_AMD64_DOCKER, DEVICE_OFFLINE])
    assert [r["success"] for r in result] == [True, False]
    with pytest.raises(rio_error.BadRequestError):
        sdk.toggle_features(DEVICE_AMD64_DOCKER, [("warp", True)])


def test_sdk_component_instance_id_and_update_deployment(sdk: Any, sandbox: Sandbox) -> None:
    pkg = sdk.get_package(sdk.create_package(MANIFEST)["packageId"])
    dep = pkg.provision("upd", pkg.get_provision_configuration())
    dep.poll_deployment_till_ready(retry_count=100, sleep_interval=0.02)
    full = sdk.get_deployment(dep.deploymentId)
    info = full.componentInfo[0]
    assert full.get_component_instance_id("talker") == info.componentInstanceID
    payload = {
        "deployment_id": full.deploymentId, "service_id": full.packageId,
        "plan_id": full.planId,
        "context": {"component_context": {info.componentID: {
            "update_deployment": True, "component": {"executables": [
                {"id": info.executablesStatusInfo[0].id, "name": "talkerExec",
                 "docker": "busybox:latest"}]}}}},
    }
    creds = full.get_service_binding()["credentials"]
    assert creds[info.componentID]["componentInstanceID"] == info.componentInstanceID
    assert sdk.update_deployment(payload) == {"operation": full.deploymentId}
    assert sdk.get_deployment(full.deploymentId).currentGeneration == 2
    payload["plan_id"] = "plan-other"
    with pytest.raises(rio_error.BadRequestError):
        sdk.update_deployment(payload)


def test_sdk_accept_reject_and_user(sdk: Any, sandbox: Sandbox) -> None:
    dev = sdk.create_device(Device("sdk-acc", runtime=DeviceRuntime.DOCKER))
    assert dev.accept_device() is True
    assert sdk.get_device(dev.uuid).status == "ACCEPTED"
    assert dev.reject_device() is True
    assert sdk.get_device(dev.uuid).status == "REJECTED"
    user = sdk.get_authenticated_user()
    assert user.organization.guid == sandbox.app.organization
    assert [o.guid for o in sdk.get_user_organizations()] == [sandbox.app.organization]
