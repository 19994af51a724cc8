"""Builds with our client against the sandbox: states, trigger/rollback, use by executables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pytest_robofixtures.rapyuta import (
    Build,
    BuildFailed,
    BuildOperation,
    BuildOperationFailed,
    BuildOperationInfo,
    BuildOptions,
    BuildStatus,
    CatkinOption,
    Client,
    DeviceArch,
    InvalidParameterException,
    RetriesExhausted,
    ROSDistro,
    Secret,
    SecretConfigDocker,
    StrategyType,
)
from pytest_robofixtures.rapyuta.errors import (
    BadRequestError,
    ConflictError,
    ResourceNotFoundError,
)

from ._families import FAST, our_client, ros_cloud_manifest
from ._support import Sandbox

REPO = "https://github.com/rapyuta/io_tutorials"


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    c = our_client(sandbox)
    yield c
    c.close()


def _ros_build(name: str = "talker-build", **kw: Any) -> Build:
    return Build(name, StrategyType.SOURCE, REPO, DeviceArch.AMD64, rosDistro=ROSDistro.MELODIC,
                 isRos=True, contextDir="talk/talker", branch="master",
                 buildOptions=BuildOptions([CatkinOption(rosPkgs="talker")]), **kw)


def _manifest_with_build(guid: str) -> dict[str, Any]:
    manifest = ros_cloud_manifest()
    exe = manifest["plans"][0]["components"][0]["executables"][0]
    del exe["docker"]
    exe["buildGUID"] = guid
    return manifest


def test_build_states_and_use_by_an_executable(client: Client, sandbox: Sandbox) -> None:
    created: list[str] = []
    build = client.create_build(_ros_build(), on_created=created.append)
    assert created == [build.guid]
    assert build.status in (BuildStatus.BUILD_IN_PROGRESS, BuildStatus.COMPLETE)
    assert build.buildInfo.strategyType is StrategyType.SOURCE
    assert build.buildInfo.buildOptions.catkinOptions[0].rosPkgs == "talker"
    pkg = client.get_package(client.create_package(_manifest_with_build(build.guid))
                             ["packageId"])
    build.poll_build_till_ready(**FAST)
    assert build.status == BuildStatus.COMPLETE and build.buildGeneration == 1
    dep = pkg.provision("built", pkg.get_provision_configuration())
    dep.poll_deployment_till_ready(**FAST)
    with pytest.raises(ConflictError, match="used by deployments"):
        client.delete_build(build.guid)

    build.trigger(triggerName="second")
    assert build.buildGeneration == 2
    build.poll_build_till_ready(**FAST)
    full = client.get_build(build.guid, include_build_requests=True)
    assert [r["buildGenerationNumber"] for r in full.buildRequests] == [1, 2]
    assert full.buildRequests[1]["triggerName"] == "second"
    build.rollback(1)
    assert client.get_build(build.guid).buildGeneration == 1
    answer = client.trigger_build(BuildOperation([BuildOperationInfo(build.guid)]))
    assert answer["buildOperationResponse"][0]["buildGenerationNumber"] == 3
    assert sandbox.app.live_resources()["builds"] == [{"id": build.guid, "name": "talker-build"}]

    dep.deprovision()
    build.delete()
    assert client.list_builds() == []
    with pytest.raises(ResourceNotFoundError):
        client.get_build(build.guid)


def test_while_in_progress(make_sandbox: Any) -> None:
    # a sandbox whose builds take 60 s: "in progress" holds however slow this machine is
    slow = make_sandbox(delay=60.0)
    client = our_client(slow)
    build = client.create_build(_ros_build())
    assert build.status == BuildStatus.BUILD_IN_PROGRESS
    pkg = client.get_package(client.create_package(_manifest_with_build(build.guid))
                             ["packageId"])
    with pytest.raises(BadRequestError, match="BuildInProgress, not Complete"):
        pkg.provision("too-early", pkg.get_provision_configuration())
    with pytest.raises(BuildOperationFailed, match="in progress"):
        build.trigger()
    assert [b.guid for b in client.list_builds(statuses=[BuildStatus.BUILD_IN_PROGRESS])] == [
        build.guid]
    assert client.list_builds(statuses=[BuildStatus.COMPLETE]) == []
    with pytest.raises(RetriesExhausted, match="last status BuildInProgress"):
        build.poll_build_till_ready(sleep_interval=0.05, timeout=0.3)
    client.close()


def test_failed_build_and_save(client: Client, sandbox: Sandbox) -> None:
    sandbox.app.families.fail_next_build()
    build = client.create_build(_ros_build("fails"))
    with pytest.raises(BuildFailed, match="failed"):
        build.poll_build_till_ready(**FAST)
    answer = client.rollback_build(BuildOperation([BuildOperationInfo(build.guid, 1)]))
    assert answer["buildOperationResponse"][0]["success"] is False
    build.buildInfo.branch = "devel"
    build.save()
    assert client.get_build(build.guid).buildInfo.branch == "devel"
    build.trigger()
    build.poll_build_till_ready(**FAST)
    assert build.status == BuildStatus.COMPLETE


def test_secrets_of_builds(client: Client) -> None:
    push = client.create_secret(Secret("push-secret", SecretConfigDocker("u", "p", "e@x.io")))
    build = client.create_build(Build(
        "docker-build", StrategyType.DOCKER, REPO, DeviceArch.ARM64V8,
        dockerFilePath="Dockerfile", dockerPushSecret=push.guid,
        dockerPushRepository="quay.io/me/img", tagName="v1"), refresh=False)
    assert build.guid and "status" not in build
    with pytest.raises(BadRequestError, match="secret secret-nope not found"):
        client.create_build(Build("b2", StrategyType.DOCKER, REPO, DeviceArch.AMD64,
                                  dockerPullSecret="secret-nope"))


def test_errors(client: Client, sandbox: Sandbox) -> None:
    with pytest.raises(InvalidParameterException, match="cannot use dockerFilePath"):
        Build("b", StrategyType.SOURCE, REPO, DeviceArch.AMD64, dockerFilePath="Dockerfile")
    with pytest.raises(InvalidParameterException, match="rosDistro must not be set"):
        Build("b", StrategyType.SOURCE, REPO, DeviceArch.AMD64, rosDistro=ROSDistro.NOETIC)
    with pytest.raises(InvalidParameterException, match="both dockerPushRepository"):
        Build("b", StrategyType.DOCKER, REPO, DeviceArch.AMD64, dockerPushSecret="s")
    with pytest.raises(InvalidParameterException, match="StrategyType"):
        Build("b", "Nix", REPO, DeviceArch.AMD64)
    with pytest.raises(InvalidParameterException, match="BuildStatus"):
        client.list_builds(statuses=["Done"])  # type: ignore[list-item]
    with pytest.raises(InvalidParameterException, match="greater than 0"):
        client.create_build(_ros_build("r"), refresh=False).rollback(0)
    with pytest.raises(ConflictError, match="already exists"):
        client.create_build(_ros_build("r"))
    bad = sandbox.post("/build", json={"buildName": "x", "strategyType": "Source",
                                       "repository": "not a url", "architecture": "amd64"})
    assert bad.status_code == 400 and "git URL" in bad.json()["error"]
    pkg = client.get_package(client.create_package(_manifest_with_build("build-nope"))
                             ["packageId"])
    with pytest.raises(BadRequestError, match="build build-nope not found"):
        pkg.provision("no-build", pkg.get_provision_configuration())
