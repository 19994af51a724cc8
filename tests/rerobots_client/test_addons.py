"""Add-ons waited until usable, on_created, and finding instances after a lost create reply."""

from __future__ import annotations

import pytest
import requests

from pytest_robofixtures.common.clock import VirtualClock
from pytest_robofixtures.rerobots import (
    READY,
    APIClient,
    Error,
    Instance,
    InstanceNotReady,
    WaitTimeout,
)
from pytest_robofixtures.rerobots.instance import addon_ready
from pytest_robofixtures.sim._wsgi import FaultRule

from .conftest import SandboxInfo
from .test_api import MISTY, NULL_A, NULL_B


@pytest.fixture
def misty(apic: APIClient):
    inst = Instance(wdeployment_id=MISTY, apic=apic)
    inst.wait_until_ready(timeout=30)
    yield inst
    inst.terminate(wait=True, timeout=30)


def test_mistyproxy_wait_returns_active_with_urls(misty: Instance) -> None:
    seen: list[str] = []
    payload = misty.activate_addon_mistyproxy(
        wait=True, timeout=30, on_change=lambda state, _t: seen.append(state)
    )
    assert payload is not None and payload["status"] == "active"
    http_url, https_url = payload["url"]
    assert https_url.startswith("https://") and http_url.startswith("http://")
    # Right after the return, with no further wait, the service agrees.
    assert misty.status_addon_mistyproxy() == payload
    assert seen[-1] == "active" and set(seen) <= {"starting", "active"}
    # The proxy URL answers (the sandbox serves the http one itself).
    res = requests.get(http_url + "/api/device", timeout=10)
    assert res.status_code == 200 and res.json()["status"] == "Success"


def test_activate_addon_is_idempotent_and_cam_snapshots_at_once(misty: Instance) -> None:
    first = misty.activate_addon("cam", timeout=30)
    assert first["status"] == "active"
    assert misty.activate_addon("cam", timeout=30)["status"] == "active"
    assert misty.camera.snapshot().shape[2] == 3  # usable the moment activate returned
    # mistyproxy answers "already applied" to a second POST; activate_addon treats it as done.
    misty.activate_addon_mistyproxy()
    assert misty.activate_addon("mistyproxy", timeout=30)["status"] == "active"


def test_activate_without_wait_returns_the_current_state(misty: Instance) -> None:
    state = misty.activate_addon("drive", wait=False)
    assert state["status"] in ("starting", "active")
    assert misty.wait_for_addon("drive", timeout=30)["status"] == "active"


def test_vnc_addon(sandbox: SandboxInfo, apic: APIClient) -> None:
    inst = Instance(wdeployment_id=NULL_A, apic=apic)
    try:
        inst.wait_until_ready(timeout=30)
        assert inst.status_addon_vnc() == {"status": "notfound"}
        assert inst.activate_addon_vnc() is None  # the 0.11.0 shape: no wait, no value
        assert inst.wait_for_addon("vnc", timeout=30) == {"status": "active"}
        inst.start_addon_vnc()
        [vnc] = [a for a in sandbox.app.live_resources()["addons"] if a["addon"] == "vnc"]
        assert vnc["running"] is True
        inst.stop_addon_vnc()
        [vnc] = [a for a in sandbox.app.live_resources()["addons"] if a["addon"] == "vnc"]
        assert vnc["running"] is False
        inst.deactivate_addon_vnc()
        assert inst.status_addon_vnc() == {"status": "notfound"}
        with pytest.raises(Error, match="not applied"):
            inst.start_addon_vnc()
    finally:
        inst.terminate(wait=True, timeout=30)


def test_unsupported_and_unknown_addons(misty: Instance) -> None:
    with pytest.raises(Error, match="not supported"):
        misty.activate_addon("vnc")  # the Misty deployment has no VNC
    with pytest.raises(ValueError, match="unknown add-on"):
        misty.activate_addon("teleport")
    with pytest.raises(ValueError, match="unknown add-on"):
        misty.wait_for_addon("teleport")


