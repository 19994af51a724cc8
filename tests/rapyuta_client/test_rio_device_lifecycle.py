"""Register, onboard, save, upgrade devices; agent features, parameters, deployment updates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_robofixtures.rapyuta import (
    APIError,
    BadRequestError,
    Client,
    DeploymentRunningException,
    Device,
    DeviceNotFoundException,
    DevicePythonVersion,
    DeviceRuntime,
    InvalidParameterException,
    OnboardScript,
    ParameterMissingException,
    ResourceNotFoundError,
    ROSDistro,
    ServiceBindingError,
)
from pytest_robofixtures.sim.rapyuta import DEVICE_AMD64_DOCKER, DEVICE_OFFLINE

from ._support import Sandbox, cloud_manifest, device_manifest


def _new_device(**kw: Any) -> Device:
    kw.setdefault("runtime", DeviceRuntime.DOCKER)
    kw.setdefault("ros_distro", ROSDistro.NOETIC)
    kw.setdefault("python_version", DevicePythonVersion.PYTHON3)
    return Device("bot-new", rosbag_mount_path="/opt/rapyuta/volumes/rosbag", **kw)


def test_create_device_body_and_result(sandbox: Sandbox, client: Client) -> None:
    seen: list[Any] = []
    client.session.hooks["response"].append(
        lambda r, *a, **k: seen.append((r.request.method, r.request.url, r.request.body)))
    dev = client.create_device(_new_device(labels={"site": "lab"},
                                           config_variables={"robot_id": "7"}))
    method, url, body = seen[0]
    assert method == "POST" and url.endswith("/api/device-manager/v0/auth-keys/"
                                             "?download_type=script")
    sent = json.loads(body)
    assert sent["python_version"] == "3" and sent["name"] == "bot-new"
    assert sent["config_variables"] == {
        "runtime_docker": True, "ros_distro": "noetic", "robot_id": "7",
        "rosbag_mount_path": "/opt/rapyuta/volumes/rosbag"}
    assert sent["labels"] == {"site": "lab"}
    assert dev.name == "bot-new" and dev.status == "REGISTERED" and not dev.is_partial
    assert dev.python_version is DevicePythonVersion.PYTHON3
    assert {c.key: c.value for c in dev.config_variables}["robot_id"] == "7"
    assert [(lb.key, lb.value) for lb in dev.labels] == [("site", "lab")]
    assert dev.is_docker_enabled() and dev.get_runtime() == "dockercompose"


def test_device_constructor_checks_like_the_sdk() -> None:
    with pytest.raises(InvalidParameterException, match="python_version 2"):
        Device("x", runtime=DeviceRuntime.DOCKER, ros_distro=ROSDistro.NOETIC)
    with pytest.raises(InvalidParameterException, match="noetic"):
        Device("x", runtime=DeviceRuntime.PREINSTALLED, ros_distro=ROSDistro.NOETIC,
               python_version=DevicePythonVersion.PYTHON3)
    with pytest.raises(InvalidParameterException, match="name"):
        Device("")
    with pytest.raises(InvalidParameterException, match="not registered"):
        Device("x").refresh()
    with pytest.raises(InvalidParameterException, match="type"):
        Client("t", "p", catalog_host="http://127.0.0.1:9",
               core_api_host="http://127.0.0.1:9").create_device("x")  # type: ignore[arg-type]


def test_create_device_refused_by_the_server(client: Client) -> None:
    with pytest.raises(BadRequestError, match="runtime"):
        client.create_device(Device("no-runtime"))


def test_onboard_script_brings_the_device_online(sandbox: Sandbox, client: Client,
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    dev = client.create_device(_new_device())
    script = dev.onboard_script()
    assert isinstance(script, OnboardScript)
    assert script.url == f"{sandbox.url}/start" and script.command == "sh start"
    assert script.full_command().startswith(f"curl -O -H 'Authorization: Bearer {script.token}'")
    monkeypatch.chdir(tmp_path)
    script.run()
    assert "installed" in (tmp_path / "start").read_text()
    assert dev.refresh().status in ("INITIALIZING", "ONLINE")
    sandbox.app.dm.devices[dev.uuid]["_online_at"] = 0.0  # the agent has started
    assert dev.refresh().is_online()


def test_onboard_script_with_a_wrong_token_fails(sandbox: Sandbox, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(APIError, match="401"):
        OnboardScript("not-the-token", f"{sandbox.url}/start", "sh start").run()
    assert not (tmp_path / "start").exists()


def test_save_renames_the_device(client: Client) -> None:
    dev = client.get_device(DEVICE_AMD64_DOCKER)
    dev.name = "renamed"
    dev.description = "new text"
    assert dev.save() is True
    fresh = client.get_device(DEVICE_AMD64_DOCKER)
    assert (fresh.name, fresh.description) == ("renamed", "new text")
    dev.name = ""
    with pytest.raises(ParameterMissingException, match="name"):
        dev.save()


def test_save_unknown_device(sandbox: Sandbox, client: Client) -> None:
    dev = client.create_device(_new_device())
    assert sandbox.resources()["devices"] == [{"id": dev.uuid, "name": "bot-new"}]
    client.delete_device(dev.uuid)
    assert sandbox.resources()["devices"] == []  # the seeded devices are not listed
    with pytest.raises(DeviceNotFoundException):
        dev.save()


def test_upgrade_refused_while_a_deployment_runs(sandbox: Sandbox, client: Client) -> None:
    pkg = client.get_package(client.create_package(device_manifest())["packageId"])
    cfg = pkg.get_provision_configuration()
    cfg.add_device("listener", client.get_device(DEVICE_AMD64_DOCKER))
    pkg.provision("on-device", cfg).poll_deployment_till_ready(sleep_interval=0.5)
    dev = client.get_device(DEVICE_AMD64_DOCKER)
    with pytest.raises(DeploymentRunningException, match="running"):
        dev.upgrade()  # refused client-side from the fetched deployments
    dev["deployments"] = []
    with pytest.raises(DeploymentRunningException):
        dev.upgrade()  # and by the server


def test_upgrade(sandbox: Sandbox, client: Client) -> None:
    dev = client.get_device(DEVICE_AMD64_DOCKER)
    assert dev.upgrade() is None
    assert sandbox.app.dm.devices[DEVICE_AMD64_DOCKER]["device_version"] == "3"


def test_toggle_features(sandbox: Sandbox, client: Client) -> None:
    answer = client.toggle_features(DEVICE_AMD64_DOCKER, [("vpn", True), ("tracing", False)],
                                    config={"vpn": {"advertise_routes": True}})
    assert answer["status"] == "success"
    assert answer["response"]["data"]["vpn"] is True
    assert sandbox.app.dm.devices[DEVICE_AMD64_DOCKER]["_features"]["vpn"] is True
    with pytest.raises(BadRequestError, match="unknown features"):
        client.toggle_features(DEVICE_AMD64_DOCKER, [("teleport", True)])
    with pytest.raises(InvalidParameterException):
        client.toggle_features(DEVICE_AMD64_DOCKER, [])
    with pytest.raises(ResourceNotFoundError):
        client.toggle_features("nope", [("vpn", True)])


def test_apply_parameters(client: Client) -> None:
    result = client.apply_parameters([DEVICE_AMD64_DOCKER, DEVICE_OFFLINE, "ghost"],
                                     tree_names=["default"])
    by_id = {r.device_id: r for r in result}
    assert by_id[DEVICE_AMD64_DOCKER].success is True
    assert by_id[DEVICE_OFFLINE].success is False and "OFFLINE" in by_id[DEVICE_OFFLINE].error
    assert by_id["ghost"].success is False
    with pytest.raises(InvalidParameterException, match="device_list"):
        client.apply_parameters("not-a-list")  # type: ignore[arg-type]


def _update_payload(dep: Any, image: str) -> dict[str, Any]:
    info = dep.componentInfo[0]
    return {
        "deployment_id": dep.deploymentId, "service_id": dep.packageId, "plan_id": dep.planId,
        "context": {"component_context": {info.componentID: {
            "update_deployment": True,
            "component": {"executables": [{"id": e.id, "name": "talkerExec", "docker": image}
                                          for e in info.executablesStatusInfo]}}}},
    }


def test_update_deployment_restarts_it(sandbox: Sandbox, client: Client) -> None:
    pkg = client.get_package(client.create_package(cloud_manifest())["packageId"])
    dep = pkg.provision("upd", pkg.get_provision_configuration())
    dep.poll_deployment_till_ready(sleep_interval=0.5)
    full = client.get_deployment(dep.deploymentId)
    seen: list[str] = []
    answer = client.update_deployment(_update_payload(full, "ros:noetic-v2"),
                                      on_created=seen.append)
    assert answer.operation == dep.deploymentId and seen == [dep.deploymentId]
    after = client.get_deployment(dep.deploymentId)
    assert after.currentGeneration == full.currentGeneration + 1
    exe_id = full.componentInfo[0].executablesStatusInfo[0].id
    assert sandbox.app.deployments[dep.deploymentId]["_images"][exe_id] == "ros:noetic-v2"
    assert after.poll_deployment_till_ready(sleep_interval=0.5).status == "Running"


def test_update_deployment_errors(sandbox: Sandbox, client: Client) -> None:
    pkg = client.get_package(client.create_package(cloud_manifest())["packageId"])
    dep = client.get_deployment(pkg.provision("upd-e", pkg.get_provision_configuration())
                                .deploymentId)
    bad = _update_payload(dep, "ros:x")
    bad["plan_id"] = "plan-other"
    with pytest.raises(BadRequestError, match="plan_id"):
        client.update_deployment(bad)
    ghost = _update_payload(dep, "ros:x")
    ghost["deployment_id"] = "dep-ghost"
    with pytest.raises(ResourceNotFoundError):
        client.update_deployment(ghost)
    with pytest.raises(InvalidParameterException):
        client.update_deployment({"service_id": "x"})


def test_accept_and_reject(client: Client) -> None:
    dev = client.create_device(_new_device())
    assert dev.accept_device() is True
    assert client.get_device(dev.uuid).status == "ACCEPTED"
    assert dev.reject_device() is True
    assert client.get_device(dev.uuid).status == "REJECTED"
    dev.status = "ONLINE"  # only the platform brings a device online
    with pytest.raises(ParameterMissingException, match="ACCEPTED or REJECTED"):
        dev.save()


def test_authenticated_user(sandbox: Sandbox, client: Client) -> None:
    user = client.get_authenticated_user()
    assert user.organization.guid == sandbox.app.organization
    assert user.email_id and user.first_name == "Sim"
    assert [o.guid for o in client.get_user_organizations()] == [sandbox.app.organization]


def test_service_binding(sandbox: Sandbox, client: Client) -> None:
    manifest = cloud_manifest()
    manifest["plans"][0]["components"][0]["cloudInfra"] = {
        "replicas": 1, "endpoints": [{"name": "web", "exposeExternally": True, "port": 443,
                                      "targetPort": 8080, "proto": "HTTPS"}]}
    pkg = client.get_package(client.create_package(manifest)["packageId"])
    dep = client.get_deployment(pkg.provision("bound", pkg.get_provision_configuration())
                                .deploymentId)
    creds = dep.get_service_binding().credentials
    cid = dep.componentInfo[0].componentID
    assert creds[cid].name == "talker"
    assert creds[cid].networkEndpoints.web.startswith("web-")
    dep.deprovision()
    with pytest.raises(ServiceBindingError):
        dep.get_service_binding()
