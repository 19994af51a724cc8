"""The proof: the official ``rerobots==0.11.0`` client drives the sandbox end to end."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import paramiko
import pytest
import requests

rerobots = pytest.importorskip("rerobots")
from rerobots.api import (  # noqa: E402
    APIClient,
    BusyWorkspaceDeployment,
    BusyWorkspaceInstance,
    InstanceNotFound,
    WrongAuthToken,
)

from pytest_robofixtures.sim.rerobots import SEEDED_DEPLOYMENTS  # noqa: E402
from pytest_robofixtures.sim.sshd import generate_host_key  # noqa: E402

from .conftest import TOKEN, Sandbox, wait_for  # noqa: E402

# rerobots 0.11.0 decodes ndarray snapshots with Image.getdata, deprecated in Pillow 12.
pytestmark = pytest.mark.filterwarnings("ignore:Image.Image.getdata:DeprecationWarning")

MISTY = SEEDED_DEPLOYMENTS[0]["id"]
NULL_A = SEEDED_DEPLOYMENTS[1]["id"]
NULL_B = SEEDED_DEPLOYMENTS[2]["id"]


def client(sandbox: Sandbox, token: str = TOKEN) -> APIClient:
    return APIClient(api_token=token, base_uri=sandbox.url, ignore_env=True)


def test_listing_with_the_official_client(sandbox: Sandbox) -> None:
    apic = client(sandbox)
    assert apic.get_wtypes() == ["basic_ur", "fixed_misty2", "null"]
    deps = apic.get_wdeployments()
    assert {d["id"] for d in deps} == {d["id"] for d in SEEDED_DEPLOYMENTS}
    assert all(set(d) == {"id", "type", "region", "queuelen"} for d in deps)
    misty = apic.get_wdeployments(query="misty", types=["fixed_misty2", "null"], maxlen=0)
    assert [d["id"] for d in misty] == [MISTY]
    page, count = apic.get_wdeployments(page=2, max_per_page=3)
    assert len(page) == 1 and count == 2
    info = apic.get_wdeployment_info(MISTY)
    assert info["type"] == "fixed_misty2" and "cam" in info["supported_addons"]
    assert apic.get_instances() == []
    assert apic.get_instances(include_terminated=True, page=1, max_per_page=5) == ([], 1)


def test_errors_map_to_the_clients_exceptions(sandbox: Sandbox) -> None:
    with pytest.raises(WrongAuthToken):
        client(sandbox, "wrong").get_instances()
    apic = client(sandbox)
    with pytest.raises(InstanceNotFound):
        apic.get_instance_info("no-such-instance")
    rerobots.Instance(wdeployment_id=MISTY, apic=apic)
    with pytest.raises(BusyWorkspaceDeployment):
        apic.request_instance(MISTY)
    sandbox.app.stick_next_instance()
    stuck = rerobots.Instance(wdeployment_id=NULL_A, apic=apic)
    with pytest.raises(BusyWorkspaceInstance):
        stuck.terminate()
    with pytest.raises(ValueError):  # the type check of Instance against /deployment
        rerobots.Instance(workspace_types=["basic_ur"], wdeployment_id=MISTY, apic=apic)


def test_full_instance_flow_with_the_official_client(sandbox: Sandbox, tmp_path: Path) -> None:
    apic = client(sandbox)
    wdid = next(d["id"] for d in apic.get_wdeployments(types=["fixed_misty2"]))
    inst = rerobots.Instance(wdeployment_id=wdid, apic=apic)
    assert inst.get_status() in ("INIT", "READY")
    wait_for(lambda: inst.get_status() == "READY", what="READY")

    details = inst.get_details()
    assert details["type"] == "fixed_misty2" and details["region"] == "us:cali"
    conn = details["conn"]
    assert conn["type"] == "sshtun" and conn["ipv4"] == "127.0.0.1"
    server = sandbox.app.ssh_server(inst._id)
    assert server is not None and conn["port"] == server.port
    assert conn["hostkeys"][0].startswith(server.host_key_line)

    inst.start_sshclient()  # verifies hostkeys[0], logs in as root with the key from /new
    try:
        assert inst.exec_ssh("uname -a").startswith(b"Linux")
        assert inst.exec_ssh("whoami >/dev/null; echo $HOME") == f"{server.root}\n".encode()

        local = tmp_path / "payload.txt"
        local.write_text("hello from the test\n")
        inst.put_file(str(local), "/payload.txt")
        assert inst.exec_ssh("cat payload.txt") == b"hello from the test\n"
        inst.exec_ssh("echo made remotely > made.txt")
        fetched = tmp_path / "made.txt"
        inst.get_file("/made.txt", str(fetched))
        assert fetched.read_text() == "made remotely\n"

        inst.activate_addon_cam()
        assert inst.status_addon_cam()["status"] in ("starting", "active")
        wait_for(lambda: inst.status_addon_cam()["status"] == "active", what="cam active")
        snap = inst.get_snapshot_cam(dformat="ndarray")
        assert snap["success"] is True and snap["format"] == "ndarray"
        frame = snap["data"]
        assert isinstance(frame, np.ndarray)
        assert frame.dtype == np.uint8 and frame.shape == (240, 320, 3)
        assert frame.std() > 10  # a picture, not a flat colour
        again = inst.get_snapshot_cam(dformat="ndarray")["data"]
        assert not np.array_equal(frame, again)
        jpeg = inst.get_snapshot_cam()
        assert jpeg["format"] == "JPEG" and jpeg["data"][:2] == b"\xff\xd8"

        inst.activate_addon_mistyproxy()
        status = wait_for(lambda: _active(inst.status_addon_mistyproxy()), what="proxy active")
        assert requests.get(status["url"][0], timeout=10).status_code == 200
        inst.deactivate_addon_mistyproxy()
        assert inst.status_addon_mistyproxy() == {"status": "notfound"}
    finally:
        inst.terminate()

    assert inst.get_status() in ("TERMINATING", "TERMINATED")
    wait_for(lambda: inst.get_status() == "TERMINATED", what="TERMINATED")
    assert apic.get_instances() == []
    assert apic.get_instances(include_terminated=True) == [inst._id]
    admin = requests.get(sandbox.url + "/_admin/resources", timeout=10).json()
    assert admin == {"instances": [], "addons": [], "reservations": []}


def test_instance_by_workspace_type_and_attach_by_id(sandbox: Sandbox) -> None:
    apic = client(sandbox)
    inst = rerobots.Instance(workspace_types=["null"], apic=apic)
    attached = rerobots.Instance(instance_id=inst._id, apic=apic)
    assert attached.get_status() in ("INIT", "READY")
    wait_for(lambda: attached.get_status() == "READY", what="READY")
    inst.terminate()
    wait_for(lambda: attached.get_status() == "TERMINATED", what="TERMINATED")


def test_vpn_with_the_official_client(sandbox: Sandbox) -> None:
    apic = client(sandbox)
    created = apic.request_instance(NULL_A, vpn=True)
    wait_for(lambda: apic.get_instance_info(created["id"])["status"] == "READY", what="READY")
    vpn = apic.get_vpn_newclient(created["id"])
    assert "<key>" in vpn["ovpn"] and vpn["client_id"]
    apic.terminate_instance(created["id"])


def test_host_key_mismatch_raises_bad_host_key(sandbox: Sandbox, monkeypatch) -> None:
    apic = client(sandbox)
    inst = rerobots.Instance(wdeployment_id=NULL_A, apic=apic)
    wait_for(lambda: inst.get_status() == "READY", what="READY")
    real = sandbox.app.ssh_server(inst._id)
    assert real is not None
    # The API reports a host key that is not the one the SSH server presents.
    impostor = generate_host_key()
    original = apic.get_instance_info

    def lying(instance_id: str) -> dict:
        info = original(instance_id)
        info["hostkeys"] = [f"{impostor.get_name()} {impostor.get_base64()}"]
        return info

    monkeypatch.setattr(apic, "get_instance_info", lying)
    with pytest.raises(paramiko.BadHostKeyException) as err:
        inst.start_sshclient()
    assert err.value.key.asbytes() == real.host_key.asbytes()
    monkeypatch.setattr(apic, "get_instance_info", original)
    inst.start_sshclient()  # the true key is accepted
    assert inst.exec_ssh("echo ok") == b"ok\n"
    inst.terminate()


def test_a_user_public_key_logs_in_with_paramiko(sandbox: Sandbox) -> None:
    key = paramiko.RSAKey.generate(2048)
    apic = client(sandbox)
    created = apic.request_instance(NULL_A, sshkey=f"ssh-rsa {key.get_base64()} me@laptop")
    assert "sshkey" not in created
    info = wait_for(lambda: _ready(apic.get_instance_info(created["id"])), what="READY")
    ssh = paramiko.SSHClient()
    kind, data = info["hostkeys"][0].split()[:2]
    ssh.get_host_keys().add(f"[127.0.0.1]:{info['fwd']['port']}", kind,
                            paramiko.PKey.from_type_string(kind, _b64(data)))
    ssh.connect("127.0.0.1", port=info["fwd"]["port"], username="root", pkey=key, timeout=5,
                allow_agent=False, look_for_keys=False)
    try:
        _, out, _ = ssh.exec_command("echo $USER")
        assert out.read() == b"root\n"
    finally:
        ssh.close()
    apic.terminate_instance(created["id"])


def _active(status: dict) -> dict | None:
    return status if status.get("status") == "active" else None


def _ready(info: dict) -> dict | None:
    return info if info["status"] == "READY" else None


def _b64(text: str) -> bytes:
    import base64

    return base64.b64decode(text)


def test_private_key_from_new_is_rsa_pem(sandbox: Sandbox) -> None:
    created = client(sandbox).request_instance(NULL_A)
    paramiko.RSAKey.from_private_key(io.StringIO(created["sshkey"]))


def test_firewall_with_the_official_client(sandbox: Sandbox) -> None:
    apic = client(sandbox)
    inst = rerobots.Instance(wdeployment_id=NULL_A, apic=apic)
    wait_for(lambda: inst.get_status() == "READY", what="READY")
    assert inst.get_firewall_rules() == []
    inst.add_firewall_rule("REJECT", source_address="127.0.0.1")
    assert inst.get_firewall_rules() == [{"src": "127.0.0.1/32", "action": "REJECT"}]
    with pytest.raises(paramiko.SSHException):
        inst.start_sshclient()  # the sandbox's sshd closes the connection
    inst.flush_firewall_rules()
    inst.start_sshclient()
    assert inst.exec_ssh("echo through") == b"through\n"
    with pytest.raises(rerobots.api.Error, match="unrecognized firewall action"):
        inst.add_firewall_rule("ALLOW")
    inst.terminate()


def test_access_rules_with_the_official_client(sandbox: Sandbox) -> None:
    apic = client(sandbox)
    rid = apic.create_access_rule(NULL_A, "CAP_NO_INSTANTIATE")
    assert [r["id"] for r in apic.get_access_rules(wdeployment_id=NULL_A)] == [rid]
    with pytest.raises(rerobots.api.Error, match="not permitted"):
        rerobots.Instance(wdeployment_id=NULL_A, apic=apic)
    inst = rerobots.Instance(wdeployment_id=NULL_B, apic=apic)
    mine = inst.create_access_rule("CAP_INSTANTIATE", to_user=sandbox.app.user)
    assert [r["id"] for r in inst.get_access_rules()] == [mine]
    inst.del_access_rule(mine)
    assert inst.get_access_rules() == []
    apic.del_access_rule(NULL_A, rid)
    with pytest.raises(rerobots.api.Error, match="404"):
        apic.del_access_rule(NULL_A, rid)
    assert apic.get_access_rules() == []
    wait_for(lambda: inst.get_status() == "READY", what="READY")
    inst.terminate()


def test_reservations_with_the_official_client(sandbox: Sandbox) -> None:
    apic = client(sandbox)
    holder = rerobots.Instance(wdeployment_id=MISTY, apic=apic)
    reply = apic.request_instance(MISTY, reserve=True)
    assert reply["success"] is False
    assert [r["id"] for r in apic.get_reservations()] == [reply["id"]]
    apic.cancel_reservation(reply["id"])
    assert apic.get_reservations() == []
    with pytest.raises(rerobots.api.Error, match="reservation not found"):
        apic.cancel_reservation(reply["id"])
    kept = apic.request_instance(MISTY, reserve=True)["id"]
    wait_for(lambda: holder.get_status() == "READY", what="READY")
    holder.terminate()
    wait_for(lambda: not apic.get_reservations(), what="reservation fulfilled")
    [new] = [i for i in apic.get_instances() if i != holder._id]
    assert apic.get_instance_info(new)["deployment"] == MISTY
    assert kept not in apic.get_instances()
    wait_for(lambda: apic.get_instance_info(new)["status"] == "READY", what="READY")
    apic.terminate_instance(new)


def test_tokens_with_the_official_client(sandbox: Sandbox) -> None:
    extra = sandbox.app.issue_token()
    apic = client(sandbox)
    assert client(sandbox, extra).get_instances() == []
    apic.revoke_token(token=extra)
    with pytest.raises(WrongAuthToken):
        client(sandbox, extra).get_instances()
    with pytest.raises(ValueError):
        apic.revoke_token()
    apic.purge()
    with pytest.raises(WrongAuthToken):
        apic.get_instances()
    fresh = requests.post(sandbox.url + "/_admin/tokens", timeout=10).json()["token"]
    assert client(sandbox, fresh).get_instances() == []


def test_vnc_with_the_official_client(sandbox: Sandbox) -> None:
    apic = client(sandbox)
    inst = rerobots.Instance(wdeployment_id=NULL_A, apic=apic)
    wait_for(lambda: inst.get_status() == "READY", what="READY")
    assert apic.status_addon_vnc(inst._id) == {"status": "notfound"}
    apic.activate_addon_vnc(inst._id)
    wait_for(lambda: _active(apic.status_addon_vnc(inst._id)), what="vnc active")
    apic.start_addon_vnc(inst._id)
    [vnc] = sandbox.app.live_resources()["addons"]
    assert vnc["addon"] == "vnc" and vnc["running"] is True
    apic.stop_addon_vnc(inst._id)
    apic.deactivate_addon_vnc(inst._id)
    assert apic.status_addon_vnc(inst._id) == {"status": "notfound"}
    with pytest.raises(rerobots.api.Error):
        apic.start_addon_vnc(inst._id)
    inst.terminate()
