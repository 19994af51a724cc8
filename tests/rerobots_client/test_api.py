"""APIClient against the rerobots sandbox over real HTTP: calls, wire format, error mapping."""

from __future__ import annotations

import json
import socket

import pytest
import rerobots.api as official

from pytest_robofixtures.rerobots import (
    APIClient,
    APIConnectionError,
    BusyWorkspaceDeployment,
    BusyWorkspaceInstance,
    Error,
    InstanceNotFound,
    MissingAPIToken,
    WrongAuthToken,
)
from pytest_robofixtures.sim._wsgi import FaultRule

NULL_A = "dcb05d0b-d0a5-59cc-90be-1b9091978d02"
NULL_B = "b510ff34-418a-54cc-8562-8927b9501cdd"
MISTY = "88cc70b9-0b83-55e9-9900-434800e14856"


def test_list_and_info(apic):
    deployments = apic.get_wdeployments()
    assert {d["id"] for d in deployments} >= {NULL_A, NULL_B, MISTY}
    assert all(set(d) == {"id", "type", "region", "queuelen"} for d in deployments)
    nulls = apic.get_wdeployments(types=["null"])
    assert sorted(d["id"] for d in nulls) == sorted([NULL_A, NULL_B])
    page, count = apic.get_wdeployments(max_per_page=1, page=1)
    assert len(page) == 1 and count == len(deployments)
    info = apic.get_wdeployment_info(MISTY)
    assert info["type"] == "fixed_misty2"
    assert set(info["supported_addons"]) == {"cam", "mistyproxy", "drive"}
    assert "null" in apic.get_wtypes()
    assert apic.get_instances() == []


def test_same_requests_on_the_wire_as_the_official_client(sandbox, wire):
    ours = sandbox.client()
    theirs = official.APIClient(api_token=sandbox.token, base_uri=sandbox.url, ignore_env=True)

    def calls(c, err):
        c.get_wdeployments(query="null", maxlen=0, types=["null", "fixed_misty2"], page=2,
                           max_per_page=5)
        c.get_wdeployments(page=3)  # page without max_per_page is dropped
        c.get_wdeployment_info(NULL_A)
        c.get_instances(include_terminated=True, max_per_page=10, page=1)
        with pytest.raises(err):
            c.request_instance(MISTY, sshkey="not a key", vpn=True, duration=60,
                               event_url="http://127.0.0.1/e")
        with pytest.raises(err):
            c.get_instance_info("nope")
        with pytest.raises(err):
            c.terminate_instance("nope")
        for addon in ("cam", "mistyproxy"):
            getattr(c, f"status_addon_{addon}")("nope")
            with pytest.raises(err):
                getattr(c, f"activate_addon_{addon}")("nope")
            with pytest.raises(err):
                getattr(c, f"deactivate_addon_{addon}")("nope")
        with pytest.raises(err):
            c.get_snapshot_cam("nope", camera_id=1)
        with pytest.raises(err):
            c.get_vpn_newclient("nope")

    calls(theirs, official.Error)
    theirs_seen = list(wire)
    wire.clear()
    calls(ours, Error)
    assert wire == theirs_seen
    new = [r for r in wire if r["path"].startswith("/new/")][0]
    assert new["content_type"] is None  # 0.11.0 posts a JSON string with no Content-Type
    assert json.loads(new["body"]) == {
        "sshkey": "not a key", "expire_d": 60, "vpn": True, "reserve": False,
        "eurl": "http://127.0.0.1/e",
    }
    assert "info=t" in wire[0]["query"]


def test_default_request_body_and_base_uri_trailing_slash(sandbox, wire):
    apic = APIClient(api_token=sandbox.token, base_uri=sandbox.url + "/", ignore_env=True)
    assert apic.base_uri == sandbox.url
    reply = apic.request_instance(NULL_A)
    assert reply["success"] is True and reply["id"]
    assert "PRIVATE KEY" in reply["sshkey"]
    assert [r["path"] for r in wire] == [f"/new/{NULL_A}"]
    assert json.loads(wire[0]["body"]) == {"reserve": False}
    assert wire[0]["auth"] == f"Bearer {sandbox.token}"
    assert apic.get_instances() == [reply["id"]]


def test_token_from_environment(sandbox, monkeypatch):
    monkeypatch.setenv("REROBOTS_API_TOKEN", sandbox.token + "\n")  # as read from a file
    assert APIClient(base_uri=sandbox.url).get_instances() == []
    with pytest.raises(MissingAPIToken):
        APIClient(base_uri=sandbox.url, ignore_env=True).get_instances()


