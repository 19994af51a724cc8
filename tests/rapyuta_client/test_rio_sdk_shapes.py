"""SDK-shaped objects: nested attribute access, SDK names and signatures, as the SDK has them."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from pytest_robofixtures.rapyuta import (
    Client,
    ComponentNotFoundException,
    InvalidParameterException,
    PlanNotFound,
    ROSDistro,
    SharedURL,
    TopicKind,
)
from pytest_robofixtures.rapyuta.clients.common_models import InternalDeploymentStatus
from pytest_robofixtures.rapyuta.clients.deployment import DeploymentStatus
from pytest_robofixtures.rapyuta.clients.model import LogsUploadRequest
from pytest_robofixtures.sim.rapyuta import DEVICE_AMD64_DOCKER

from ._sdk import sdk  # noqa: F401  (fixture)
from ._support import Sandbox, cloud_manifest


def _deployed(client: Client, name: str = "dep") -> Any:
    pkg = client.get_package(client.create_package(cloud_manifest())["packageId"])
    dep = pkg.provision(name, pkg.get_provision_configuration())
    dep.poll_deployment_till_ready(sleep_interval=0.5)
    return pkg, dep


def test_routed_network_status_attributes(client: Client) -> None:
    net = client.create_cloud_routed_network("n1", ROSDistro.NOETIC, True)
    net.poll_routed_network_till_ready(sleep_interval=0)
    assert net.internalDeploymentStatus.phase == "Succeeded"
    assert net.internalDeploymentStatus.status == "Running"
    assert isinstance(net.internalDeploymentStatus, InternalDeploymentStatus)
    assert net["internalDeploymentStatus"]["phase"] == "Succeeded"  # dict access still works
    status = net.get_status()
    assert isinstance(status, InternalDeploymentStatus) and status.errors == []
    assert net.get_error_code() == []
    listed = next(n for n in client.get_all_routed_networks() if n.guid == net.guid)
    assert listed.internalDeploymentStatus.phase == "Succeeded"
    assert InternalDeploymentStatus("Succeeded", "Running").error_code == []


def test_deployment_nested_attributes(client: Client) -> None:
    pkg, dep = _deployed(client)
    full = client.get_deployment(dep.deploymentId)
    info = full.componentInfo[0]
    assert info.componentID == pkg.plans[0].get_component_id(component_name="talker")
    assert info.executablesStatusInfo[0].status == "running"
    status = full.get_status()
    assert isinstance(status, DeploymentStatus)
    assert status.componentInfo[0].name == "talker"
    assert full["componentInfo"][0]["name"] == "talker"
    assert full.get_component_instance_id("talker") == info.componentInstanceID
    assert full.get_component_instance_id("nope") is None
    partial = next(d for d in client.get_all_deployments() if d.deploymentId == dep.deploymentId)
    assert partial.get_component_instance_id("talker") == info.componentInstanceID
    assert full.to_dict()["componentInfo"][0]["name"] == "talker"
    assert type(full.to_dict()["componentInfo"][0]) is dict


def test_package_plan_renames(client: Client) -> None:
    pkg = client.get_package(client.create_package(cloud_manifest())["packageId"])
    plan = pkg.plans[0]
    assert plan.internalComponents[0].componentId == plan.get_component_id("talker")
    assert plan.components.components[0].executables[0].docker == "ros:noetic"
    assert pkg.get_plan_by_id(plan.planId) is plan
    assert pkg.get_plan(plan.planId) is plan  # the earlier name stays
    with pytest.raises(PlanNotFound):
        pkg.get_plan_by_id("plan-unknown")
    comp = plan.get_component_by_name(component_name="talker")
    assert comp is not None and comp.name == "talker"
    assert plan.get_component_by_name(component_name="ghost") is None  # as the SDK
    with pytest.raises(ComponentNotFoundException, match="ghost"):
        plan.get_component_id(component_name="ghost")
    assert plan.needs_aliases() is False and plan.needs_alias() is False
    partial = next(p for p in client.get_all_packages() if p.packageId == pkg.packageId)
    assert partial.get_plan_by_id(plan.planId).planId == plan.planId


def test_scoped_interfaces_need_aliases(client: Client) -> None:
    manifest = cloud_manifest()
    manifest["plans"][0]["components"][0]["ros"]["topics"] = [
        {"name": "/odom", "qos": "low", "scoped": "true"}]
    plan = client.get_package(client.create_package(manifest)["packageId"]).plans[0]
    assert plan.needs_aliases() is True


def test_poll_accepts_sleep_interval_zero(client: Client) -> None:
    _, dep = _deployed(client)
    assert dep.poll_deployment_till_ready(sleep_interval=0).status == "Running"
    with pytest.raises(InvalidParameterException, match="sleep_interval"):
        dep.poll_deployment_till_ready(sleep_interval=-1)


def test_topic_status_nested(client: Client) -> None:
    dev = client.get_device(DEVICE_AMD64_DOCKER)
    topic = dev.topics()[0]
    dev.subscribe_topic(topic, kind=TopicKind.METRIC)
    status = dev.topic_status()
    assert topic in [t.name for t in status.Subscribed.metric]
    assert topic not in status.Unsubscribed and status.master_up is True
    assert status.Subscribed.metric[0].config.qos == 0


def test_shared_url_expiry_is_a_datetime(sandbox: Sandbox, client: Client) -> None:
    dev = client.get_device(DEVICE_AMD64_DOCKER)
    (sandbox.app.scratch_dir(DEVICE_AMD64_DOCKER) / "a.log").write_text("x")
    req = dev.upload_log_file(LogsUploadRequest("a.log"))
    expiry = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
    deadline = time.monotonic() + 10
    while dev.get_log_upload_status(req).status != "COMPLETED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    shared = dev.create_shared_url(SharedURL(req, expiry))
    assert isinstance(shared.expiry_time, dt.datetime)
    assert abs((shared.expiry_time - expiry).total_seconds()) < 1
    listed = dev.get_log_upload_status(req).shared_urls[0]
    assert isinstance(listed.expiry_time, dt.datetime)


def test_same_nested_shape_as_the_sdk(sandbox: Sandbox, client: Client, sdk: Any) -> None:  # noqa: F811
    """Where the SDK answers an attribute path, ours answers the same value."""
    net = client.create_cloud_routed_network("n-cmp", ROSDistro.NOETIC, True)
    pkg, dep = _deployed(client, "dep-cmp")
    theirs_net = sdk.get_routed_network(net.guid)
    ours_net = client.get_routed_network(net.guid)
    assert ours_net.internalDeploymentStatus.phase == theirs_net.internalDeploymentStatus.phase
    theirs_dep, ours_dep = sdk.get_deployment(dep.deploymentId), client.get_deployment(
        dep.deploymentId)
    for path in ("componentInfo[0].componentID", "componentInfo[0].name",
                 "componentInfo[0].executablesStatusInfo[0].id", "phase", "status"):
        assert eval(f"o.{path}", {"o": ours_dep}) == eval(f"o.{path}", {"o": theirs_dep})
    theirs_pkg, ours_pkg = sdk.get_package(pkg.packageId), client.get_package(pkg.packageId)
    for path in ("plans[0].internalComponents[0].componentId", "plans[0].planId",
                 "plans[0].components.components[0].name"):
        assert eval(f"o.{path}", {"o": ours_pkg}) == eval(f"o.{path}", {"o": theirs_pkg})
    dev_ours, dev_theirs = client.get_device(DEVICE_AMD64_DOCKER), sdk.get_device(
        DEVICE_AMD64_DOCKER)
    assert dev_ours.topic_status().Subscribed == dev_theirs.topic_status().Subscribed
