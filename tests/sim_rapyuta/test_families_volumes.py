"""Persistent volumes with our client against the sandbox: create, mount, in-use, destroy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_robofixtures.rapyuta import (
    Client,
    DiskCapacity,
    DiskType,
    ExecutableMount,
    InvalidParameterException,
    OperationNotAllowedError,
    PersistentVolumes,
    VolumeInstance,
    VolumeInstanceStatus,
)
from pytest_robofixtures.rapyuta.errors import BadRequestError, ConflictError

from ._families import FAST, our_client, ros_cloud_manifest
from ._support import Sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    c = our_client(sandbox)
    yield c
    c.close()


def test_volume_lifecycle_and_mount(client: Client, sandbox: Sandbox) -> None:
    pv = client.get_persistent_volume()
    assert isinstance(pv, PersistentVolumes) and pv.packageId == "io-public-persistent-volume"
    assert pv.plans[0].get_component_id("volumeComponent")
    created: list[str] = []
    vol = pv.create_volume_instance("vol-1", DiskCapacity.GiB_32, DiskType.SSD,
                                    on_created=created.append)
    assert isinstance(vol, VolumeInstance) and created == [vol.deploymentId]
    assert vol.packageId == "io-public-persistent-volume" and not vol.is_partial
    status = vol.poll_deployment_till_ready(**FAST)
    assert isinstance(status, VolumeInstanceStatus)
    assert (status.phase, status.status) == ("Succeeded", "Running")
    assert [v.deploymentId for v in pv.get_all_volume_instances()] == [vol.deploymentId]
    assert pv.get_all_volume_instances(phases=["In progress"]) == []
    assert client.get_volume_instance(vol.deploymentId).name == "vol-1"
    # volumes are not listed as the project's deployments or packages
    assert client.get_all_deployments() == [] and client.get_all_packages() == []

    pkg = client.get_package(client.create_package(ros_cloud_manifest())["packageId"])
    cfg = pkg.get_provision_configuration().mount_volume("talker", volume=vol,
                                                         mount_path="/data")
    cid = pkg.plans[0].get_component_id("talker")
    assert cfg.context["dependentDeployments"] == [{
        "dependentDeploymentId": vol.deploymentId, "applicableComponentId": cid,
        "config": {"mountPath": "/data"}}]
    dep = pkg.provision("uses-vol", cfg)
    dep.poll_deployment_till_ready(**FAST)
    disk = sandbox.get("/disk").json()[0]
    assert (disk["status"], disk["usedBy"]) == ("Bound", dep.deploymentId)

    # a mounted disk is exclusive and cannot be destroyed
    cfg2 = pkg.get_provision_configuration().mount_volume(
        "talker", volume=vol, executable_mounts=[ExecutableMount("talkerExec", "/d")])
    with pytest.raises(ConflictError, match="already mounted by deployment"):
        pkg.provision("second", cfg2)
    with pytest.raises(ConflictError, match="mounted by deployment"):
        vol.destroy_volume_instance()
    with pytest.raises(ConflictError, match="is a dependency of"):
        vol.deprovision()  # the volume's own deployment cannot go either

    dep.deprovision()
    assert vol.destroy_volume_instance() == {"success": True}
    assert pv.get_all_volume_instances() == []
    assert "volume_instances" not in sandbox.app.live_resources()
    assert sandbox.app.live_resources()["deployments"] == []


def test_mount_errors(client: Client, sandbox: Sandbox) -> None:
    pv = client.get_persistent_volume()
    vol = pv.create_volume_instance("vol-2", 8)
    sandbox.app.set_deployment_outcome(vol.deploymentId, "stuck")  # not ready, however slow
    pkg = client.get_package(client.create_package(ros_cloud_manifest())["packageId"])
    cfg = pkg.get_provision_configuration()
    with pytest.raises(OperationNotAllowedError, match="Dependent deployment is not running"):
        cfg.mount_volume("talker", volume=vol, mount_path="/data")
    sandbox.app.set_deployment_outcome(vol.deploymentId, "ok")
    vol.poll_deployment_till_ready(**FAST)
    with pytest.raises(InvalidParameterException, match="One of mount_path or executable"):
        cfg.mount_volume("talker", volume=vol)
    with pytest.raises(InvalidParameterException, match="exactly one of volume= or device="):
        cfg.mount_volume("talker")
    # the server checks what the client lets through: unknown executables
    cfg.mount_volume("talker", volume=vol, executable_mounts=[ExecutableMount("nope", "/x")])
    with pytest.raises(BadRequestError, match=r"unknown executables \['nope'\]"):
        pkg.provision("bad-mount", cfg)


def test_create_errors(client: Client, sandbox: Sandbox) -> None:
    pv = client.get_persistent_volume()
    with pytest.raises(InvalidParameterException, match="capacity must be one of"):
        pv.create_volume_instance("v", 5)
    with pytest.raises(InvalidParameterException, match="disk_type"):
        pv.create_volume_instance("v", 4, "hdd")
    pv.create_volume_instance("same", 4)
    with pytest.raises(ConflictError, match="already exists"):
        pv.create_volume_instance("same", 4)
    resp = sandbox.post("/disk", json={"name": "x", "runtime": "device", "capacity": 4})
    assert resp.status_code == 400 and "cloud runtime only" in resp.json()["error"]
    assert sandbox.delete("/disk/disk-nope").status_code == 404
