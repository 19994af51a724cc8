"""The SDK's ready/failed decision rules (reference §3.3) that the pollers apply."""

from __future__ import annotations

import pytest

from pytest_robofixtures.rapyuta import DeploymentNotRunningException
from pytest_robofixtures.rapyuta._poll import is_ready


@pytest.mark.parametrize("status, ready_phases, expected", [
    ({"phase": "Succeeded", "status": "Running"}, (), True),
    ({"phase": "Succeeded", "status": "Available"}, (), True),
    ({"phase": "Succeeded", "status": "Released"}, (), True),
    ({"phase": "Succeeded", "status": "Pending"}, (), False),
    ({"phase": "In progress", "status": "Pending"}, (), False),
    ({"phase": "Provisioning", "status": "Pending", "errors": []}, (), False),
    ({"phase": "Provisioning", "status": "Pending", "errors": None}, (), False),
    ({"phase": "Provisioning", "status": "Pending"}, ("Provisioning",), True),
])
def test_progressing_states(status: dict[str, object], ready_phases: tuple[str, ...],
                            expected: bool) -> None:
    assert is_ready(status, ready_phases) is expected


@pytest.mark.parametrize("status", [
    {"phase": "Failed to start", "status": "Error", "errors": ["DEP_E151"]},
    {"phase": "Provisioning", "status": "Pending", "errors": ["DEP_E153"]},  # image pull error
    {"phase": "Partially deprovisioned", "status": "Pending", "errors": []},
    {"phase": "Deployment stopped", "status": "Stopped", "errors": []},
    {"phase": "succeeded", "status": "running", "errors": []},  # not a wire value
])
def test_states_that_will_not_progress(status: dict[str, object]) -> None:
    with pytest.raises(DeploymentNotRunningException, match="Deployment might not progress") as e:
        is_ready(status)
    assert e.value.deployment_status is status
