"""Rosbag jobs and blobs with our client against the sandbox: record, stop, download, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_robofixtures.rapyuta import (
    Client,
    ComponentType,
    InvalidParameterException,
    ROSBagBlobError,
    ROSBagBlobStatus,
    ROSBagJob,
    ROSBagJobStatus,
    ROSBagOnDemandUploadOptions,
    ROSBagOptions,
    ROSBagTimeRange,
    ROSBagUploadTypes,
    UploadOptions,
)
from pytest_robofixtures.rapyuta.errors import (
    BadRequestError,
    ConflictError,
    ResourceNotFoundError,
)
from pytest_robofixtures.sim.rapyuta import DEVICE_AMD64_DOCKER

from ._families import FAST, our_client, ros_cloud_manifest, ros_device_manifest
from ._support import Sandbox, wait_for


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    c = our_client(sandbox)
    yield c
    c.close()


def _running(client: Client, manifest: dict[str, Any], name: str,
             device: bool = False) -> Any:
    pkg = client.get_package(client.create_package(manifest)["packageId"])
    cfg = pkg.get_provision_configuration()
    if device:
        cfg.add_device("listener", client.get_device(DEVICE_AMD64_DOCKER))
    dep = pkg.provision(name, cfg)
    dep.poll_deployment_till_ready(**FAST)
    return dep


def _job_status(client: Client, guid: str, want: ROSBagJobStatus) -> bool:
    return bool(client.get_rosbag_job(guid).status == want)


def test_record_stop_download_delete(client: Client, sandbox: Sandbox, tmp_path: Path) -> None:
    dep = _running(client, ros_cloud_manifest(), "bag-dep")
    inst = dep.componentInfo[0]["componentInstanceID"]
    created: list[str] = []
    job = client.create_rosbag_job(ROSBagJob(
        "chatter", ROSBagOptions(topics=["/chatter", "/odom"], max_splits=2),
        deployment_id=dep.deploymentId, component_instance_id=inst), on_created=created.append)
    assert created == [job.guid]
    assert job.status in (ROSBagJobStatus.STARTING, ROSBagJobStatus.RUNNING)
    assert job.component_type is ComponentType.CLOUD and job.rosbag_options.topics == [
        "/chatter", "/odom"]
    wait_for(lambda: _job_status(client, job.guid, ROSBagJobStatus.RUNNING), what="Running")
    assert [j.guid for j in client.list_rosbag_jobs(dep.deploymentId)] == [job.guid]
    assert client.list_rosbag_jobs(dep.deploymentId, statuses=[ROSBagJobStatus.STOPPED]) == []
    assert client.list_rosbag_jobs(dep.deploymentId, component_instance_ids=["other"]) == []
    assert client.list_rosbag_blobs(job_ids=[job.guid]) == []
    with pytest.raises(ConflictError, match="already exists"):
        client.create_rosbag_job(ROSBagJob("chatter", ROSBagOptions(all_topics=True),
                                           deployment_id=dep.deploymentId,
                                           component_instance_id=inst))

    client.stop_rosbag_jobs(dep.deploymentId, guids=[job.guid])
    wait_for(lambda: _job_status(client, job.guid, ROSBagJobStatus.STOPPED), what="Stopped")
    blobs = client.list_rosbag_blobs(job_ids=[job.guid])
    assert len(blobs) == 1
    blob = blobs[0]
    assert blob.job.guid == job.guid and blob.filename == "chatter_0.bag"
    blob.poll_till_ready(**FAST)
    assert blob.status is ROSBagBlobStatus.UPLOADED
    assert [t.name for t in blob.info.topics] == ["/chatter", "/odom"]
    assert [b.guid for b in client.list_rosbag_blobs(
        deployment_ids=[dep.deploymentId], statuses=[ROSBagBlobStatus.UPLOADED])] == [blob.guid]

    path = client.download_rosbag_blob(blob.guid, download_dir=str(tmp_path))
    assert path == str(tmp_path / "chatter_0.bag")
    data = Path(path).read_bytes()
    assert data.startswith(b"#ROSBAG V2.0\n") and b"/odom" in data
    assert len(data) == blob.info.size
    named = client.download_rosbag_blob(blob.guid, filename=str(tmp_path / "mine.bag"))
    assert Path(named).read_bytes() == data

    assert sandbox.app.live_resources()["rosbag_blobs"] == [
        {"id": blob.guid, "name": "chatter_0.bag"}]
    assert "rosbag_jobs" not in sandbox.app.live_resources()  # stopped jobs are not live
    blob.delete()
    assert client.list_rosbag_blobs() == []
    with pytest.raises(ResourceNotFoundError):
        client.delete_rosbag_blob(blob.guid)


def test_jobs_from_the_provision_and_deprovision_stops_them(client: Client) -> None:
    pkg = client.get_package(client.create_package(ros_cloud_manifest())["packageId"])
    cfg = pkg.get_provision_configuration().add_rosbag_job(
        "talker", ROSBagJob("at-start", ROSBagOptions(all_topics=True)))
    dep = pkg.provision("with-job", cfg)
    dep.poll_deployment_till_ready(**FAST)
    jobs = client.list_rosbag_jobs(dep.deploymentId)
    assert [j.name for j in jobs] == ["at-start"]
    wait_for(lambda: _job_status(client, jobs[0].guid, ROSBagJobStatus.RUNNING), what="Running")
    dep.deprovision()
    wait_for(lambda: _job_status(client, jobs[0].guid, ROSBagJobStatus.STOPPED), what="Stopped")
    assert [b.job_id for b in client.list_rosbag_blobs()] == [jobs[0].guid]


def test_device_job_on_demand_and_failed_upload(client: Client, sandbox: Sandbox) -> None:
    dep = _running(client, ros_device_manifest(), "dev-bag", device=True)
    inst = dep.componentInfo[0]["componentInstanceID"]
    with pytest.raises(BadRequestError, match="Upload Options are required"):
        client.create_rosbag_job(ROSBagJob("d", ROSBagOptions(all_topics=True),
                                           deployment_id=dep.deploymentId,
                                           component_instance_id=inst))
    job = client.create_rosbag_job(ROSBagJob(
        "d", ROSBagOptions(all_topics=True), deployment_id=dep.deploymentId,
        component_instance_id=inst, upload_options=UploadOptions()))
    assert job.component_type is ComponentType.DEVICE and job.device_id == DEVICE_AMD64_DOCKER
    assert [j.guid for j in client.list_rosbag_jobs_in_project([DEVICE_AMD64_DOCKER])] == [
        job.guid]
    client.stop_rosbag_jobs(dep.deploymentId)
    assert client.list_rosbag_blobs(job_ids=[job.guid]) == []  # OnDemand: nothing uploaded yet
    sandbox.app.families.fail_next_rosbag_upload()
    client.get_rosbag_job(job.guid).patch(
        ROSBagUploadTypes.ON_DEMAND, ROSBagOnDemandUploadOptions(ROSBagTimeRange(0, 60)))
    blob = client.list_rosbag_blobs(job_ids=[job.guid])[0]
    with pytest.raises(ROSBagBlobError, match="upload failed"):
        blob.poll_till_ready(**FAST)
    with pytest.raises(BadRequestError, match="is Error, not Uploaded"):
        client.download_rosbag_blob(str(blob.guid))
    blob.retry_upload()
    blob.poll_till_ready(**FAST)
    assert blob.info.duration == 60


def test_errors(client: Client, sandbox: Sandbox) -> None:
    opts = ROSBagOptions(all_topics=True)
    with pytest.raises(InvalidParameterException, match="deployment id"):
        client.create_rosbag_job(ROSBagJob("j", opts))
    with pytest.raises(InvalidParameterException, match="component instance id"):
        client.create_rosbag_job(ROSBagJob("j", opts, deployment_id="dep-x"))
    with pytest.raises(ResourceNotFoundError, match="deployment dep-x not found"):
        client.create_rosbag_job(ROSBagJob("j", opts, deployment_id="dep-x",
                                           component_instance_id="i"))
    with pytest.raises(InvalidParameterException, match="only one of"):
        client.list_rosbag_blobs(guids=["a"], job_ids=["b"])
    with pytest.raises(InvalidParameterException, match="ROSBagJobStatus"):
        client.list_rosbag_jobs("dep", statuses=["Running"])  # type: ignore[list-item]
    with pytest.raises(BadRequestError, match='"from" time'):
        ROSBagTimeRange(5, 1)
    pkg = client.get_package(client.create_package(ros_cloud_manifest())["packageId"])
    dep = pkg.provision("young", pkg.get_provision_configuration())
    sandbox.app.set_deployment_outcome(dep.deploymentId, "stuck")  # not running, however slow
    inst = dep.componentInfo[0]["componentInstanceID"]
    with pytest.raises(BadRequestError, match="is not running"):
        client.create_rosbag_job(ROSBagJob("j", opts, deployment_id=dep.deploymentId,
                                           component_instance_id=inst))
    sandbox.app.set_deployment_outcome(dep.deploymentId, "ok")
    dep.poll_deployment_till_ready(**FAST)
    with pytest.raises(BadRequestError, match="not part of deployment"):
        client.create_rosbag_job(ROSBagJob("j", opts, deployment_id=dep.deploymentId,
                                           component_instance_id="inst-nope"))
    with pytest.raises(ResourceNotFoundError):
        client.get_rosbag_job("job-nope")
    bad = sandbox.post(f"/rosbag-jobs/{dep.deploymentId}",
                       json={"name": "x", "componentInstanceID": inst, "recordOptions": {}})
    assert bad.status_code == 400 and "recordOptions" in bad.json()["error"]


def test_non_ros_component_and_unknown_deployment(client: Client) -> None:
    manifest = ros_cloud_manifest("plain")
    manifest["plans"][0]["components"][0]["ros"]["isROS"] = False
    dep = _running(client, manifest, "plain-dep")
    inst = dep.componentInfo[0]["componentInstanceID"]
    with pytest.raises(BadRequestError, match="is not a ROS component"):
        client.create_rosbag_job(ROSBagJob("j", ROSBagOptions(all_topics=True),
                                           deployment_id=dep.deploymentId,
                                           component_instance_id=inst))
    with pytest.raises(ResourceNotFoundError, match="deployment dep-nope not found"):
        client.list_rosbag_jobs("dep-nope")
    with pytest.raises(ResourceNotFoundError):
        client.stop_rosbag_jobs("dep-nope")
    with pytest.raises(InvalidParameterException, match="non-empty list"):
        client.list_rosbag_jobs_in_project([])


def test_device_continuous_job_uploads_splits_while_running(client: Client) -> None:
    dep = _running(client, ros_device_manifest(), "dev-cont", device=True)
    job = client.create_rosbag_job(ROSBagJob(
        "cont", ROSBagOptions(topics=["/scan"]), deployment_id=dep.deploymentId,
        component_instance_id=dep.componentInfo[0]["componentInstanceID"],
        upload_options=UploadOptions(upload_type=ROSBagUploadTypes.CONTINUOUS)))
    wait_for(lambda: len(client.list_rosbag_blobs(job_ids=[job.guid])) >= 2,
             what="two uploaded splits")
    assert client.get_rosbag_job(job.guid).status is ROSBagJobStatus.RUNNING
    names = [b.filename for b in client.list_rosbag_blobs(job_ids=[job.guid])]
    assert names[:2] == ["cont_0.bag", "cont_1.bag"]
    client.stop_rosbag_jobs(dep.deploymentId, guids=[job.guid])
    assert len(client.list_rosbag_blobs(job_ids=[job.guid])) >= len(names) + 1  # last split
