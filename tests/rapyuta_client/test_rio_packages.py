"""Packages against the sandbox: create (dict, JSON, YAML), read, list, filter, delete, checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_robofixtures.rapyuta import (
    Client,
    ConflictError,
    DeploymentPhaseConstants,
    InvalidParameterException,
    Package,
    PackageNotFound,
    PlanNotFound,
    ResourceNotFoundError,
)

from ._support import Sandbox, cloud_manifest, copy_manifest, device_manifest


def test_create_get_list_delete(sandbox: Sandbox, client: Client) -> None:
    created = client.create_package(cloud_manifest())
    pid = created["packageId"]
    assert created["planIds"][0]["componentIds"]
    pkg = client.get_package(pid)
    assert isinstance(pkg, Package) and not pkg.is_partial
    assert (pkg.packageId, pkg.packageName, pkg.packageVersion) == (pid, "talker", "v1.0.0")
    plan = pkg.plans[0]
    assert plan.plan_id == created["planIds"][0]["planId"]
    assert plan.get_component_id("talker") == created["planIds"][0]["componentIds"][0]

    listed = client.get_all_packages()
    assert [p.packageId for p in listed] == [pid] and listed[0].is_partial
    assert listed[0].packageVersion == "v1.0.0"
    listed[0].refresh()
    assert not listed[0].is_partial and listed[0].plans[0].plan_id == plan.plan_id
    assert pkg.deployments() == []
    assert pkg.deployments(phases=[DeploymentPhaseConstants.SUCCEEDED]) == []

    pkg.delete()
    assert sandbox.resources()["packages"] == []
    with pytest.raises(PackageNotFound, match=f"{pid} not found"):
        client.get_package(pid)
    with pytest.raises(ResourceNotFoundError):
        client.delete_package(pid)


def test_filters_are_client_side_name_substring_and_exact_version(client: Client) -> None:
    client.create_package(cloud_manifest("nav-stack", "v1.0.0"))
    client.create_package(cloud_manifest("nav-stack", "v1.0.10"))
    client.create_package(cloud_manifest("arm", "v1.0.0"))
    assert sorted(p.packageVersion for p in client.get_all_packages(name="nav")) == [
        "v1.0.0", "v1.0.10"]
    assert [p.packageName for p in client.get_all_packages(version="v1.0.10")] == ["nav-stack"]
    assert [p.packageName for p in client.get_all_packages(name="ar", version="v1.0.0")] == [
        "arm"]
    with pytest.raises(InvalidParameterException, match="name must be a string"):
        client.get_all_packages(name=3)  # type: ignore[arg-type]


def test_duplicate_package_is_409(sandbox: Sandbox, client: Client) -> None:
    client.create_package(cloud_manifest())
    with pytest.raises(ConflictError) as info:
        client.create_package(cloud_manifest())
    assert info.value.status_code == 409 and "POST /serviceclass/add returned 409" in str(
        info.value) and "already exists" in str(info.value)
    assert len(sandbox.resources()["packages"]) == 1


def test_from_json_and_yaml_files(client: Client, tmp_path: Path) -> None:
    j = tmp_path / "talker.json"
    j.write_text(json.dumps(cloud_manifest("from-json")))
    y = tmp_path / "talker.yaml"
    y.write_text(yaml.safe_dump(cloud_manifest("from-yaml")))
    yml = tmp_path / "talker.yml"
    yml.write_text(yaml.safe_dump(device_manifest("from-yml")))
    for path in (j, y, str(yml)):
        client.create_package_from_manifest(path)
    assert sorted(p.packageName for p in client.get_all_packages()) == [
        "from-json", "from-yaml", "from-yml"]


@pytest.mark.parametrize("content, suffix, message", [
    ("{not json", ".json", "is not valid JSON"),
    ("a: [b", ".yaml", "is not valid YAML"),
    (None, ".json", "cannot read package manifest file"),
    (json.dumps({"name": "x"}), ".json", "packageVersion is missing"),
])
def test_bad_manifest_files_refused_before_any_request(
    sandbox: Sandbox, client: Client, tmp_path: Path, content: str | None, suffix: str,
    message: str,
) -> None:
    path = tmp_path / f"m{suffix}"
    if content is not None:
        path.write_text(content)
    before = sandbox.app.requests_seen
    with pytest.raises(InvalidParameterException, match=message):
        client.create_package_from_manifest(path)
    assert sandbox.app.requests_seen == before


def _breakers() -> list[tuple[str, Any, str]]:
    def comp(m: dict[str, Any]) -> dict[str, Any]:
        return m["plans"][0]["components"][0]

    cases: list[tuple[str, Any, str]] = [
        ("no name", lambda m: m.pop("name"), r"^invalid package manifest: name is missing"),
        ("empty version", lambda m: m.update(packageVersion=""), r"packageVersion must be"),
        ("no plans", lambda m: m.pop("plans"), r"plans is missing"),
        ("empty plans", lambda m: m.update(plans=[]), r"plans must be a non-empty list"),
        ("no components", lambda m: m["plans"][0].pop("components"),
         r"plans\[0\]\.components is missing"),
        ("no runtime", lambda m: comp(m).pop("requiredRuntime"),
         r"plans\[0\]\.components\[0\]\.requiredRuntime is missing"),
        ("bad runtime", lambda m: comp(m).update(requiredRuntime="edge"),
         r"requiredRuntime must be one of \['cloud', 'device'\], got 'edge'"),
        ("bad arch", lambda m: comp(m).update(architecture="riscv"),
         r"components\[0\]\.architecture must be one of"),
        ("no executables", lambda m: comp(m).pop("executables"), r"executables is missing"),
        ("cloud without image", lambda m: comp(m)["executables"][0].pop("docker"),
         r"executables\[0\]\.docker is missing"),
        ("bad cmd", lambda m: comp(m)["executables"][0].update(cmd="ls"),
         r"executables\[0\]\.cmd must be a list of strings"),
        ("param without name", lambda m: comp(m).update(parameters=[{"default": 1}]),
         r"parameters\[0\]\.name is missing"),
        ("duplicate component",
         lambda m: m["plans"][0]["components"].append(copy_manifest(comp(m))),
         r"components\[1\]\.name 'talker' is used twice"),
        ("not a dict", None, r"manifest must be a dict"),
    ]
    return cases


@pytest.mark.parametrize("label, breaker, message", _breakers(), ids=[c[0] for c in _breakers()])
def test_invalid_manifest_refused_before_any_request(
    sandbox: Sandbox, client: Client, label: str, breaker: Any, message: str
) -> None:
    manifest: Any = cloud_manifest()
    if breaker is None:
        manifest = ["not", "a", "dict"]
    else:
        breaker(manifest)
    before = sandbox.app.requests_seen
    with pytest.raises(InvalidParameterException, match=message):
        client.create_package(manifest)
    assert sandbox.app.requests_seen == before


def test_device_component_needs_architecture(sandbox: Sandbox, client: Client) -> None:
    m = device_manifest()
    m["plans"][0]["components"][0].pop("architecture")
    with pytest.raises(InvalidParameterException, match="architecture is missing"):
        client.create_package(m)
    assert sandbox.app.requests_seen == 0


def test_unknown_plan_and_bad_ids(sandbox: Sandbox, client: Client) -> None:
    pkg = client.get_package(client.create_package(cloud_manifest())["packageId"])
    with pytest.raises(PlanNotFound, match="nope"):
        pkg.get_provision_configuration("nope")
    before = sandbox.app.requests_seen
    with pytest.raises(InvalidParameterException, match="package_id must be a non-empty string"):
        client.delete_package("")
    with pytest.raises(InvalidParameterException, match="package_id"):
        client.get_package(123)  # type: ignore[arg-type]
    assert sandbox.app.requests_seen == before
