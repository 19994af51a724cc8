"""Deployment polling against the sandbox: ready, failed, stuck, ready_phases, timelines."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_robofixtures.common.clock import SystemClock, VirtualClock
from pytest_robofixtures.common.polling import poll
from pytest_robofixtures.rapyuta import (
    Client,
    DeploymentNotRunningException,
    DeploymentPhaseConstants,
    InvalidParameterException,
    ResourceNotFoundError,
    RetriesExhausted,
)

from ._support import Sandbox, cloud_manifest


def _deploy(client: Client, name: str = "dep") -> Any:
    pkg = client.get_package(client.create_package(cloud_manifest())["packageId"])
    return pkg.provision(name, pkg.get_provision_configuration())


def test_poll_ready_with_timeline(client: Client) -> None:
    dep = _deploy(client)
    timeline: list[tuple[str, str, float]] = []
    status = dep.poll_deployment_till_ready(
        sleep_interval=0.5, on_change=lambda s, t: timeline.append((s.phase, s.status, t)))
    assert status.componentInfo[0]["status"] == "Running"
    assert [(p, s) for p, s, _ in timeline][-1] == ("Succeeded", "Running")
    assert [t for _, _, t in timeline] == sorted(t for _, _, t in timeline)
    assert dep.status == "Running"  # the object is updated


def test_ready_phases_return_early(client: Client) -> None:
    dep = _deploy(client)
    status = dep.poll_deployment_till_ready(
        ready_phases=[DeploymentPhaseConstants.INPROGRESS, "Provisioning", "Succeeded"])
    assert status.phase in ("In progress", "Provisioning", "Succeeded")


def test_failed_deployment_raises_with_status(sandbox: Sandbox, client: Client) -> None:
    sandbox.app.fail_next_deployment("failed")
    dep = _deploy(client, "doomed")
    with pytest.raises(DeploymentNotRunningException) as info:
        dep.poll_deployment_till_ready(sleep_interval=0.5)
    status = info.value.deployment_status
    assert (status.phase, status.status, status.errors) == ("Failed to start", "Error",
                                                            ["DEP_E151"])
    assert str(info.value) == ("Deployment might not progress: phase=Failed to start "
                               "status=Error errors=['DEP_E151']")


def test_running_deployment_that_fails_later(sandbox: Sandbox, client: Client) -> None:
    dep = _deploy(client)
    dep.poll_deployment_till_ready(sleep_interval=0.5)
    sandbox.app.set_deployment_outcome(dep.deploymentId, "failed")
    with pytest.raises(DeploymentNotRunningException, match="Failed to start"):
        dep.poll_deployment_till_ready(sleep_interval=0.5)


def test_stuck_deployment_exhausts_with_last_state(sandbox: Sandbox) -> None:
    clock = VirtualClock()
    client = sandbox.client(clock=clock)
    sandbox.app.fail_next_deployment("stuck")
    dep = _deploy(client, "stuck-dep")
    poll(dep.get_status, lambda s: s.phase == "Provisioning", timeout=10, what="Provisioning",
         clock=SystemClock())
    polls_before = sandbox.app.requests_seen
    with pytest.raises(RetriesExhausted) as info:
        dep.poll_deployment_till_ready()  # SDK defaults: 50 x 6 s = 300 s (virtual here)
    msg = str(info.value)
    assert "deployment 'stuck-dep'" in msg and "timeout 300s" in msg
    assert msg.endswith("Last state: phase=Provisioning status=Pending errors=[]")
    assert info.value.last_status.phase == "Provisioning"
    assert clock.slept == pytest.approx(300.0)
    polls = sandbox.app.requests_seen - polls_before
    assert 50 < polls < 100  # adaptive start, then capped at 6 s


@pytest.mark.parametrize("kwargs, message", [
    ({"retry_count": 0}, "retry_count must be a positive int"),
    ({"sleep_interval": -1}, "sleep_interval must be a positive number"),
])
def test_bad_poll_arguments(sandbox: Sandbox, client: Client, kwargs: dict[str, Any],
                            message: str) -> None:
    dep = _deploy(client)
    before = sandbox.app.requests_seen
    with pytest.raises(InvalidParameterException, match=message):
        dep.poll_deployment_till_ready(**kwargs)
    assert sandbox.app.requests_seen == before


def test_list_filters_and_not_found(sandbox: Sandbox, client: Client) -> None:
    sandbox.app.fail_next_deployment("stuck")
    stuck = _deploy(client, "s")
    pkg = client.get_package(stuck.packageId)
    ok = pkg.provision("ok", pkg.get_provision_configuration())
    ok.poll_deployment_till_ready(sleep_interval=0.5)
    assert [d.name for d in client.get_all_deployments(phases=["Succeeded"])] == ["ok"]
    assert all(d.is_partial for d in client.get_all_deployments())
    with pytest.raises(InvalidParameterException, match="phase must be one of"):
        client.get_all_deployments(phases=["Running"])
    with pytest.raises(InvalidParameterException, match="invalid deviceID"):
        client.get_all_deployments(device_id=5)  # type: ignore[arg-type]
    with pytest.raises(ResourceNotFoundError, match="GET /serviceinstance/dep-nope returned 404"):
        client.get_deployment("dep-nope")
    ok.deprovision()
    with pytest.raises(ResourceNotFoundError, match="DELETE /v2/service_instances/"):
        ok.deprovision()
