"""Firewall, access rules, reservations, tokens and the type check of Instance, on the sandbox."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import rerobots.api as official

from pytest_robofixtures.rerobots import (
    READY,
    APIClient,
    Error,
    Instance,
    SSHError,
    WrongAuthToken,
)

from .conftest import SandboxInfo
from .test_api import MISTY, NULL_A, NULL_B


@pytest.fixture
def ready(apic: APIClient):
    inst = Instance(wdeployment_id=NULL_A, apic=apic)
    inst.wait_until_ready(timeout=30)
    yield inst
    inst.terminate(wait=True, timeout=30)


def _ssh_ok(inst: Instance) -> bool:
    try:
        inst.start_sshclient()
    except SSHError:
        return False
    try:
        return inst.ssh.exec("echo hi").stdout == b"hi\n"
    finally:
        inst.stop_sshclient()


def test_firewall_rules_filter_ssh(sandbox: SandboxInfo, ready: Instance) -> None:
    assert ready.get_firewall_rules() == []
    assert _ssh_ok(ready)
    ready.add_firewall_rule("DROP", source_address="127.0.0.0/8")
    assert ready.get_firewall_rules() == [{"src": "127.0.0.0/8", "action": "DROP"}]
    assert not _ssh_ok(ready)  # the sandbox's sshd closes connections the rules refuse
    ready.flush_firewall_rules()
    assert ready.get_firewall_rules() == [] and _ssh_ok(ready)
    # The first matching rule decides: loopback accepted before "reject everyone".
    ready.add_firewall_rule("ACCEPT", "127.0.0.1/32")
    ready.add_firewall_rule("REJECT")
    assert ready.get_firewall_rules() == [
        {"src": "127.0.0.1/32", "action": "ACCEPT"}, {"action": "REJECT"},
    ]
    assert _ssh_ok(ready)
    ready.flush_firewall_rules()


def test_firewall_errors(sandbox: SandboxInfo, apic: APIClient, ready: Instance) -> None:
    before = sandbox.app.requests_seen
    with pytest.raises(Error, match="unrecognized firewall action"):
        ready.add_firewall_rule("ALLOW")
    assert sandbox.app.requests_seen == before  # refused before any request, as 0.11.0 does
    with pytest.raises(Error, match="not an address or CIDR"):
        ready.add_firewall_rule("DROP", "not-a-network")
    with pytest.raises(Error, match="instance not found"):
        apic.get_firewall_rules("no-such-instance")
    with pytest.raises(Error, match="instance not found"):
        apic.flush_firewall_rules("no-such-instance")


def test_access_rules_decide_who_instantiates(apic: APIClient, sandbox: SandboxInfo) -> None:
    user = sandbox.app.user
    assert apic.get_access_rules() == []
    nobody = apic.create_access_rule(NULL_A, "CAP_NO_INSTANTIATE")
    [rule] = apic.get_access_rules(NULL_A)
    assert rule["id"] == nobody and rule["capability"] == "CAP_NO_INSTANTIATE"
    assert rule["wdeployment_id"] == NULL_A and rule["user"] == "*"
    assert set(rule) == {"id", "date_created", "user", "wdeployment_id", "capability", "param"}
    with pytest.raises(Error, match="not permitted"):
        Instance(wdeployment_id=NULL_A, apic=apic)
    # A rule naming this user wins over the one for everyone.
    mine = apic.create_access_rule(NULL_A, "CAP_INSTANTIATE", to_user=user)
    assert [r["id"] for r in apic.get_access_rules(to_user=user)] == [mine]
    assert [r["id"] for r in apic.get_access_rules()] == [nobody, mine]
    inst = Instance(wdeployment_id=NULL_A, apic=apic)
    assert [r["id"] for r in inst.get_access_rules()] == [nobody, mine]
    inst.del_access_rule(mine)
    other = inst.create_access_rule("CAP_NO_INSTANTIATE", to_user="someone-else")
    assert [r["id"] for r in inst.get_access_rules(to_user="someone-else")] == [other]
    inst.wait_until_ready(timeout=30)
    inst.terminate(wait=True, timeout=30)
    with pytest.raises(Error, match="not permitted"):
        Instance(wdeployment_id=NULL_A, apic=apic)
    apic.del_access_rule(NULL_A, nobody)
    apic.del_access_rule(NULL_A, other)
    assert apic.get_access_rules() == []
    with pytest.raises(Error, match="404"):
        apic.del_access_rule(NULL_A, nobody)
    with pytest.raises(Error, match="unrecognized capability"):
        apic.create_access_rule(NULL_A, "CAP_EVERYTHING")
    with pytest.raises(Error, match="404"):
        apic.create_access_rule("no-such-deployment", "CAP_INSTANTIATE")


def test_reservation_is_fulfilled_when_the_deployment_frees(apic: APIClient) -> None:
    holder = Instance(wdeployment_id=MISTY, apic=apic)
    reply = apic.request_instance(MISTY, reserve=True)
    assert reply["success"] is False
    rid = reply["id"]
    [res] = apic.get_reservations()
    assert res["id"] == rid and res["target"] == MISTY
    # A second one, cancelled.
    second = apic.request_instance(MISTY, reserve=True)["id"]
    apic.cancel_reservation(second)
    assert [r["id"] for r in apic.get_reservations()] == [rid]
    with pytest.raises(Error, match="reservation not found"):
        apic.cancel_reservation(second)
    holder.wait_until_ready(timeout=30)
    holder.terminate(wait=True, timeout=30)
    # The deployment is free: the reservation became an instance.
    assert apic.get_reservations() == []
    [found] = apic.find_instances(MISTY)
    assert found["id"] != holder.id
    inst = Instance(instance_id=found["id"], apic=apic)
    inst.wait_until_ready(timeout=30)
    inst.terminate(wait=True, timeout=30)


def test_revoke_token_and_purge(sandbox: SandboxInfo, apic: APIClient) -> None:
    second = sandbox.app.issue_token()
    other = sandbox.client(api_token=second)
    assert other.get_instances() == []
    apic.revoke_token(token=second)
    with pytest.raises(WrongAuthToken):
        other.get_instances()
    assert apic.get_instances() == []  # the revoking client's own token still works
    third = sandbox.app.issue_token()
    apic.revoke_token(sha256=hashlib.sha256(third.encode()).hexdigest())
    with pytest.raises(WrongAuthToken):
        sandbox.client(api_token=third).get_instances()
    before = sandbox.app.requests_seen
    with pytest.raises(ValueError, match="non-None"):
        apic.revoke_token()
    with pytest.raises(ValueError, match="SHA256"):
        apic.revoke_token(token="a", sha256="0" * 64)
    assert sandbox.app.requests_seen == before
    with pytest.raises(Error, match="token not found"):
        apic.revoke_token(token="never-issued")
    fourth = sandbox.client(api_token=sandbox.app.issue_token())
    apic.purge()
    for client in (apic, fourth):
        with pytest.raises(WrongAuthToken):
            client.get_instances()


def test_instance_checks_the_type_of_the_deployment_it_was_given(
    sandbox: SandboxInfo, apic: APIClient
) -> None:
    before = sandbox.app.requests_seen
    with pytest.raises(ValueError, match="has type 'fixed_misty2'"):
        Instance(workspace_types=["null"], wdeployment_id=MISTY, apic=apic)
    assert sandbox.app.requests_seen == before + 1  # GET /deployment only: nothing was rented
    assert sandbox.app.live_resources()["instances"] == []
    inst = Instance(workspace_types="null", wdeployment_id=NULL_B, apic=apic)
    assert inst.wdeployment_id == NULL_B  # kept (0.11.0 would switch to the first candidate)
    with pytest.raises(ValueError, match="workspace type 'null'"):
        Instance(workspace_types=["fixed_misty2"], instance_id=inst.id, apic=apic)
    inst.wait_until_ready(timeout=30)
    assert inst.get_status() == READY
    inst.terminate(wait=True, timeout=30)


def test_new_routes_send_what_the_official_client_sends(
    sandbox: SandboxInfo, wire: list[dict[str, Any]]
) -> None:
    ours = sandbox.client()
    theirs = official.APIClient(api_token=sandbox.token, base_uri=sandbox.url, ignore_env=True)

    def calls(c: Any, err: type[Exception]) -> None:
        for call in (
            lambda: c.get_firewall_rules("nope"),
            lambda: c.add_firewall_rule("nope", "DROP", source_address="10.0.0.0/8"),
            lambda: c.add_firewall_rule("nope", "ACCEPT"),
            lambda: c.flush_firewall_rules("nope"),
            lambda: c.del_access_rule(NULL_A, 99),
            lambda: c.cancel_reservation("nope"),
            lambda: c.revoke_token(token="never-issued"),
            lambda: c.activate_addon_vnc("nope"),
            lambda: c.start_addon_vnc("nope"),
            lambda: c.stop_addon_vnc("nope"),
            lambda: c.deactivate_addon_vnc("nope"),
        ):
            with pytest.raises(err):
                call()
        assert c.status_addon_vnc("nope") == {"status": "notfound"}
        assert c.get_access_rules() == []
        assert c.get_access_rules(wdeployment_id=NULL_A, to_user="u") == []
        assert c.get_reservations() == []
        rid = c.create_access_rule(NULL_B, "CAP_INSTANTIATE", to_user="u")
        c.del_access_rule(NULL_B, rid)
        c.revoke_token(sha256=hashlib.sha256(sandbox.app.issue_token().encode()).hexdigest())

    calls(theirs, official.Error)
    theirs_seen = list(wire)
    wire.clear()
    calls(ours, Error)
    # Token hashes and rule ids differ between the two runs; everything else is equal.
    def same(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {**r, "path": r["path"].rsplit("/", 1)[0]}
            if r["path"].startswith(("/revoke/", f"/deployment/{NULL_B}/rule/")) else r
            for r in rows
        ]

    assert same(wire) == same(theirs_seen)
    add = [r for r in wire if r["method"] == "POST" and r["path"] == "/firewall/nope"]
    assert add[0]["body"] == '{"src": "10.0.0.0/8", "action": "DROP"}'
    assert add[0]["content_type"] is None and add[1]["body"] == '{"action": "ACCEPT"}'


def test_ci_projects_and_jobs(sandbox: SandboxInfo, apic: APIClient) -> None:
    theirs = official.APIClient(api_token=sandbox.token, base_uri=sandbox.url, ignore_env=True)
    assert apic.get_ci_projects() == theirs.get_ci_projects() == {"projects": []}
    pid = apic.create_ci_project("https://example.org/robot.git")
    other = theirs.create_ci_project("https://example.org/other.git")
    jid = apic.submit_ci_job(pid, "main", "0123abc")
    assert theirs.submit_ci_job(other, "dev", "fedcba9") != jid
    projects = {p["id"]: p for p in theirs.get_ci_projects()["projects"]}
    assert projects[pid]["repo_url"] == "https://example.org/robot.git"
    assert projects[pid]["jobs"] == [{"id": jid, "branch": "main", "commit": "0123abc"}]
    with pytest.raises(Error, match="not found"):
        apic.submit_ci_job("no-such-project", "main", "0123abc")
    with pytest.raises(official.Error, match="not found"):
        theirs.submit_ci_job("no-such-project", "main", "0123abc")
    with pytest.raises(Error, match="repo_url"):
        apic.create_ci_project("")
    with pytest.raises(WrongAuthToken):
        sandbox.client(api_token="wrong").get_ci_projects()
