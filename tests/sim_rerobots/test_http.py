"""The rerobots sandbox over real HTTP with plain requests: shapes, codes, lifecycle, faults."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading

import paramiko
import pytest
import requests
from PIL import Image

from pytest_robofixtures.sim.rerobots import SEEDED_DEPLOYMENTS
from pytest_robofixtures.sim.sshd import generate_rsa_key

from .conftest import TOKEN, Sandbox, wait_for

MISTY = SEEDED_DEPLOYMENTS[0]["id"]
NULL_A = SEEDED_DEPLOYMENTS[1]["id"]
NULL_B = SEEDED_DEPLOYMENTS[2]["id"]
UR = SEEDED_DEPLOYMENTS[3]["id"]


# -- auth and errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}]
)
@pytest.mark.parametrize("method,path", [
    ("GET", "/workspaces"), ("GET", "/deployments"), ("GET", "/instances"),
    ("GET", "/instance/x"), ("POST", "/new/null"), ("POST", "/terminate/x"),
])
def test_wrong_or_missing_token_is_400(sandbox: Sandbox, headers, method, path) -> None:
    res = requests.request(method, sandbox.url + path, headers=headers, timeout=10)
    assert res.status_code == 400
    assert res.json() == {"error_message": "wrong authorization token"}
    assert sandbox.app.live_resources()["instances"] == []


def test_admin_needs_no_token(sandbox: Sandbox) -> None:
    res = requests.get(sandbox.url + "/_admin/resources", timeout=10)
    assert res.status_code == 200
    assert res.json() == {"instances": [], "addons": [], "reservations": []}


def test_unknown_instance_and_deployment_are_404(sandbox: Sandbox) -> None:
    for res in (sandbox.get("/instance/nope"), sandbox.post("/terminate/nope"),
                sandbox.post("/vpn/nope")):
        assert res.status_code == 404
        assert res.json() == {"error_message": "instance not found"}
    res = sandbox.get("/deployment/nope")
    assert res.status_code == 404 and "error_message" in res.json()
    res = sandbox.post("/new/nope", json={"reserve": False})
    assert res.status_code == 404 and "error_message" in res.json()
    res = sandbox.get("/no/such/route")
    assert res.status_code == 404 and "error_message" in res.json()


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"reserve": false, "bogus": 1}',
                                  b'{"sshkey": "ssh-rsa !!!"}', b'{"expire_d": "soon"}'])
def test_bad_new_bodies_are_400(sandbox: Sandbox, body: bytes) -> None:
    res = sandbox.post(f"/new/{NULL_A}", data=body)
    assert res.status_code == 400
    assert isinstance(res.json()["error_message"], str)
    assert sandbox.app.live_resources()["instances"] == []


# -- deployments -------------------------------------------------------------------------------


def test_workspaces_and_deployment_listing(sandbox: Sandbox) -> None:
    assert sandbox.get("/workspaces").json() == {
        "workspace_types": ["basic_ur", "fixed_misty2", "null"]
    }
    body = sandbox.get("/deployments", params={"info": "t"}).json()
    assert body["workspace_deployments"] == [d["id"] for d in SEEDED_DEPLOYMENTS]
    assert body["page_count"] == 1
    assert body["info"][MISTY] == {"type": "fixed_misty2", "region": "us:cali", "queuelen": 0}
    assert "info" not in sandbox.get("/deployments").json()

    body = sandbox.get("/deployments", params={"types": "null,basic_ur", "info": "t"}).json()
    assert body["workspace_deployments"] == [NULL_A, NULL_B, UR]
    body = sandbox.get("/deployments", params={"q": "misty"}).json()
    assert body["workspace_deployments"] == [MISTY]
    body = sandbox.get("/deployments", params={"max_per_page": 3, "page": 2}).json()
    assert body == {"workspace_deployments": [UR], "page_count": 2}
    assert sandbox.get("/deployments", params={"page": "x", "max_per_page": 2}).status_code == 400


def test_deployment_info(sandbox: Sandbox) -> None:
    info = sandbox.get(f"/deployment/{MISTY}").json()
    assert info["id"] == MISTY and info["type"] == "fixed_misty2"
    assert info["supported_addons"] == ["cam", "mistyproxy", "drive"]
    assert info["region"] == "us:cali" and info["queuelen"] == 0
    assert {"type_version", "desc", "icounter", "created"} <= set(info)


def test_maxlen_hides_busy_deployments(sandbox: Sandbox) -> None:
    sandbox.new(MISTY)
    assert sandbox.get(f"/deployment/{MISTY}").json()["queuelen"] == 1
    ids = sandbox.get("/deployments", params={"maxlen": 0}).json()["workspace_deployments"]
    assert MISTY not in ids and NULL_A in ids
    assert MISTY in sandbox.get("/deployments").json()["workspace_deployments"]


# -- the instance lifecycle --------------------------------------------------------------------


def test_lifecycle_init_ready_terminating_terminated(sandbox: Sandbox) -> None:
    created = sandbox.new(NULL_A)
    assert created["success"] is True
    iid = created["id"]
    paramiko.RSAKey.from_private_key(io.StringIO(created["sshkey"]))  # loadable as RSA
    assert created["sshkey"].startswith("-----BEGIN RSA PRIVATE KEY-----")

    first = sandbox.get(f"/instance/{iid}").json()
    assert first["id"] == iid and first["deployment"] == NULL_A and first["type"] == "null"
    assert first["region"] == "us:cali" and first["rootuser"] == "root" and first["starttime"]
    assert sandbox.get("/instances").json() == {"workspace_instances": [iid], "page_count": 1}

    seen = [first["status"]]
    ready = wait_for(lambda: _note(seen, sandbox.get(f"/instance/{iid}").json(), "READY"),
                     what="READY")
    assert set(seen) <= {"INIT", "READY"}  # (a slow machine may never see INIT)
    assert ready["fwd"]["ipv4"] == "127.0.0.1"
    port = ready["fwd"]["port"]
    server = sandbox.app.ssh_server(iid)
    assert server is not None and server.port == port
    assert ready["hostkeys"][0].split()[:2] == server.host_key_line.split()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        assert sock.recv(64).startswith(b"SSH-2.0-")
    assert "endtime" not in ready

    assert sandbox.post(f"/terminate/{iid}").status_code == 200
    terminating = sandbox.get(f"/instance/{iid}").json()
    assert terminating["status"] in ("TERMINATING", "TERMINATED")
    assert "fwd" not in terminating
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert sandbox.post(f"/terminate/{iid}").status_code == 200  # repeat is harmless

    done = sandbox.wait_status(iid, "TERMINATED")
    assert done["endtime"]
    assert sandbox.get("/instances").json()["workspace_instances"] == []
    listed = sandbox.get("/instances", params={"include_terminated": ""}).json()
    assert listed["workspace_instances"] == [iid]
    assert sandbox.app.live_resources() == {"instances": [], "addons": [], "reservations": []}
    assert not (sandbox.app.scratch_root / f"instance-{iid}").exists()
    # the deployment is free again
    assert sandbox.new(NULL_A)["id"] != iid


def _note(seen: list[str], body: dict, wanted: str) -> dict | None:
    seen.append(body["status"])
    return body if body["status"] == wanted else None


def test_init_instance_has_no_connection_details(sandbox: Sandbox) -> None:
    sandbox.app.stick_next_instance()
    iid = sandbox.new(NULL_A)["id"]
    body = sandbox.get(f"/instance/{iid}").json()
    assert body["status"] == "INIT"
    assert "fwd" not in body and "hostkeys" not in body and "endtime" not in body
    assert sandbox.app.ssh_server(iid) is None
    assert [i["id"] for i in sandbox.app.live_resources()["instances"]] == [iid]


def test_terminate_during_init_is_busy(sandbox: Sandbox) -> None:
    sandbox.app.stick_next_instance()  # keeps it in INIT whatever the timing
    iid = sandbox.new(NULL_A)["id"]
    res = sandbox.post(f"/terminate/{iid}")
    assert res.status_code == 503
    assert res.json()["result_message"].startswith("This instance is busy.")
    assert sandbox.status(iid) == "INIT"


def test_second_new_on_a_busy_deployment_is_503(sandbox: Sandbox) -> None:
    sandbox.new(MISTY)
    res = sandbox.post(f"/new/{MISTY}", data=json.dumps({"reserve": False}))
    assert res.status_code == 503
    assert res.json() == {
        "result_message": "All matching workspace deployments are busy. Try again later."
    }
    assert len(sandbox.app.live_resources()["instances"]) == 1


def test_new_by_type_uses_each_free_deployment_then_is_busy(sandbox: Sandbox) -> None:
    first = sandbox.new("null")
    second = sandbox.new("null")
    deps = {sandbox.get(f"/instance/{x['id']}").json()["deployment"] for x in (first, second)}
    assert deps == {NULL_A, NULL_B}
    res = sandbox.post("/new/null", json={"reserve": False})
    assert res.status_code == 503
    assert res.json()["result_message"].startswith("All matching workspace deployments are busy")


def test_set_busy_knob_and_admin_endpoint(sandbox: Sandbox) -> None:
    sandbox.app.set_busy(UR)
    assert sandbox.post(f"/new/{UR}", json={"reserve": False}).status_code == 503
    sandbox.app.set_busy(UR, False)
    assert sandbox.post(f"/new/{UR}", json={"reserve": False}).status_code == 200

    res = requests.post(f"{sandbox.url}/_admin/deployments/{MISTY}/busy", json={"busy": True},
                        timeout=10)
    assert res.status_code == 200 and res.json()["queuelen"] == 1
    assert sandbox.post(f"/new/{MISTY}", json={"reserve": False}).status_code == 503
    res = requests.post(f"{sandbox.url}/_admin/deployments/nope/busy", json={}, timeout=10)
    assert res.status_code == 404


@pytest.mark.parametrize("via", ["method", "admin"])
def test_init_fail(sandbox: Sandbox, via: str) -> None:
    if via == "method":
        sandbox.app.fail_next_instance()
    else:
        res = requests.post(sandbox.url + "/_admin/instances/next",
                            json={"outcome": "init_fail"}, timeout=10)
        assert res.status_code == 200
    iid = sandbox.new(NULL_A)["id"]
    failed = sandbox.wait_status(iid, "INIT_FAIL")
    assert "fwd" not in failed and failed["endtime"]
    assert sandbox.app.live_resources()["instances"] == []
    # only the next one fails; the deployment is free again
    iid2 = sandbox.new(NULL_A)["id"]
    sandbox.wait_status(iid2, "READY")


def test_admin_next_rejects_unknown_outcomes(sandbox: Sandbox) -> None:
    res = requests.post(sandbox.url + "/_admin/instances/next", json={"outcome": "explode"},
                        timeout=10)
    assert res.status_code == 400


def test_expire_d_terminates_by_itself(sandbox: Sandbox) -> None:
    iid = sandbox.new(NULL_A, expire_d=0.1)["id"]
    done = sandbox.wait_status(iid, "TERMINATED")
    assert done["endtime"]


def test_public_key_in_new_is_authorized_and_no_private_key_returned(sandbox: Sandbox) -> None:
    pem, pub = generate_rsa_key()
    created = sandbox.new(NULL_A, sshkey=pub)
    assert "sshkey" not in created
    ready = sandbox.wait_status(created["id"], "READY")
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    host = f"[127.0.0.1]:{ready['fwd']['port']}"
    client.get_host_keys().add(host, *_key_from_line(ready["hostkeys"][0]))
    client.connect("127.0.0.1", port=ready["fwd"]["port"], username="root",
                   pkey=paramiko.RSAKey.from_private_key(io.StringIO(pem)), timeout=5,
                   allow_agent=False, look_for_keys=False)
    try:
        _, out, _ = client.exec_command("pwd")
        assert out.read().decode().strip().endswith(f"instance-{created['id']}")
    finally:
        client.close()


def test_instances_paging(sandbox: Sandbox) -> None:
    ids = [sandbox.new(d)["id"] for d in (MISTY, NULL_A, NULL_B)]
    body = sandbox.get("/instances", params={"max_per_page": 2, "page": 1}).json()
    assert body == {"workspace_instances": ids[::-1][:2], "page_count": 2}
    body = sandbox.get("/instances", params={"max_per_page": 2, "page": 2}).json()
    assert body == {"workspace_instances": ids[:1], "page_count": 2}


# -- add-ons and vpn ---------------------------------------------------------------------------


def _ready(sandbox: Sandbox, wdid: str, **body) -> str:
    iid = sandbox.new(wdid, **body)["id"]
    sandbox.wait_status(iid, "READY")
    return iid


def test_cam_addon_lifecycle_and_real_jpegs(sandbox: Sandbox) -> None:
    iid = _ready(sandbox, NULL_A)
    assert sandbox.get(f"/addon/cam/{iid}").status_code == 404
    assert sandbox.get(f"/addon/cam/{iid}/0/img").status_code == 404
    assert sandbox.post(f"/addon/cam/{iid}").status_code == 200
    assert sandbox.get(f"/addon/cam/{iid}").json()["status"] in ("starting", "active")
    assert sandbox.app.live_resources()["addons"][0]["addon"] == "cam"
    wait_for(lambda: sandbox.get(f"/addon/cam/{iid}").json()["status"] == "active",
             what="cam active")

    frames = []
    for _ in range(2):
        body = sandbox.get(f"/addon/cam/{iid}/0/img").json()
        assert (body["success"], body["format"], body["coding"]) == (True, "JPEG", "base64")
        frames.append(base64.b64decode(body["data"]))
    assert frames[0] != frames[1]
    img = Image.open(io.BytesIO(frames[0]))
    assert (img.format, img.mode, img.size) == ("JPEG", "RGB", (320, 240))
    # the null deployments have two cameras
    assert sandbox.get(f"/addon/cam/{iid}/1/img").json()["success"] is True
    assert sandbox.get(f"/addon/cam/{iid}/2/img").status_code == 404

    assert sandbox.delete(f"/addon/cam/{iid}").status_code == 200
    assert sandbox.get(f"/addon/cam/{iid}").status_code == 404
    assert sandbox.delete(f"/addon/cam/{iid}").status_code == 404
    assert sandbox.app.live_resources()["addons"] == []


def test_addon_errors(sandbox: Sandbox) -> None:
    sandbox.app.stick_next_instance()
    init = sandbox.new(MISTY)["id"]
    assert sandbox.post(f"/addon/cam/{init}").status_code == 503  # not READY yet
    iid = _ready(sandbox, NULL_A)
    res = sandbox.post(f"/addon/mistyproxy/{iid}")
    assert res.status_code == 400 and "not supported" in res.json()["error_message"]
    assert sandbox.post(f"/addon/warp/{iid}").status_code == 404
    assert sandbox.post("/addon/cam/nope").status_code == 404


def test_mistyproxy_and_drive(sandbox: Sandbox) -> None:
    iid = _ready(sandbox, MISTY)
    assert sandbox.post(f"/addon/mistyproxy/{iid}").status_code == 200
    assert sandbox.post(f"/addon/mistyproxy/{iid}").status_code == 503  # already applied
    status = wait_for(lambda: _active(sandbox, "mistyproxy", iid), what="mistyproxy active")
    http_url, https_url = status["url"]
    assert http_url.startswith("http://127.0.0.1:") and https_url.startswith("https://")
    proxied = requests.get(http_url + "/api/device", timeout=10)
    assert proxied.status_code == 200 and proxied.json()["status"] == "Success"

    assert sandbox.post(f"/addon/drive/{iid}").status_code == 200
    wait_for(lambda: _active(sandbox, "drive", iid), what="drive active")
    res = sandbox.post(f"/addon/drive/{iid}/tx", json={"linearv": 0.1, "angularv": 0})
    assert res.status_code == 200
    assert sandbox.post(f"/addon/drive/{iid}/tx", json={"linearv": "fast"}).status_code == 400

    assert sandbox.delete(f"/addon/mistyproxy/{iid}").status_code == 200
    assert requests.get(http_url, timeout=10).status_code == 404


def _active(sandbox: Sandbox, addon: str, iid: str):
    body = sandbox.get(f"/addon/{addon}/{iid}").json()
    return body if body["status"] == "active" else None


def test_termination_drops_addons(sandbox: Sandbox) -> None:
    iid = _ready(sandbox, NULL_A)
    sandbox.post(f"/addon/cam/{iid}")
    assert len(sandbox.app.live_resources()["addons"]) == 1
    sandbox.post(f"/terminate/{iid}")
    assert sandbox.app.live_resources()["addons"] == []
    assert sandbox.get(f"/addon/cam/{iid}").status_code == 404


def test_vpn(sandbox: Sandbox) -> None:
    plain = _ready(sandbox, NULL_A)
    assert sandbox.post(f"/vpn/{plain}").status_code == 400
    iid = _ready(sandbox, NULL_B, vpn=True)
    body = sandbox.post(f"/vpn/{iid}").json()
    assert body["client_id"]
    ovpn = body["ovpn"]
    assert ovpn.startswith("client\n") and "\nremote " in ovpn
    key = ovpn.split("<key>\n", 1)[1].split("\n</key>", 1)[0]
    assert key.startswith("-----BEGIN PRIVATE KEY-----")
    assert "<ca>\n-----BEGIN CERTIFICATE-----" in ovpn and "<cert>\n" in ovpn


# -- deterministic ids, close ------------------------------------------------------------------


def test_ids_are_deterministic_per_seed(tmp_path) -> None:
    from pytest_robofixtures.sim._wsgi import SimServer
    from pytest_robofixtures.sim.rerobots import RerobotsSim

    ids = []
    for n in range(2):
        app = RerobotsSim(token=TOKEN, delay=5, scratch_root=tmp_path / str(n), seed=7)
        with SimServer(app) as server:
            res = requests.post(f"{server.url}/new/null", data='{"reserve": false}',
                                headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            ids.append(res.json()["id"])
    assert ids[0] == ids[1]


def test_close_stops_ssh_servers_and_removes_its_scratch(tmp_path) -> None:
    from pytest_robofixtures.sim._wsgi import SimServer
    from pytest_robofixtures.sim.rerobots import RerobotsSim

    app = RerobotsSim(token=TOKEN, delay=0.05)
    server = SimServer(app).start()
    box = Sandbox(app, server)
    iid = box.new(NULL_A)["id"]
    port = box.wait_status(iid, "READY")["fwd"]["port"]
    scratch = app.scratch_root
    assert (scratch / f"instance-{iid}").is_dir()
    server.stop()
    assert not scratch.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def _key_from_line(line: str) -> tuple[str, paramiko.PKey]:
    kind, data = line.split()[:2]
    return kind, paramiko.PKey.from_type_string(kind, base64.b64decode(data))


def test_generic_http_faults_apply_to_the_rerobots_routes(sandbox: Sandbox) -> None:
    rule = {"kind": "status", "status": 503, "path": "^/instances$", "count": 1}
    assert requests.post(sandbox.url + "/_admin/faults", json=rule, timeout=10).status_code == 201
    assert sandbox.get("/instances").status_code == 503
    assert sandbox.get("/instances").status_code == 200
    drop = {"kind": "drop", "path": "^/workspaces$", "count": 1}
    assert requests.post(sandbox.url + "/_admin/faults", json=drop, timeout=10).status_code == 201
    with pytest.raises(requests.ConnectionError):
        requests.get(sandbox.url + "/workspaces", headers=sandbox.http.headers, timeout=10)
    assert sandbox.get("/workspaces").status_code == 200


def test_concurrent_new_on_one_deployment_gives_exactly_one_instance(sandbox: Sandbox) -> None:
    _, pub = generate_rsa_key()
    codes: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def attempt() -> None:
        barrier.wait(timeout=10)
        res = requests.post(f"{sandbox.url}/new/{MISTY}", json={"reserve": False, "sshkey": pub},
                            headers=sandbox.http.headers, timeout=30)
        with lock:
            codes.append(res.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(codes) == [200, 503, 503, 503, 503, 503]
    assert len(sandbox.app.live_resources()["instances"]) == 1