def test_waiting_for_an_addon_never_applied_times_out_on_the_clock(
    apic: APIClient, misty: Instance
) -> None:
    clock = VirtualClock()
    attached = Instance(instance_id=misty.id, apic=apic, clock=clock)
    with pytest.raises(WaitTimeout, match="not applied") as info:
        attached.wait_for_addon("cam", timeout=20)
    assert info.value.last == {"status": "notfound"} and info.value.polls > 1
    assert clock.slept >= 20  # virtual seconds: the wait cost no real time


def test_waiting_for_an_addon_of_a_terminated_instance_fails_at_once(apic: APIClient) -> None:
    inst = Instance(wdeployment_id=NULL_B, apic=apic)
    inst.wait_until_ready(timeout=30)
    inst.terminate(wait=True, timeout=30)
    with pytest.raises(InstanceNotReady, match="TERMINATED"):
        inst.wait_for_addon("cam", timeout=300)


def test_addon_ready_needs_the_proxy_urls() -> None:
    assert addon_ready("cam", {"status": "active"})
    assert not addon_ready("cam", {"status": "starting"})
    assert not addon_ready("mistyproxy", {"status": "active"})
    assert not addon_ready("mistyproxy", {"status": "active", "url": ["http://x"]})
    assert addon_ready("mistyproxy", {"status": "active", "url": ["http://x", "https://x"]})


def test_on_created_runs_before_any_read(sandbox: SandboxInfo, apic: APIClient) -> None:
    seen: list[tuple[str, int, bool]] = []

    def created(iid: str) -> None:
        seen.append((iid, sandbox.app.requests_seen, iid in sandbox.app.instances))

    # Every status read fails from now on: the caller still learnt the id.
    sandbox.app.faults.add(FaultRule(kind="status", status=500, method="GET", path="^/instance/"))
    inst = Instance(["null"], apic=apic, on_created=created)
    assert seen == [(inst.id, 2, True)]  # GET /deployments, POST /new, nothing else
    with pytest.raises(Error, match="500"):
        inst.wait_until_ready(timeout=30)
    sandbox.app.faults.clear()
    inst.wait_until_ready(timeout=30)
    inst.terminate(wait=True, timeout=30)


def test_find_instances_reconciles_a_lost_create(sandbox: SandboxInfo, apic: APIClient) -> None:
    assert apic.find_instances(NULL_A) == []
    # A create whose reply never arrived: the instance exists, the caller has no id.
    lost = apic.request_instance(NULL_A)["id"]
    other = Instance(wdeployment_id=NULL_B, apic=apic)
    [found] = apic.find_instances(NULL_A, per_page=1)  # walks both pages
    assert found["id"] == lost and found["deployment"] == NULL_A
    assert found["status"] in ("INIT", READY)
    assert {i["id"] for i in apic.find_instances(per_page=1)} == {lost, other.id}
    adopted = Instance(instance_id=lost, apic=apic)
    adopted.wait_until_ready(timeout=30)
    adopted.terminate(wait=True, timeout=30)
    assert apic.find_instances(NULL_A) == []
    assert [i["id"] for i in apic.find_instances(NULL_A, statuses=None)] == [lost]
    assert [i["status"] for i in apic.find_instances(NULL_A, statuses=["TERMINATED"])] == [
        "TERMINATED"
    ]
    other.wait_until_ready(timeout=30)
    other.terminate(wait=True, timeout=30)


def test_on_request_names_each_deployment_before_its_post(
    sandbox: SandboxInfo, apic: APIClient
) -> None:
    events: list[tuple[str, str, int]] = []
    sandbox.app.set_busy(NULL_A)
    inst = Instance(
        ["null"], apic=apic,
        on_request=lambda wdid: events.append(("request", wdid, len(sandbox.app.instances))),
        on_created=lambda iid: events.append(("created", iid, len(sandbox.app.instances))),
    )
    # NULL_A answered busy, NULL_B made the instance; each intent came before its POST.
    assert events == [("request", NULL_A, 0), ("request", NULL_B, 0), ("created", inst.id, 1)]
    assert apic.find_instances(NULL_B, exclude=[inst.id]) == []
    assert [i["id"] for i in apic.find_instances(NULL_B)] == [inst.id]
    inst.wait_until_ready(timeout=30)
    inst.terminate(wait=True, timeout=30)