def test_missing_token_fails_before_any_request(sandbox, monkeypatch):
    monkeypatch.delenv("REROBOTS_API_TOKEN", raising=False)
    apic = APIClient(base_uri=sandbox.url)
    before = sandbox.app.requests_seen
    for call in (
        apic.get_instances,
        lambda: apic.get_instance_info("x"),
        lambda: apic.request_instance(NULL_A),
        lambda: apic.terminate_instance("x"),
        lambda: apic.get_snapshot_cam("x"),
    ):
        with pytest.raises(MissingAPIToken, match="REROBOTS_API_TOKEN"):
            call()
    assert sandbox.app.requests_seen == before
    # A call that may go out anonymously and is refused says the same.
    with pytest.raises(MissingAPIToken, match="REROBOTS_API_TOKEN"):
        apic.get_wdeployments()


def test_wrong_token(sandbox):
    apic = sandbox.client(api_token="not-the-token")
    with pytest.raises(WrongAuthToken) as info:
        apic.get_instances()
    assert info.value.status == 400
    assert "GET /instances" in str(info.value) and "400" in str(info.value)
    assert "wrong authorization token" in str(info.value)
    # Family A calls keep 0.11.0's plain Error, with a hint.
    with pytest.raises(Error, match="REROBOTS_API_TOKEN") as info2:
        apic.get_wdeployments()
    assert not isinstance(info2.value, WrongAuthToken)
    assert official.WrongAuthToken  # the official name exists too (compatibility reference)


def test_instance_not_found(apic):
    with pytest.raises(InstanceNotFound) as info:
        apic.get_instance_info("0000-missing")
    msg = str(info.value)
    assert "no instance with identifier 0000-missing" in msg
    assert "GET /instance/0000-missing" in msg and "404" in msg
    assert info.value.status == 404
    with pytest.raises(InstanceNotFound):
        apic.terminate_instance("0000-missing")


def test_busy_deployment(sandbox, apic):
    sandbox.app.set_busy(NULL_A)
    with pytest.raises(BusyWorkspaceDeployment) as info:
        apic.request_instance(NULL_A)
    assert info.value.status == 503 and f"POST /new/{NULL_A}" in str(info.value)
    first = apic.request_instance(NULL_B)
    with pytest.raises(BusyWorkspaceDeployment):
        apic.request_instance(NULL_B)  # one instance per deployment
    with pytest.raises(BusyWorkspaceDeployment):
        apic.request_instance("null")  # by type: every null deployment is taken
    assert apic.get_instances() == [first["id"]]


def test_busy_instance_during_init(sandbox, apic):
    sandbox.app.stick_next_instance()  # stays INIT, whatever the machine's load
    reply = apic.request_instance(NULL_A)
    with pytest.raises(BusyWorkspaceInstance, match="This instance is busy"):
        apic.terminate_instance(reply["id"])


def test_unknown_deployment_is_plain_error(apic):
    with pytest.raises(Error, match="POST /new/no-such-thing -> HTTP 404") as info:
        apic.request_instance("no-such-thing")
    assert type(info.value) is Error


def test_addon_status_notfound_and_snapshot_without_cam(apic):
    assert apic.status_addon_cam("nope") == {"status": "notfound"}
    assert apic.status_addon_mistyproxy("nope") == {"status": "notfound"}
    with pytest.raises(Error, match="cam add-on not active"):
        apic.get_snapshot_cam("nope")
    with pytest.raises(ValueError, match="dformat"):
        apic.get_snapshot_cam("nope", dformat="png")
    with pytest.raises(ValueError, match="coding=None"):
        apic.get_snapshot_cam("nope", coding="base64", dformat="ndarray")


def test_idempotent_calls_retry_5xx_but_new_is_never_repeated(sandbox, apic, wire):
    sandbox.app.faults.add(FaultRule(kind="status", status=503, method="GET",
                                     path="^/instances$", count=2))
    assert apic.get_instances() == []
    assert [r["path"] for r in wire] == ["/instances"] * 3
    wire.clear()
    sandbox.app.faults.add(FaultRule(kind="status", status=502, method="POST",
                                     path="^/new/", count=1))
    with pytest.raises(Error, match="502"):
        apic.request_instance(NULL_A)
    assert [r["path"] for r in wire] == [f"/new/{NULL_A}"]  # no second instance from a retry
    assert apic.get_instances() == []


def test_connection_refused(sandbox):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    apic = APIClient(api_token="t", base_uri=f"http://127.0.0.1:{port}", retries=0,
                     timeout=2)
    with pytest.raises(APIConnectionError, match=f"GET http://127.0.0.1:{port}/instances"):
        apic.get_instances()


def test_bad_base_uri():
    with pytest.raises(ValueError, match="base_uri must start with http"):
        APIClient(api_token="t", base_uri="api.rerobots.net")


def test_repr_hides_token(sandbox):
    apic = sandbox.client()
    assert sandbox.token not in repr(apic)
