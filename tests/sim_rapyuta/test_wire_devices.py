"""Device-manager half of the sandbox over real HTTP: envelope, devices, commands, logs."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_robofixtures.sim._wsgi import SimServer
from pytest_robofixtures.sim.rapyuta import (
    DEVICE_AMD64_DOCKER,
    DEVICE_ARM32,
    DEVICE_ARM64_PREINSTALLED,
    DEVICE_OFFLINE,
    RapyutaSim,
)

from ._support import DM, Sandbox, wait_for

DEV = DEVICE_AMD64_DOCKER


def run(sb: Sandbox, cmd: str, device: str = DEV, **extra: Any) -> requests.Response:
    return sb.post(f"{DM}/cmd/", json={"cmd": cmd, "device_ids": [device], **extra})


def test_device_list_and_get(sandbox: Sandbox) -> None:
    resp = sandbox.get(f"{DM}/devices/")
    body = resp.json()
    assert set(body) == {"status", "response"} and body["status"] == "success"
    devices = body["response"]["data"]
    assert {d["uuid"]: d["status"] for d in devices} == {
        DEVICE_AMD64_DOCKER: "ONLINE", DEVICE_ARM64_PREINSTALLED: "ONLINE",
        DEVICE_ARM32: "ONLINE", DEVICE_OFFLINE: "OFFLINE"}
    assert all(d["fingerprint"] for d in devices)
    named = sandbox.data(sandbox.get(f"{DM}/devices/", params={"name": "sim-arm32v7"}))
    assert [d["uuid"] for d in named] == [DEVICE_ARM32]
    assert sandbox.data(sandbox.get(f"{DM}/devices/", params={"name": "nope"})) == []

    dev = sandbox.data(sandbox.get(f"{DM}/devices/{DEVICE_ARM64_PREINSTALLED}"))
    for field in ("uuid", "name", "status", "description", "created_by", "registration_time",
                  "last_online", "error_code", "error_message", "username", "saltversion",
                  "host", "ip_interfaces", "lsb_distrib_description", "device_version",
                  "remote_update_script", "remote_update_log", "labels", "config_variables",
                  "deployments"):
        assert field in dev, field
    assert not any(k.startswith("_") for k in dev)
    assert dev["ip_interfaces"]["lo"] == ["127.0.0.1"] and "eth0" in dev["ip_interfaces"]
    config = {c["key"]: c["value"] for c in dev["config_variables"]}
    assert config["runtime"] == "preinstalled" and config["ros_distro"] == "melodic"
    assert config["ros_workspace"] == "/home/rapyuta/catkin_ws"
    assert all({"id", "key", "value", "type"} <= set(c) for c in dev["config_variables"])
    assert {lb["key"]: lb["value"] for lb in dev["labels"]} == {"site": "lab", "role": "arm"}
    missing = sandbox.get(f"{DM}/devices/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["error"]


@pytest.mark.parametrize("arches, expected", [
    (["arm32v7"], {DEVICE_ARM32}),
    (["arm64v8"], {DEVICE_ARM64_PREINSTALLED}),
    (["amd64"], {DEVICE_AMD64_DOCKER}),  # the OFFLINE amd64 device is not selected
    (["amd64", "arm32v7"], {DEVICE_AMD64_DOCKER, DEVICE_ARM32}),
])
def test_selection_query_by_arch(sandbox: Sandbox, arches: list[str], expected: set[str]) -> None:
    args = {"arm32v7": [{"operator": "$in", "args": ["cpuarch", "armv7"]}],
            "arm64v8": [{"operator": "$in", "args": ["cpuarch", "aarch64"]}],
            "amd64": [{"operator": "$eq", "args": ["cpuarch", "x86_64"]},
                      {"operator": "$eq", "args": ["cpuarch", "amd64"]}]}
    body = {"operator": "$or", "specs": {"operator": "$or",
                                         "args": [a for arch in arches for a in args[arch]]}}
    data = sandbox.data(sandbox.post(f"{DM}/selection/query/", json=body))
    assert {d["uuid"] for d in data} == expected
    assert sandbox.post(f"{DM}/selection/query/", json={"x": 1}).status_code == 400


def test_config_variables_crud(sandbox: Sandbox) -> None:
    base = f"{DM}/config_variables"
    added = sandbox.data(sandbox.post(f"{base}/device/{DEV}", json={"key": "SPEED", "value": "3"}))
    assert added["key"] == "SPEED" and added["value"] == "3" and isinstance(added["id"], int)
    assert sandbox.post(f"{base}/device/{DEV}", json={"key": "SPEED", "value": "4"}
                        ).status_code == 409
    assert sandbox.post(f"{base}/device/{DEV}", json={"key": "", "value": "4"}).status_code == 400
    assert sandbox.post(f"{base}/device/nope", json={"key": "A", "value": "4"}).status_code == 404
    updated = sandbox.data(sandbox.put(f"{base}/{added['id']}",
                                       json={"id": added["id"], "key": "SPEED", "value": "5"}))
    assert updated["value"] == "5"
    listed = sandbox.data(sandbox.get(f"{base}/device/{DEV}"))
    assert {c["key"]: c["value"] for c in listed}["SPEED"] == "5"
    runtime = next(c for c in listed if c["key"] == "runtime")
    assert sandbox.put(f"{base}/{runtime['id']}", json={**runtime, "value": "x"}
                       ).status_code == 400
    assert sandbox.delete(f"{base}/{runtime['id']}", data="0").status_code == 400
    resp = sandbox.delete(f"{base}/{added['id']}", data="0")  # the SDK sends the body 0
    assert resp.status_code == 200 and resp.json()["status"] == "success"
    assert sandbox.delete(f"{base}/{added['id']}").status_code == 404
    assert "SPEED" not in {c["key"] for c in sandbox.data(sandbox.get(f"{base}/device/{DEV}"))}


def test_labels_crud(sandbox: Sandbox) -> None:
    created = sandbox.data(sandbox.post(f"{DM}/labels/{DEV}", json={"zone": "A"}))
    assert len(created) == 1 and created[0]["key"] == "zone" and created[0]["value"] == "A"
    lid = created[0]["id"]
    assert sandbox.post(f"{DM}/labels/{DEV}", json={"zone": "B"}).status_code == 409
    assert sandbox.post(f"{DM}/labels/{DEV}", json={"zone2": ""}).status_code == 400
    assert sandbox.post(f"{DM}/labels/nope", json={"a": "b"}).status_code == 404
    updated = sandbox.data(sandbox.put(f"{DM}/labels/{lid}",
                                       json={"id": lid, "key": "zone", "value": "C"}))
    assert updated == {"id": lid, "key": "zone", "value": "C"}
    labels = sandbox.data(sandbox.get(f"{DM}/labels/{DEV}"))
    assert {lb["key"]: lb["value"] for lb in labels}["zone"] == "C"
    resp = sandbox.delete(f"{DM}/labels/{lid}")
    assert resp.status_code == 200 and resp.json()["status"] == "success"
    assert sandbox.delete(f"{DM}/labels/{lid}").status_code == 404
    assert sandbox.put(f"{DM}/labels/{lid}", json={"id": lid, "key": "k", "value": "v"}
                       ).status_code == 404


def test_command_really_runs_in_the_scratch_dir(sandbox: Sandbox) -> None:
    resp = run(sandbox, 'echo "$ros_distro:$FOO" > made.txt; cat made.txt; echo err >&2; '
               'test -z "$RIO_AUTH_TOKEN"', env={"FOO": "bar"}, shell="/bin/bash")
    data = sandbox.data(resp)
    assert list(data) == [DEV]
    assert data[DEV] == "noetic:bar\nerr\n"
    scratch = sandbox.app.scratch_dir(DEV)
    assert (scratch / "made.txt").read_text() == "noetic:bar\n"
    assert scratch.parent.name == "devices"  # under the given scratch_root


def test_command_cwd_stays_inside_the_device(sandbox: Sandbox) -> None:
    out = sandbox.data(run(sandbox, "pwd", cwd="/tmp/work"))[DEV]
    scratch = sandbox.app.scratch_dir(DEV)
    assert Path(out.strip()) == scratch.resolve() / "tmp" / "work"
    assert run(sandbox, "pwd", cwd="../../..").status_code == 400


def test_command_on_several_devices_and_exit_status(sandbox: Sandbox) -> None:
    resp = sandbox.post(f"{DM}/cmd/", json={"cmd": "echo $RIO_DEVICE_ID; exit 3",
                                           "device_ids": [DEV, DEVICE_ARM32]})
    assert sandbox.data(resp) == {DEV: f"{DEV}\n", DEVICE_ARM32: f"{DEVICE_ARM32}\n"}


@pytest.mark.parametrize("body, status", [
    ({"cmd": "", "device_ids": [DEV]}, 400),
    ({"cmd": "true", "device_ids": []}, 400),
    ({"cmd": "true", "device_ids": [DEV], "env": {"1BAD": "x"}}, 400),
    ({"cmd": "true", "device_ids": [DEV], "shell": "/no/such/shell"}, 400),
    ({"cmd": "true", "device_ids": ["nope"]}, 404),
    ({"cmd": "true", "device_ids": [DEVICE_OFFLINE]}, 409),
])
def test_command_errors(sandbox: Sandbox, body: dict[str, Any], status: int) -> None:
    resp = sandbox.post(f"{DM}/cmd/", json=body)
    assert resp.status_code == status and resp.json()["error"]


def test_command_timeout_kills_it(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(command_timeout=0.2)
    resp = run(sb, "echo $$ > pid; sleep 30")
    assert resp.status_code == 500 and "timed out" in resp.json()["error"]
    pid = int((sb.app.scratch_dir(DEV) / "pid").read_text())
    wait_for(lambda: not _alive(pid), what="the timed-out command to be gone")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):  # reading /proc of an exiting task: ESRCH
        return False


def test_background_command_and_close_kills_it(tmp_path: Path) -> None:
    app = RapyutaSim(token="t", project=None, delay=0.1)
    server = SimServer(app).start()
    try:
        resp = requests.post(f"{server.url}{DM}/cmd/", timeout=5,
                             headers={"Authorization": "Bearer t"},
                             json={"cmd": "echo $$ > bg.pid; sleep 30", "bg": True,
                                   "device_ids": [DEV]})
        assert resp.json()["response"]["data"] == {DEV: ""}
        scratch = app.scratch_dir(DEV)
        pid_file = scratch / "bg.pid"
        wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), what="bg start")
        pid = int(pid_file.read_text())
        assert _alive(pid)
    finally:
        server.stop()
    wait_for(lambda: not _alive(pid), what="close() to kill the background command")
    assert not scratch.exists(), "close() removes the scratch directories it created"


def test_device_goes_offline(sandbox: Sandbox) -> None:
    assert sandbox.data(run(sandbox, "echo hi")) == {DEV: "hi\n"}
    resp = sandbox.post(f"/_admin/devices/{DEV}/status", json={"status": "OFFLINE"})
    assert resp.status_code == 200
    assert sandbox.data(sandbox.get(f"{DM}/devices/{DEV}"))["status"] == "OFFLINE"
    refused = run(sandbox, "echo hi")
    assert refused.status_code == 409 and "OFFLINE" in refused.json()["error"]
    assert sandbox.post(f"/_admin/devices/{DEV}/status", json={"status": "SIDEWAYS"}
                        ).status_code == 400
    assert sandbox.post("/_admin/devices/nope/status", json={"status": "ONLINE"}
                        ).status_code == 404
    sandbox.app.set_device_status(DEV, "ONLINE")
    assert sandbox.data(run(sandbox, "echo back")) == {DEV: "back\n"}
    admin = {d["uuid"]: d for d in sandbox.get("/_admin/devices").json()}
    assert admin[DEV]["status"] == "ONLINE" and admin[DEV]["arch"] == "amd64"
    assert admin[DEV]["scratch_dir"] == str(sandbox.app.scratch_dir(DEV))


def test_delete_device(sandbox: Sandbox) -> None:
    resp = sandbox.delete(f"{DM}/devices/{DEVICE_ARM32}")
    assert resp.status_code == 200 and resp.json()["status"] == "success"
    assert sandbox.get(f"{DM}/devices/{DEVICE_ARM32}").status_code == 404
    assert sandbox.delete(f"{DM}/devices/{DEVICE_ARM32}").status_code == 404


def test_custom_devices(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(devices=[{"name": "bot", "arch": "arm64v8", "labels": {"k": "v"},
                                "config_variables": {"ROBOT": "7"}}])
    (dev,) = sb.data(sb.get(f"{DM}/devices/"))
    assert dev["name"] == "bot" and dev["status"] == "ONLINE"
    assert sb.data(run(sb, "echo $ROBOT", device=dev["uuid"])) == {dev["uuid"]: "7\n"}
    with pytest.raises(ValueError):
        RapyutaSim(devices=[{"name": "x", "arch": "sparc"}]).close()


def test_topics_and_metrics(sandbox: Sandbox) -> None:
    data = sandbox.data(sandbox.get(f"{DM}/topics/{DEV}"))
    assert data[0] == 200 and isinstance(data[1], str)
    topics = json.loads(data[1])["topics"]
    assert "/chatter" in topics
    status = json.loads(sandbox.data(sandbox.get(f"{DM}/topics/{DEV}/status"))[1])
    assert status["master_up"] is True
    assert status["topics"]["Subscribed"] == {"metric": [], "log": []}
    assert "/chatter" in status["topics"]["Unsubscribed"]

    body = {"topics": [{"name": "/chatter", "config": {"qos": 1, "whitelist_tag": [],
                                                      "whitelist_field": []}},
                       {"name": "/ghost", "config": {"qos": 0}}], "kind": "metric"}
    result = json.loads(sandbox.data(sandbox.post(f"{DM}/topics/{DEV}/subscribe", json=body))[1])
    assert result["subscribed_success"] == ["/chatter"]
    assert result["subscribed_error"] == [{"/ghost": "Unknown topic type: /ghost"}]
    status = json.loads(sandbox.data(sandbox.get(f"{DM}/topics/{DEV}/status"))[1])
    assert [t["name"] for t in status["topics"]["Subscribed"]["metric"]] == ["/chatter"]
    assert "/chatter" not in status["topics"]["Unsubscribed"]
    result = json.loads(sandbox.data(sandbox.post(
        f"{DM}/topics/{DEV}/unsubscribed", json={"topics": ["/chatter", "/odom"],
                                                 "kind": "metric"}))[1])
    assert result["unsubscribed_success"] == ["/chatter"] and len(result["unsubscribed_error"]) == 1
    assert sandbox.get(f"{DM}/topics/{DEVICE_OFFLINE}").status_code == 409

    assert sandbox.data(sandbox.get(f"{DM}/metrics/{DEV}")) == []
    resp = sandbox.post(f"{DM}/metrics/{DEV}", json={"name": "cpu", "config": {"qos": 2}})
    assert resp.json()["status"] == "success"
    assert sandbox.data(sandbox.get(f"{DM}/metrics/{DEV}")) == [
        {"name": "cpu", "kind": "metric", "config": {"qos": 2}, "status": "subscribed"}]
    assert sandbox.post(f"{DM}/metrics/{DEV}", json={"name": "gpu"}).status_code == 400
    assert sandbox.delete(f"{DM}/metrics/{DEV}/cpu").json()["status"] == "success"
    assert sandbox.delete(f"{DM}/metrics/{DEV}/cpu").status_code == 404


def test_log_upload_download_share_delete(sandbox: Sandbox) -> None:
    sandbox.data(run(sandbox, "mkdir -p logs && printf 'line1\\nline2\\n' > logs/robot.log"))
    resp = sandbox.post(f"{DM}/logs/{DEV}/upload", json={
        "device_path": "/logs/robot.log", "max_upload_rate": 1048576, "override": False,
        "purge_after": False, "metadata": {"run": "1"}})
    req = sandbox.data(resp)["request_uuid"]
    status = sandbox.data(sandbox.get(f"{DM}/logs/{DEV}/status/{req}"))
    assert status["filename"] == "robot.log" and status["request_uuid"] == req
    assert set(status) >= {"status", "error_message", "creator", "created_at", "updated_at"}
    if status["status"] == "IN PROGRESS":
        assert sandbox.get(f"{DM}/logs/{DEV}/{req}").status_code == 400
    wait_for(lambda: sandbox.data(sandbox.get(f"{DM}/logs/{DEV}/status/{req}"))["status"]
             == "COMPLETED", what="upload completion")

    url = sandbox.data(sandbox.get(f"{DM}/logs/{DEV}/{req}"))["signed_url"]
    assert url.startswith(sandbox.url + "/_files/")
    download = requests.get(url, timeout=5)  # no credentials: the URL is signed
    assert download.status_code == 200 and download.content == b"line1\nline2\n"
    assert requests.get(url.replace("signature=", "signature=0"), timeout=5).status_code == 403

    listed = sandbox.data(sandbox.get(f"{DM}/logs/{DEV}/list"))
    assert [r["request_uuid"] for r in listed] == [req]
    assert listed[0]["content_length"] == 12 and listed[0]["metadata"] == {"run": "1"}
    flt = {"and": [{"filename": {"like": "%robot%"}}, {"or": [{"status": "COMPLETED"}]}]}
    query = {"sort": "-filename", "page": json.dumps({"size": 5, "number": 1}),
             "filter": json.dumps(flt)}
    assert len(sandbox.data(sandbox.get(f"{DM}/logs/{DEV}/list", params=query))) == 1
    flt["and"][0] = {"filename": {"like": "%other%"}}
    query["filter"] = json.dumps(flt)
    assert sandbox.data(sandbox.get(f"{DM}/logs/{DEV}/list", params=query)) == []
    assert sandbox.get(f"{DM}/logs/{DEV}/list", params={"sort": "size"}).status_code == 400

    again = sandbox.post(f"{DM}/logs/{DEV}/upload", json={"device_path": "logs/robot.log"})
    assert again.status_code == 409
    shared = sandbox.data(sandbox.post(f"{DM}/logs/{req}/shared_urls",
                                       json={"expiry_time": time.time() + 600}))
    assert set(shared) >= {"url_uuid", "expiry_time", "creator", "created_at"}
    # the SDK builds <core_host>//logs/sharedurl/<uuid>, with a double slash
    public = requests.get(f"{sandbox.url}//logs/sharedurl/{shared['url_uuid']}", timeout=5)
    assert public.status_code == 200 and public.content == b"line1\nline2\n"
    status = sandbox.data(sandbox.get(f"{DM}/logs/{DEV}/status/{req}"))
    assert [s["url_uuid"] for s in status["shared_urls"]] == [shared["url_uuid"]]
    assert sandbox.post(f"{DM}/logs/{req}/shared_urls",
                        json={"expiry_time": time.time() - 5}).status_code == 400

    assert sandbox.put(f"{DM}/logs/{DEV}/{req}/cancel").status_code == 400  # completed
    resp = sandbox.delete(f"{DM}/logs/{DEV}/{req}")
    assert sandbox.data(resp) == {"success": True}
    assert sandbox.get(f"{DM}/logs/{DEV}/status/{req}").status_code == 404
    assert requests.get(url, timeout=5).status_code == 404
    assert sandbox.data(sandbox.get(f"{DM}/logs/{DEV}/list")) == []


def test_log_upload_cancel_and_missing_file(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(delay=30)  # uploads stay IN PROGRESS for the whole test
    sb.data(run(sb, "echo data > a.log"))
    req = sb.data(sb.post(f"{DM}/logs/{DEV}/upload", json={"device_path": "a.log",
                                                          "file_name": "b.log"}))["request_uuid"]
    status = sb.data(sb.get(f"{DM}/logs/{DEV}/status/{req}"))
    assert (status["status"], status["filename"]) == ("IN PROGRESS", "b.log")
    assert sb.delete(f"{DM}/logs/{DEV}/{req}").status_code == 400
    assert sb.data(sb.put(f"{DM}/logs/{DEV}/{req}/cancel")) == {"success": True}
    assert sb.data(sb.get(f"{DM}/logs/{DEV}/status/{req}"))["status"] == "CANCELLED"
    assert sb.put(f"{DM}/logs/{DEV}/nope/cancel").status_code == 404

    req = sb.data(sb.post(f"{DM}/logs/{DEV}/upload", json={"device_path": "/var/none.log"})
                  )["request_uuid"]
    status = sb.data(sb.get(f"{DM}/logs/{DEV}/status/{req}"))
    assert status["status"] == "FAILED" and "no such file" in status["error_message"]
    assert sb.post(f"{DM}/logs/{DEV}/upload", json={}).status_code == 400
    assert sb.post(f"{DM}/logs/{DEVICE_OFFLINE}/upload", json={"device_path": "a"}
                   ).status_code == 409
