"""The official rapyuta-io 1.17.1 SDK drives the sandbox through the resource families."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ._families import ros_cloud_manifest, ros_device_manifest
from ._support import Sandbox, wait_for

rapyuta_io = pytest.importorskip("rapyuta_io")
from rapyuta_io.clients.build import (  # noqa: E402
    Build,
    BuildOptions,
    BuildStatus,
    CatkinOption,
    StrategyType,
)
from rapyuta_io.clients.buildoperation import BuildOperation, BuildOperationInfo  # noqa: E402
from rapyuta_io.clients.device_manager import DeviceArch  # noqa: E402
from rapyuta_io.clients.native_network import NativeNetwork  # noqa: E402
from rapyuta_io.clients.native_network import Parameters as NativeParameters  # noqa: E402
from rapyuta_io.clients.package import ExecutableMount, ROSDistro, Runtime  # noqa: E402
from rapyuta_io.clients.persistent_volumes import DiskCapacity, DiskType  # noqa: E402
from rapyuta_io.clients.rosbag import (  # noqa: E402
    ROSBagBlobStatus,
    ROSBagJob,
    ROSBagJobStatus,
    ROSBagOnDemandUploadOptions,
    ROSBagOptions,
    ROSBagTimeRange,
    ROSBagUploadTypes,
    UploadOptions,
)
from rapyuta_io.clients.secret import Secret, SecretConfigDocker, SecretType  # noqa: E402
from rapyuta_io.utils import error as rio_error  # noqa: E402

POLL = {"retry_count": 200, "sleep_interval": 0.05}


def test_native_network_flow(sdk: Any, sandbox: Sandbox) -> None:
    net = sdk.create_native_network(NativeNetwork("sdk-nn", Runtime.CLOUD, ROSDistro.NOETIC))
    assert net.guid.startswith("nn-") and net.runtime == Runtime.CLOUD
    assert net.internal_deployment_status.phase in ("In progress", "Provisioning", "Succeeded")
    net.poll_native_network_till_ready(**POLL)
    fresh = sdk.get_native_network(net.guid)
    assert fresh.internal_deployment_status.phase == "Succeeded"
    assert fresh.internal_deployment_status.status == "Running"
    assert [n.guid for n in sdk.list_native_networks()] == [net.guid]

    pkg = sdk.get_package(sdk.create_package(ros_cloud_manifest())["packageId"])
    cfg = pkg.get_provision_configuration()
    cfg.add_native_network(fresh)
    dep = pkg.provision("sdk-nn-dep", cfg)
    dep.poll_deployment_till_ready(**POLL)
    with pytest.raises(rio_error.ConflictError):
        sdk.delete_native_network(net.guid)
    dep.deprovision()
    sdk.delete_native_network(net.guid)
    with pytest.raises(rio_error.ResourceNotFoundError):
        sdk.get_native_network(net.guid)

    sandbox.app.families.fail_next_native_network("failed")
    failed = sdk.create_native_network(NativeNetwork("sdk-fail", Runtime.CLOUD, ROSDistro.MELODIC))
    with pytest.raises(rio_error.DeploymentNotRunningException):
        failed.poll_native_network_till_ready(**POLL)


def test_device_native_network(sdk: Any) -> None:
    device = sdk.get_device("5e1f7c2a-0001-4a6b-9d3e-a1b2c3d4e501")
    params = NativeParameters(device=device, network_interface="eth0")
    net = sdk.create_native_network(NativeNetwork("sdk-dev-nn", Runtime.DEVICE,
                                                  ROSDistro.MELODIC, params))
    assert net.parameters.device_id == device.uuid
    assert net.parameters.network_interface == "eth0"


def test_volume_flow(sdk: Any, sandbox: Sandbox) -> None:
    pv = sdk.get_persistent_volume()
    vol = pv.create_volume_instance("sdk-vol", DiskCapacity.GiB_4, DiskType.SSD)
    assert vol.packageId == "io-public-persistent-volume"
    status = vol.poll_deployment_till_ready(**POLL)
    assert (status.phase, status.status) == ("Succeeded", "Running")
    assert [v.deploymentId for v in pv.get_all_volume_instances()] == [vol.deploymentId]
    assert sdk.get_volume_instance(vol.deploymentId).name == "sdk-vol"
    assert sdk.get_all_deployments() == []  # the SDK drops volume deployments

    pkg = sdk.get_package(sdk.create_package(ros_cloud_manifest())["packageId"])
    cfg = pkg.get_provision_configuration()
    cfg.mount_volume("talker", volume=vol,
                     executable_mounts=[ExecutableMount("talkerExec", "/data", "sub")])
    dep = pkg.provision("sdk-vol-dep", cfg)
    dep.poll_deployment_till_ready(**POLL)
    with pytest.raises(rio_error.ConflictError):
        vol.destroy_volume_instance()
    dep.deprovision()
    assert vol.destroy_volume_instance()
    assert pv.get_all_volume_instances() == []


def test_static_route_flow(sdk: Any) -> None:
    route = sdk.create_static_route("sdk-route")
    assert route.urlPrefix == "sdk-route" and route.urlString.endswith(".ep-r.io")
    assert sdk.get_static_route(route.guid).urlString == route.urlString
    assert sdk.get_static_route_by_name("sdk-route").guid == route.guid
    assert sdk.get_static_route_by_name("nothing") is None
    assert [r.guid for r in sdk.get_all_static_routes()] == [route.guid]
    pkg = sdk.get_package(sdk.create_package(ros_cloud_manifest(endpoints=True))["packageId"])
    cfg = pkg.get_provision_configuration()
    cfg.add_static_route("talker", "web", route)
    dep = pkg.provision("sdk-sr-dep", cfg)
    dep.poll_deployment_till_ready(**POLL)
    with pytest.raises(rio_error.ConflictError):
        sdk.delete_static_route(route.guid)
    dep.deprovision()
    assert route.delete() is True
    assert sdk.get_all_static_routes() == []
    with pytest.raises(rio_error.BadRequestError):
        sdk.create_static_route("NO")


def _wait_job(sdk: Any, guid: str, status: Any) -> None:
    wait_for(lambda: sdk.get_rosbag_job(guid).status == status, what=f"job {status}")


def test_rosbag_flow(sdk: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    pkg = sdk.get_package(sdk.create_package(ros_cloud_manifest())["packageId"])
    dep = pkg.provision("sdk-bag", pkg.get_provision_configuration())
    dep.poll_deployment_till_ready(**POLL)
    dep.refresh()
    inst = dep.componentInfo[0].componentInstanceID
    job = sdk.create_rosbag_job(ROSBagJob("sdk-job", ROSBagOptions(topics=["/chatter"]),
                                          deployment_id=dep.deploymentId,
                                          component_instance_id=inst))
    assert job.status in (ROSBagJobStatus.STARTING, ROSBagJobStatus.RUNNING)
    assert job.guid.startswith("job-")
    _wait_job(sdk, job.guid, ROSBagJobStatus.RUNNING)
    assert [j.guid for j in sdk.list_rosbag_jobs(dep.deploymentId,
                                                 statuses=[ROSBagJobStatus.RUNNING])] == [job.guid]
    sdk.stop_rosbag_jobs(dep.deploymentId, guids=[job.guid])
    _wait_job(sdk, job.guid, ROSBagJobStatus.STOPPED)
    blob = sdk.list_rosbag_blobs(job_ids=[job.guid])[0]
    blob.poll_till_ready(retry_count=200, sleep_interval=0.05)
    assert blob.status == ROSBagBlobStatus.UPLOADED
    assert blob.info.topics[0].name == "/chatter" and blob.job.name == "sdk-job"
    sdk.download_rosbag_blob(blob.guid, download_dir=str(tmp_path))
    assert (tmp_path / "sdk-job_0.bag").read_bytes().startswith(b"#ROSBAG V2.0")
    sdk.delete_rosbag_blob(blob.guid)
    assert sdk.list_rosbag_blobs(deployment_ids=[dep.deploymentId]) == []
    with pytest.raises(rio_error.ResourceNotFoundError):
        sdk.get_rosbag_job("job-missing")


def test_device_rosbag_on_demand(sdk: Any, sandbox: Sandbox) -> None:
    pkg = sdk.get_package(sdk.create_package(ros_device_manifest())["packageId"])
    cfg = pkg.get_provision_configuration()
    cfg.add_device("listener", sdk.get_device("5e1f7c2a-0001-4a6b-9d3e-a1b2c3d4e501"))
    dep = pkg.provision("sdk-dev-bag", cfg)
    dep.poll_deployment_till_ready(**POLL)
    dep.refresh()
    inst = dep.componentInfo[0].componentInstanceID
    with pytest.raises(rio_error.BadRequestError):
        sdk.create_rosbag_job(ROSBagJob("j", ROSBagOptions(all_topics=True),
                                        deployment_id=dep.deploymentId,
                                        component_instance_id=inst))
    job = sdk.create_rosbag_job(ROSBagJob("j", ROSBagOptions(all_topics=True),
                                          deployment_id=dep.deploymentId,
                                          component_instance_id=inst,
                                          upload_options=UploadOptions()))
    assert [j.guid for j in sdk.list_rosbag_jobs_in_project([job.device_id])] == [job.guid]
    sdk.stop_rosbag_jobs(dep.deploymentId)
    job.patch(ROSBagUploadTypes.ON_DEMAND, ROSBagOnDemandUploadOptions(ROSBagTimeRange(0, 5)))
    blob = sdk.list_rosbag_blobs(job_ids=[job.guid])[0]
    blob.poll_till_ready(retry_count=200, sleep_interval=0.05)
    blob.delete()


def test_secret_flow(sdk: Any, sandbox: Sandbox) -> None:
    secret = sdk.create_secret(Secret("sdk-docker", SecretConfigDocker(
        "user", "pass", "u@example.com")))
    assert secret.secret_type == SecretType.DOCKER and secret.guid.startswith("secret-")
    creds = sandbox.app.families.docker_credentials(secret.guid)
    assert creds["https://index.docker.io/v1/"]["username"] == "user"
    assert sdk.get_secret(secret.guid).name == "sdk-docker"
    assert [s.guid for s in sdk.list_secrets()] == [secret.guid]
    sdk.update_secret(secret.guid, Secret("sdk-docker", SecretConfigDocker(
        "user2", "pass2", "u@example.com")))
    assert sandbox.app.families.docker_credentials(secret.guid)[
        "https://index.docker.io/v1/"]["username"] == "user2"
    manifest = ros_cloud_manifest()
    manifest["plans"][0]["components"][0]["executables"][0]["secret"] = secret.guid
    pkg = sdk.get_package(sdk.create_package(manifest)["packageId"])
    dep = pkg.provision("sdk-private", pkg.get_provision_configuration())
    dep.poll_deployment_till_ready(**POLL)
    dep.deprovision()
    sdk.get_secret(secret.guid).delete()
    with pytest.raises(rio_error.BadRequestError):
        pkg.provision("sdk-private-2", pkg.get_provision_configuration())
    with pytest.raises(rio_error.ResourceNotFoundError):
        sdk.get_secret(secret.guid)


def test_build_flow(sdk: Any, sandbox: Sandbox) -> None:
    build = sdk.create_build(Build(
        "sdk-build", StrategyType.SOURCE, "https://github.com/rapyuta/io_tutorials",
        DeviceArch.AMD64, rosDistro=ROSDistro.MELODIC, isRos=True, branch="master",
        buildOptions=BuildOptions([CatkinOption(rosPkgs="talker")])))
    assert build.status in (BuildStatus.BUILD_IN_PROGRESS, BuildStatus.COMPLETE)
    build.poll_build_till_ready(retry_count=200, sleep_interval=0.05)
    fresh = sdk.get_build(build.guid, include_build_requests=True)
    assert fresh.status == BuildStatus.COMPLETE and len(fresh.buildRequests) == 1
    assert fresh.buildInfo.buildOptions.catkinOptions[0].rosPkgs == "talker"

    manifest = ros_cloud_manifest()
    exe = manifest["plans"][0]["components"][0]["executables"][0]
    del exe["docker"]
    exe["buildGUID"] = build.guid
    pkg = sdk.get_package(sdk.create_package(manifest)["packageId"])
    dep = pkg.provision("sdk-built", pkg.get_provision_configuration())
    dep.poll_deployment_till_ready(**POLL)

    build.trigger()
    assert build.buildGeneration == 2
    sandbox.app.families.fail_next_build()
    build.poll_build_till_ready(retry_count=200, sleep_interval=0.05)
    response = sdk.trigger_build(BuildOperation([BuildOperationInfo(build.guid)]))
    assert response["buildOperationResponse"][0]["buildGenerationNumber"] == 3
    with pytest.raises(rio_error.BuildFailed):
        sdk.get_build(build.guid).poll_build_till_ready(retry_count=200, sleep_interval=0.05)
    build.rollback(2)
    assert sdk.get_build(build.guid).buildGeneration == 2
    assert [b.guid for b in sdk.list_builds(statuses=[BuildStatus.COMPLETE])] == [build.guid]
    dep.deprovision()
    build.delete()
    assert sdk.list_builds() == []
