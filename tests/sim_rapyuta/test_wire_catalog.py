"""Catalog half of the sandbox over real HTTP: auth, envelopes, shapes, phases, faults."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import requests

from pytest_robofixtures.sim.rapyuta import (
    DEVICE_AMD64_DOCKER,
    DEVICE_ARM32,
    DEVICE_ARM64_PREINSTALLED,
    DEVICE_OFFLINE,
)

from ._support import DM, PROJECT, TOKEN, Sandbox, wait_for

ORDER = [("In progress", "Pending"), ("Provisioning", "Pending"), ("Succeeded", "Pending"),
         ("Succeeded", "Running")]

MANIFEST: dict[str, Any] = {
    "name": "pkg-wire", "packageVersion": "v1.0.0", "apiVersion": "v1.0.0",
    "plans": [{
        "name": "default",
        "components": [
            {"name": "cloudy", "requiredRuntime": "cloud",
             "parameters": [{"name": "SPEED", "default": "1"}],
             "executables": [{"name": "e1", "docker": "img:1", "cmd": ["run"]}]},
            {"name": "edge", "requiredRuntime": "device", "architecture": "amd64",
             "ros": {"isROS": True},
             "executables": [{"name": "e2", "docker": "img:2", "cmd": []}]},
        ],
    }],
}


def network_body(name: str = "rn", **over: Any) -> dict[str, Any]:
    body = {"name": name, "runtime": "cloud", "rosDistro": "noetic", "shared": False,
            "parameters": {}}
    body.update(over)
    return body


def create_package(sb: Sandbox, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    resp = sb.post("/serviceclass/add", json=manifest or MANIFEST)
    assert resp.status_code == 200, resp.text
    created: dict[str, Any] = resp.json()
    return created


def provision_body(sb: Sandbox, created: dict[str, Any], name: str = "dep",
                   device: str | None = DEVICE_AMD64_DOCKER,
                   networks: list[str] | None = None) -> dict[str, Any]:
    info = sb.get(f"/serviceclass/status?package_uid={created['packageId']}").json()["packageInfo"]
    plan = info["plans"][0]
    params: dict[str, Any] = {"global": {}}
    for comp in plan["components"]["components"]:
        p = {"component_id": comp["componentId"]}
        p.update({d["name"]: d.get("default") for d in comp["parameters"]})
        if comp["requiredRuntime"] == "device" and device:
            p["device_id"] = device
        params[comp["componentId"]] = p
    return {
        "service_id": created["packageId"], "plan_id": plan["planId"], "api_version": "1.0.0",
        "instance_id": "instanceId", "organization_guid": "organizationGuid",
        "space_guid": "spaceGuid", "accepts_incomplete": True, "parameters": params,
        "context": {"name": name, "labels": [], "dependentDeployments": [], "diskMountInfo": [],
                    "routedNetworks": [{"guid": g} for g in networks or []],
                    "nativeNetworks": [], "component_context": {}},
        "_is_provisioned": True, "_devices": {DEVICE_AMD64_DOCKER: {"_auth_token": "Bearer x"}},
    }


def phases_until_running(sb: Sandbox, path: Callable[[], str],
                         key: Callable[[dict[str, Any]], tuple[str, str]]) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    def running() -> bool:
        state = key(sb.get(path()).json())
        if not seen or seen[-1] != state:
            seen.append(state)
        return state == ("Succeeded", "Running")

    wait_for(running, what="Succeeded/Running")
    return seen


# -- auth ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/routednetwork", f"{DM}/devices/", "/v2/catalog"])
def test_auth_token_and_project_header(sandbox: Sandbox, path: str) -> None:
    url = sandbox.url + path
    resp = requests.get(url, timeout=5)
    assert resp.status_code == 401 and "Authorization" in resp.json()["error"]
    resp = requests.get(url, headers={"Authorization": "Bearer nope", "project": PROJECT},
                        timeout=5)
    assert resp.status_code == 401 and resp.json()["error"]
    resp = requests.get(url, headers={"Authorization": TOKEN, "project": PROJECT}, timeout=5)
    assert resp.status_code == 401, "the token must come with the Bearer prefix"
    resp = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert resp.status_code == 403 and "project header" in resp.json()["error"]
    resp = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}", "project": "other"},
                        timeout=5)
    assert resp.status_code == 403 and "project header" in resp.json()["error"]
    assert sandbox.get(path).status_code == 200


def test_sandbox_without_project_accepts_any_project_header(
        make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(project=None)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert requests.get(sb.url + "/routednetwork", headers=auth, timeout=5).status_code == 200
    assert requests.get(sb.url + "/routednetwork", headers={**auth, "project": "whatever"},
                        timeout=5).status_code == 200
    assert requests.get(sb.url + "/routednetwork", timeout=5).status_code == 401


def test_unknown_route_is_404_json_and_requests_are_counted(sandbox: Sandbox) -> None:
    before = sandbox.app.requests_seen
    resp = sandbox.get("/nothing/here")
    assert resp.status_code == 404 and resp.json()["error"]
    sandbox.get("/_admin/resources")
    assert sandbox.app.requests_seen == before + 1


def test_generic_faults_apply(sandbox: Sandbox) -> None:
    sandbox.post("/_admin/faults", json={"kind": "status", "status": 500, "path": "^/routed",
                                         "count": 1})
    resp = sandbox.get("/routednetwork")
    assert resp.status_code == 500 and resp.json() == {"error": "injected fault 500"}
    assert sandbox.get("/routednetwork").status_code == 200


# -- routed networks -------------------------------------------------------------------------
def test_routed_network_lifecycle(sandbox: Sandbox) -> None:
    resp = sandbox.post("/routednetwork", json=network_body(
        "rn-1", parameters={"limits": {"cpu": 0.5, "memory": 2048}}))
    assert resp.status_code == 200, resp.text
    guid = resp.json()["guid"]
    net = sandbox.get(f"/routednetwork/{guid}").json()
    for field in ("ID", "CreatedAt", "UpdatedAt", "DeletedAt", "name", "guid", "ownerProject",
                  "creator", "runtime", "rosDistro", "shared", "parameters",
                  "internalDeploymentGUID", "internalDeploymentStatus"):
        assert field in net, field
    assert net["ownerProject"] == PROJECT and net["parameters"]["limits"]["memory"] == 2048
    assert net["internalDeploymentStatus"]["error_code"] == []
    seen = phases_until_running(
        sandbox, lambda: f"/routednetwork/{guid}",
        lambda n: (n["internalDeploymentStatus"]["phase"], n["internalDeploymentStatus"]["status"]))
    assert seen == [s for s in ORDER if s in seen], seen
    assert len(seen) >= 2, "the phases must move over time"
    listed = sandbox.get("/routednetwork").json()
    assert isinstance(listed, list) and [n["guid"] for n in listed] == [guid]
    assert sandbox.app.live_resources()["routed_networks"] == [{"id": guid, "name": "rn-1"}]
    assert sandbox.delete(f"/routednetwork/{guid}").status_code == 200
    assert sandbox.get(f"/routednetwork/{guid}").status_code == 404
    assert sandbox.delete(f"/routednetwork/{guid}").status_code == 404
    assert sandbox.get("/_admin/resources").json()["routed_networks"] == []


@pytest.mark.parametrize("body, status, needle", [
    (network_body(rosDistro="foxy"), 400, "rosDistro"),
    (network_body(runtime="mars"), 400, "runtime"),
    (network_body(name=""), 400, "name"),
    (network_body(parameters={"limits": {"cpu": -1, "memory": 10}}), 400, "limits"),
    (network_body(runtime="device", parameters={}), 400, "device_id"),
    (network_body(runtime="device", parameters={"device_id": "nope",
                                                 "NETWORK_INTERFACE": "eth0"}), 400, "not found"),
    (network_body(runtime="device", parameters={"device_id": DEVICE_ARM32,
                                                 "NETWORK_INTERFACE": "wlan9"}), 400, "eth0"),
    (network_body(runtime="device", parameters={"device_id": DEVICE_OFFLINE,
                                                 "NETWORK_INTERFACE": "eth0"}), 409, "OFFLINE"),
])
def test_routed_network_validation(sandbox: Sandbox, body: dict[str, Any], status: int,
                                   needle: str) -> None:
    resp = sandbox.post("/routednetwork", json=body)
    assert resp.status_code == status and needle in resp.json()["error"]
    assert sandbox.app.live_resources()["routed_networks"] == []


def test_routed_network_duplicate_name_is_409(sandbox: Sandbox) -> None:
    assert sandbox.post("/routednetwork", json=network_body("same")).status_code == 200
    resp = sandbox.post("/routednetwork", json=network_body("same"))
    assert resp.status_code == 409 and "already exists" in resp.json()["error"]


def test_routed_network_failed_and_stuck(sandbox: Sandbox) -> None:
    assert sandbox.post("/_admin/routednetworks/next", json={"outcome": "failed"}).ok
    assert sandbox.post("/_admin/routednetworks/next", json={"outcome": "stuck"}).ok
    assert sandbox.post("/_admin/routednetworks/next", json={"outcome": "boom"}).status_code == 400
    failed = sandbox.post("/routednetwork", json=network_body("f")).json()["guid"]
    stuck = sandbox.post("/routednetwork", json=network_body("s")).json()["guid"]
    ok = sandbox.post("/routednetwork", json=network_body("o")).json()["guid"]
    wait_for(lambda: sandbox.get(f"/routednetwork/{ok}").json()["internalDeploymentStatus"]
             ["status"] == "Running", what="the healthy network")
    assert sandbox.get(f"/routednetwork/{failed}").json()["internalDeploymentStatus"] == {
        "phase": "Failed to start", "status": "Error", "error_code": ["DEP_E151"]}
    assert sandbox.get(f"/routednetwork/{stuck}").json()["internalDeploymentStatus"] == {
        "phase": "Provisioning", "status": "Pending", "error_code": []}


def test_device_routed_network(sandbox: Sandbox) -> None:
    body = network_body("rn-dev", runtime="device", parameters={
        "device_id": DEVICE_ARM64_PREINSTALLED, "NETWORK_INTERFACE": "wlan0",
        "restart_policy": "on-failure"})
    resp = sandbox.post("/routednetwork", json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["runtime"] == "device"
    assert resp.json()["parameters"]["NETWORK_INTERFACE"] == "wlan0"


# -- packages --------------------------------------------------------------------------------
def test_package_create_status_catalog_delete(sandbox: Sandbox) -> None:
    created = create_package(sandbox)
    pid = created["packageId"]
    assert pid.startswith("pkg-") and len(created["planIds"]) == 1
    assert len(created["planIds"][0]["componentIds"]) == 2
    resp = sandbox.get(f"/serviceclass/status?package_uid={pid}")
    info = resp.json()["packageInfo"]
    assert info["guid"] == pid and info["packageName"] == "pkg-wire"
    assert info["packageVersion"] == "v1.0.0" and info["ownerProject"] == PROJECT
    plan = info["plans"][0]
    assert plan["planId"] == created["planIds"][0]["planId"]
    assert [c["componentId"] for c in plan["internalComponents"]] == \
        created["planIds"][0]["componentIds"]
    assert {c["componentName"]: c["runtime"] for c in plan["internalComponents"]} == {
        "cloudy": "cloud", "edge": "device"}
    comps = plan["components"]["components"]
    assert [c["requiredRuntime"] for c in comps] == ["cloud", "device"]
    assert all(e["id"] for c in comps for e in c["executables"])
    assert comps[0]["ros"]["isROS"] is False and comps[1]["ros"]["isROS"] is True
    assert comps[0]["cloudInfra"] == {"endpoints": [], "replicas": 1}
    assert comps[0]["parameters"] == [{"name": "SPEED", "default": "1"}]

    services = sandbox.get("/v2/catalog").json()["services"]
    assert [s["id"] for s in services] == [pid]
    svc = services[0]
    assert svc["name"] == "pkg-wire" and svc["bindable"] is True
    assert set(svc["plans"][0]) == {"id", "name", "description", "free", "metadata"}
    assert set(svc["metadata"]) == {"creationDate", "creator", "isPublic", "ownerProject",
                                    "packageVersion"}
    assert svc["metadata"]["packageVersion"] == "v1.0.0"
    assert sandbox.app.live_resources()["packages"][0]["id"] == pid

    assert sandbox.delete(f"/serviceclass/delete?package_uid={pid}").status_code == 200
    assert sandbox.get(f"/serviceclass/status?package_uid={pid}").status_code == 404
    assert sandbox.delete(f"/serviceclass/delete?package_uid={pid}").status_code == 404
    assert sandbox.get("/serviceclass/status").status_code == 400
    assert sandbox.get("/v2/catalog").json() == {"services": []}


def test_package_same_name_and_version_is_409(sandbox: Sandbox) -> None:
    create_package(sandbox)
    resp = sandbox.post("/serviceclass/add", json=MANIFEST)
    assert resp.status_code == 409 and "already exists" in resp.json()["error"]
    other = copy.deepcopy(MANIFEST)
    other["packageVersion"] = "v1.0.1"
    assert sandbox.post("/serviceclass/add", json=other).status_code == 200


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    manifest = copy.deepcopy(MANIFEST)
    target: Any = manifest
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return manifest


COMP = ["plans", 0, "components", 1]


@pytest.mark.parametrize("manifest, needle", [
    (_broken(["name"], KeyError), "name"),
    (_broken(["packageVersion"], ""), "packageVersion"),
    (_broken(["plans"], []), "plans"),
    (_broken(["plans", 0, "components"], []), "component"),
    (_broken([*COMP, "requiredRuntime"], "moon"), "requiredRuntime"),
    (_broken([*COMP, "architecture"], "riscv"), "architecture"),
    (_broken([*COMP, "architecture"], KeyError), "architecture"),
    (_broken([*COMP, "executables"], []), "executables"),
    (_broken([*COMP, "executables"], [{"name": "x"}]), "cmd or a docker image"),
    (_broken([*COMP, "name"], "cloudy"), "duplicate component"),
    (_broken(["plans", 0, "components", 0, "executables"], [{"name": "c", "cmd": ["x"]}]),
     "docker image"),
    (_broken([*COMP, "parameters"], [{"default": 1}]), "parameters"),
])
def test_package_manifest_validation(sandbox: Sandbox, manifest: dict[str, Any],
                                     needle: str) -> None:
    resp = sandbox.post("/serviceclass/add", json=manifest)
    assert resp.status_code == 400 and needle in resp.json()["error"], resp.text
    assert sandbox.app.live_resources()["packages"] == []


def test_bad_json_is_400(sandbox: Sandbox) -> None:
    resp = sandbox.post("/serviceclass/add", data=b"{nope",
                        headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and "JSON" in resp.json()["error"]


# -- deployments -----------------------------------------------------------------------------
def test_provision_get_list_deprovision(sandbox: Sandbox) -> None:
    net = sandbox.post("/routednetwork", json=network_body("rn")).json()["guid"]
    created = create_package(sandbox)
    body = provision_body(sandbox, created, "dep-a", networks=[net])
    resp = sandbox.put("/v2/service_instances/instanceId", json=body)
    assert resp.status_code == 200, resp.text
    dep_id = resp.json()["operation"]
    dep = sandbox.get(f"/serviceinstance/{dep_id}").json()
    for field in ("deploymentId", "name", "packageId", "packageName", "packageAPIVersion",
                  "planId", "bindable", "currentGeneration", "phase", "status", "errors",
                  "inUse", "usedBy", "lastStatusUpdateTime", "parameters", "provisionContext",
                  "labels", "dependentDeployments", "componentInfo", "componentInstanceIds",
                  "dependentDeploymentStatus", "packageDependencyStatus", "ownerProject",
                  "creator", "ID", "CreatedAt", "UpdatedAt", "DeletedAt"):
        assert field in dep, field
    assert dep["name"] == "dep-a" and dep["packageId"] == created["packageId"]
    assert dep["provisionContext"]["routedNetworks"] == [{"guid": net}]
    assert "_devices" not in dep and "_is_provisioned" not in dep
    info = {c["name"]: c for c in dep["componentInfo"]}
    assert set(info) == {"cloudy", "edge"}
    assert set(info["edge"]) >= {"componentID", "componentInstanceID", "name", "runtime",
                                 "status", "phase", "errorCode", "executablesStatusInfo",
                                 "isDeprovisioned", "planID"}

    seen = phases_until_running(sandbox, lambda: f"/serviceinstance/{dep_id}",
                                lambda d: (d["phase"], d["status"]))
    assert seen == [s for s in ORDER if s in seen] and len(seen) >= 2, seen
    running = sandbox.get(f"/serviceinstance/{dep_id}").json()
    assert all(c["status"] == "Running" for c in running["componentInfo"])

    pid = created["packageId"]
    listed = sandbox.get(f"/deployment/list?package_uid={pid}").json()
    assert [d["deploymentId"] for d in listed] == [dep_id]
    assert sandbox.get("/deployment/list?phase=Succeeded&phase=Provisioning").json()[0][
        "deploymentId"] == dep_id
    assert sandbox.get("/deployment/list?phase=Provisioning").json() == []
    assert len(sandbox.get(f"/deployment/list?device_uid={DEVICE_AMD64_DOCKER}").json()) == 1
    assert sandbox.get(f"/deployment/list?device_uid={DEVICE_ARM32}").json() == []
    device = sandbox.data(sandbox.get(f"{DM}/devices/{DEVICE_AMD64_DOCKER}"))
    assert [d["deployment_id"] for d in device["deployments"]] == [dep_id]
    assert device["deployments"][0]["phase"] == "Succeeded"

    # in use: the network, the package and the device cannot go
    assert sandbox.delete(f"/routednetwork/{net}").status_code == 409
    assert sandbox.delete(f"/serviceclass/delete?package_uid={pid}").status_code == 409
    assert sandbox.delete(f"{DM}/devices/{DEVICE_AMD64_DOCKER}").status_code == 400

    plan = running["planId"]
    base = f"/v2/service_instances/{dep_id}"
    assert sandbox.delete(f"{base}?plan_id=wrong&service_id={pid}&accepts_incomplete=false"
                          ).status_code == 400
    resp = sandbox.delete(f"{base}?plan_id={plan}&service_id={pid}&accepts_incomplete=false")
    assert resp.status_code == 200
    assert sandbox.get(f"/serviceinstance/{dep_id}").status_code == 404
    assert sandbox.delete(f"{base}?plan_id={plan}&service_id={pid}").status_code == 404
    assert sandbox.app.live_resources()["deployments"] == []
    assert sandbox.data(sandbox.get(f"{DM}/devices/{DEVICE_AMD64_DOCKER}"))["deployments"] == []


@pytest.mark.parametrize("mutate, status, needle", [
    (lambda b: b.update(service_id="pkg-none"), 400, "package"),
    (lambda b: b.update(plan_id="plan-none"), 400, "plan"),
    (lambda b: b["context"].update(name=""), 400, "context.name"),
    (lambda b: [p.pop("device_id", None) for p in b["parameters"].values()], 400, "device"),
    (lambda b: [p.update(device_id="nope") for p in b["parameters"].values()
                if "device_id" in p], 400, "not found"),
    (lambda b: [p.update(device_id=DEVICE_OFFLINE) for p in b["parameters"].values()
                if "device_id" in p], 409, "OFFLINE"),
    (lambda b: [p.update(device_id=DEVICE_ARM32) for p in b["parameters"].values()
                if "device_id" in p], 400, "architecture"),
    (lambda b: b["context"]["routedNetworks"].append({"guid": "net-none"}), 400, "routed network"),
    (lambda b: [p.update(SPEED="") for p in b["parameters"].values() if "SPEED" in p], 400,
     "SPEED"),
])
def test_provision_validation(sandbox: Sandbox, mutate: Callable[[dict[str, Any]], Any],
                              status: int, needle: str) -> None:
    body = provision_body(sandbox, create_package(sandbox))
    mutate(body)
    resp = sandbox.put("/v2/service_instances/instanceId", json=body)
    assert resp.status_code == status and needle in resp.json()["error"], resp.text
    assert sandbox.app.live_resources()["deployments"] == []


def test_provision_needs_docker_runtime_for_docker_executables(sandbox: Sandbox) -> None:
    manifest = copy.deepcopy(MANIFEST)
    manifest["plans"][0]["components"][1]["architecture"] = "arm64v8"
    body = provision_body(sandbox, create_package(sandbox, manifest),
                          device=DEVICE_ARM64_PREINSTALLED)
    resp = sandbox.put("/v2/service_instances/instanceId", json=body)
    assert resp.status_code == 400 and "dockercompose" in resp.json()["error"]


def test_deployment_faults(sandbox: Sandbox) -> None:
    created = create_package(sandbox)
    sandbox.app.fail_next_deployment("failed")
    assert sandbox.post("/_admin/deployments/next", json={"outcome": "stuck"}).ok
    ids = [sandbox.put("/v2/service_instances/instanceId",
                       json=provision_body(sandbox, created, name)).json()["operation"]
           for name in ("failed", "stuck", "ok")]
    failed, stuck, ok = ids
    wait_for(lambda: sandbox.get(f"/serviceinstance/{ok}").json()["status"] == "Running",
             what="the healthy deployment")
    dep = sandbox.get(f"/serviceinstance/{failed}").json()
    assert (dep["phase"], dep["status"], dep["errors"]) == ("Failed to start", "Error",
                                                            ["DEP_E151"])
    assert dep["componentInfo"][0]["errorCode"] == ["DEP_E151"]
    dep = sandbox.get(f"/serviceinstance/{stuck}").json()
    assert (dep["phase"], dep["status"]) == ("Provisioning", "Pending")
    assert [d["deploymentId"] for d in sandbox.get(
        "/deployment/list?phase=Failed%20to%20start").json()] == [failed]

    # a running deployment can be made to fail later
    assert sandbox.post(f"/_admin/deployments/{ok}", json={"outcome": "failed"}).ok
    assert sandbox.get(f"/serviceinstance/{ok}").json()["phase"] == "Failed to start"
    assert sandbox.post("/_admin/deployments/dep-none", json={"outcome": "failed"}
                        ).status_code == 404
    with pytest.raises(ValueError):
        sandbox.app.fail_next_deployment("sideways")


def test_zero_delay_is_ready_at_once(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(delay=0)
    guid = sb.post("/routednetwork", json=network_body()).json()["guid"]
    assert sb.get(f"/routednetwork/{guid}").json()["internalDeploymentStatus"]["phase"] == \
        "Succeeded"


def test_ids_are_deterministic_per_seed(make_sandbox: Callable[..., Sandbox]) -> None:
    first = [make_sandbox(seed=7) for _ in range(2)]
    guids = [sb.post("/routednetwork", json=network_body()).json()["guid"] for sb in first]
    assert guids[0] == guids[1]
    other = make_sandbox(seed=8).post("/routednetwork", json=network_body()).json()["guid"]
    assert other != guids[0]


def test_concurrent_creates_are_consistent(sandbox: Sandbox) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(i: int) -> tuple[int, int]:
        same = sandbox.post("/routednetwork", json=network_body("contested")).status_code
        own = sandbox.post("/routednetwork", json=network_body(f"rn-{i}")).status_code
        return same, own

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(create, range(16)))
    assert sorted(s for s, _ in results) == [200] + [409] * 15
    assert all(own == 200 for _, own in results)
    live = sandbox.app.live_resources()["routed_networks"]
    assert len(live) == 17 and len({n["id"] for n in live}) == 17
