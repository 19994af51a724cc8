"""Provisioning against the sandbox: the body on the wire, device mapping, client-side checks."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from pytest_robofixtures.rapyuta import (
    AliasNotProvidedException,
    Client,
    ComponentNotFoundException,
    Deployment,
    DuplicateAliasException,
    ExecutableMount,
    InvalidParameterException,
    OperationNotAllowedError,
    ParameterMissingException,
    RestartPolicy,
    ROSBagJob,
    ROSBagOptions,
    ROSBagUploadTypes,
    StaticRoute,
    UploadOptions,
)
from pytest_robofixtures.sim.rapyuta import DEVICE_AMD64_DOCKER, DEVICE_ARM64_PREINSTALLED

from ._support import Sandbox, cloud_manifest, device_manifest


def _record_bodies(client: Client) -> list[tuple[str, str, Any]]:
    sent: list[tuple[str, str, Any]] = []

    def hook(resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        body = resp.request.body
        sent.append((resp.request.method or "", resp.request.path_url,
                     json.loads(body) if body else None))

    client.session.hooks["response"].append(hook)
    return sent


def _package(client: Client, manifest: dict[str, Any]) -> Any:
    return client.get_package(client.create_package(manifest)["packageId"])


def test_cloud_provision_body_and_lifecycle(sandbox: Sandbox, client: Client) -> None:
    pkg = _package(client, cloud_manifest())
    net = client.create_cloud_routed_network("net", "noetic", True)
    cfg = pkg.get_provision_configuration()
    cid = pkg.plans[0].get_component_id("talker")
    assert cfg.parameters[cid] == {"component_id": cid, "RATE": "10",
                                   "bridge_params": {"alias": "talker",
                                                     "setROSNamespace": False}}
    (cfg.add_parameter("talker", "RATE", "20").add_label("team", "hil")
        .add_restart_policy("talker", RestartPolicy.OnFailure).add_routed_network(net)
        .add_routed_networks([net])  # the same guid again: one entry
        .add_static_route("talker", "web", StaticRoute("sr-1")))
    cfg.add_rosbag_job("talker", ROSBagJob("bag", ROSBagOptions(topics=["/chatter"],
                                                                max_splits=3),
                                           upload_options=UploadOptions(
                                               upload_type=ROSBagUploadTypes.CONTINUOUS)))
    sent = _record_bodies(client)
    dep = pkg.provision("talker-dep", cfg)
    assert isinstance(dep, Deployment) and dep.name == "talker-dep" and not dep.is_partial

    method, path, body = sent[0]
    assert (method, path) == ("PUT", "/v2/service_instances/instanceId")
    assert not any(k.startswith("_") for k in body), "no private keys (_devices) on the wire"
    assert body["service_id"] == pkg.packageId and body["plan_id"] == pkg.plans[0].plan_id
    assert body["instance_id"] == "instanceId" and body["accepts_incomplete"] is True
    ctx = body["context"]
    assert ctx["name"] == "talker-dep"
    assert ctx["labels"] == [{"key": "team", "value": "hil"}]
    assert ctx["routedNetworks"] == [{"guid": net.guid}]
    assert ctx["component_context"][cid] == {
        "component_override": {"restart_policy": "on-failure"},
        "static_route_config": {"web": "sr-1"},
        "ros_bag_job_defs": [{"name": "bag",
                              "recordOptions": {"topics": ["/chatter"], "maxSplits": 3},
                              "uploadOptions": {"maxUploadRate": 1048576, "purgeAfter": False,
                                                "uploadType": "Continuous"}}]}
    # no scoped/targeted interfaces: aliases are not needed and not sent
    assert body["parameters"][cid] == {"component_id": cid, "RATE": "20"}

    status = dep.poll_deployment_till_ready(sleep_interval=0.5)
    assert (status.phase, status.status) == ("Succeeded", "Running")
    assert dep.phase == "Succeeded" and dep.provisionContext["routedNetworks"] == ctx[
        "routedNetworks"]
    assert [d.deploymentId for d in pkg.deployments(phases=["Succeeded"])] == [dep.deploymentId]
    assert [d.deploymentId for d in client.get_all_deployments()] == [dep.deploymentId]
    assert client.get_deployment(dep.deploymentId).name == "talker-dep"

    with pytest.raises(InvalidParameterException, match="cannot reuse"):
        pkg.provision("again", cfg)
    assert dep.deprovision() is True
    assert sandbox.resources()["deployments"] == []


def test_device_provision_maps_device_config(sandbox: Sandbox, client: Client) -> None:
    pkg = _package(client, device_manifest())
    device = client.get_device(DEVICE_AMD64_DOCKER)
    cfg = pkg.get_provision_configuration()
    cid = pkg.plans[0].get_component_id("listener")
    before = sandbox.app.requests_seen
    with pytest.raises(OperationNotAllowedError, match="not mapped with the device"):
        pkg.provision("no-device", cfg)
    assert sandbox.app.requests_seen == before  # refused before the PUT

    cfg.add_device("listener", device)
    params = cfg.parameters[cid]
    assert params["device_id"] == DEVICE_AMD64_DOCKER
    assert params["bridge_params"]["alias"] == device.name
    assert "ros_workspace" not in params  # docker device: ignored like the SDK does
    assert cfg.parameters["global"]["device_ids"] == [DEVICE_AMD64_DOCKER]
    cfg.mount_volume("listener", device=device,
                     executable_mounts=[ExecutableMount("listenerExec", "/data")])
    sent = _record_bodies(client)
    dep = pkg.provision("listener-dep", cfg)
    body = sent[0][2]
    assert "_devices" not in body and "_is_provisioned" not in body
    assert "sim-token" not in json.dumps(body)  # the device's auth never leaks
    assert body["context"]["diskMountInfo"] == [{
        "diskResourceId": DEVICE_AMD64_DOCKER, "applicableComponentId": cid,
        "config": {"mountPaths": {"listenerExec": {"mountPath": "/data", "subPath": "/"}}}}]
    dep.poll_deployment_till_ready(sleep_interval=0.5)
    on_device = device.get_deployments()
    assert [d.deployment_id for d in on_device] == [dep.deploymentId]
    assert [d.deploymentId for d in client.get_all_deployments(device_id=DEVICE_AMD64_DOCKER)
            ] == [dep.deploymentId]
    dep.deprovision()


def test_preinstalled_device(client: Client) -> None:
    pkg = _package(client, device_manifest("pre", arch="arm64v8", docker=False))
    device = client.get_device(DEVICE_ARM64_PREINSTALLED)
    cfg = pkg.get_provision_configuration().add_device("listener", device,
                                                       set_component_alias=False)
    cid = pkg.plans[0].get_component_id("listener")
    assert cfg.parameters[cid]["ros_workspace"]
    assert cfg.parameters[cid]["bridge_params"]["alias"] == "listener"
    dep = pkg.provision("pre-dep", cfg)
    dep.poll_deployment_till_ready(sleep_interval=0.5)


def test_device_runtime_mismatch_refused(client: Client) -> None:
    docker_pkg = _package(client, device_manifest("d", arch="arm64v8"))
    with pytest.raises(OperationNotAllowedError, match="must be a dockercompose device"):
        docker_pkg.get_provision_configuration().add_device(
            "listener", client.get_device(DEVICE_ARM64_PREINSTALLED))
    pre_pkg = _package(client, device_manifest("p", docker=False))
    with pytest.raises(OperationNotAllowedError, match="must be a preinstalled device"):
        pre_pkg.get_provision_configuration().add_device(
            "listener", client.get_device(DEVICE_AMD64_DOCKER))


def test_missing_parameter_value_refused_before_put(sandbox: Sandbox, client: Client) -> None:
    pkg = _package(client, device_manifest(required_param=True))
    cfg = pkg.get_provision_configuration().add_device(
        "listener", client.get_device(DEVICE_AMD64_DOCKER))
    before = sandbox.app.requests_seen
    with pytest.raises(InvalidParameterException,
                       match="Provide the value for the parameter TARGET in component listener"):
        pkg.provision("x", cfg)
    assert sandbox.app.requests_seen == before
    cfg.add_parameter("listener", "TARGET", "dock")
    pkg.provision("x", cfg)
    assert len(sandbox.resources()["deployments"]) == 1


def test_configuration_checks_make_no_request(sandbox: Sandbox, client: Client) -> None:
    pkg = _package(client, cloud_manifest())
    cfg = pkg.get_provision_configuration()
    before = sandbox.app.requests_seen
    with pytest.raises(ComponentNotFoundException, match="Component nope is not found"):
        cfg.add_parameter("nope", "k", "v")
    with pytest.raises(InvalidParameterException, match="component_name must be"):
        cfg.add_parameter("", "k", "v")
    with pytest.raises(InvalidParameterException, match="key must be a non-empty string"):
        cfg.add_parameter("talker", "", "v")
    with pytest.raises(ParameterMissingException, match="key or value"):
        cfg.add_label("team", "")
    with pytest.raises(InvalidParameterException, match="restart_policy must be one of"):
        cfg.add_restart_policy("talker", "sometimes")
    with pytest.raises(InvalidParameterException, match="RoutedNetwork"):
        cfg.add_routed_network({"guid": "net-x"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Static Route"):
        cfg.add_static_route("talker", "web", "sr-1")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterException, match="ROSBagJob"):
        cfg.add_rosbag_job("talker", "bag")  # type: ignore[arg-type]
    job = ROSBagJob("auto", ROSBagOptions(all_topics=True))
    cfg.add_rosbag_job("talker", job)
    with pytest.raises(OperationNotAllowedError, match="same name"):
        cfg.add_rosbag_job("talker", job)
    with pytest.raises(InvalidParameterException, match="One of all_topics"):
        ROSBagOptions()
    with pytest.raises(InvalidParameterException, match="alias must be a string"):
        cfg.set_component_alias("talker", 3)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterException, match="deployment_name"):
        pkg.provision("", cfg)
    with pytest.raises(InvalidParameterException, match="must be of type ProvisionConfiguration"):
        pkg.provision("x", dict(cfg))  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterException, match="exactly one of volume= or device="):
        cfg.mount_volume("talker")
    assert sandbox.app.requests_seen == before


def test_cloud_network_takes_no_interface(client: Client) -> None:
    pkg = _package(client, cloud_manifest())
    net = client.create_cloud_routed_network("n", "noetic", True)
    with pytest.raises(OperationNotAllowedError, match="does not bind to network interface"):
        pkg.get_provision_configuration().add_routed_network(net, network_interface="eth0")


def test_aliases_checked_when_interfaces_are_scoped(sandbox: Sandbox, client: Client) -> None:
    m = cloud_manifest()
    comps = m["plans"][0]["components"]
    comps[0]["ros"]["topics"][0]["scoped"] = True
    second = json.loads(json.dumps(comps[0]))
    second["name"] = "talker2"
    comps.append(second)
    pkg = _package(client, m)
    cfg = pkg.get_provision_configuration()
    cfg.set_component_alias("talker2", "talker")
    before = sandbox.app.requests_seen
    with pytest.raises(DuplicateAliasException, match="'talker'"):
        pkg.provision("dup", cfg)
    cfg.parameters[pkg.plans[0].get_component_id("talker2")].pop("bridge_params")
    with pytest.raises(AliasNotProvidedException, match="talker2"):
        pkg.provision("none", cfg)
    assert sandbox.app.requests_seen == before
    cfg.set_component_alias("talker2", "second", set_ros_namespace=True)
    sent = _record_bodies(client)
    pkg.provision("ok", cfg)
    aliases = {p["bridge_params"]["alias"] for k, p in sent[0][2]["parameters"].items()
               if k != "global"}
    assert aliases == {"talker", "second"}


def test_dependent_deployment_must_be_ready(sandbox: Sandbox, client: Client) -> None:
    pkg = _package(client, cloud_manifest())
    sandbox.app.fail_next_deployment("stuck")
    stuck = pkg.provision("stuck", pkg.get_provision_configuration())
    first = pkg.provision("first", pkg.get_provision_configuration())
    other = _package(client, cloud_manifest("other"))
    cfg = other.get_provision_configuration()
    with pytest.raises(OperationNotAllowedError, match="dependent deployment is not ready"):
        cfg.add_dependent_deployment(stuck)
    first.poll_deployment_till_ready(sleep_interval=0.5)
    cfg.add_dependent_deployment(first)
    assert cfg.context["dependentDeployments"] == [
        {"dependentDeploymentId": first.deploymentId, "applicableComponentId": "",
         "config": {}}]
    dep = other.provision("second", cfg)
    assert dep.dependentDeployments[0]["dependentDeploymentId"] == first.deploymentId
