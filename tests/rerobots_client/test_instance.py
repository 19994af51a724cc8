"""Instance against the rerobots sandbox: lifecycle, real SSH, files, camera, add-ons, faults."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from pytest_robofixtures.common.transports import CommandFailed
from pytest_robofixtures.rerobots import (
    READY,
    APIClient,
    BusyWorkspaceDeployment,
    BusyWorkspaceInstance,
    Error,
    Frame,
    HostKeyMismatch,
    Instance,
    InstanceInitFailed,
    InstanceNotFound,
    InstanceNotReady,
    MissingAPIToken,
    ParamikoSSHSession,
    SSHError,
    WaitTimeout,
    hostkey_fingerprint,
    paramiko_ssh_factory,
)
from pytest_robofixtures.sim.sshd import generate_host_key, public_key_line

from .keyscan import files_containing, key_fragments, no_file_writes, scan_roots
from .test_api import MISTY, NULL_A, NULL_B


@pytest.fixture
def ready(apic):
    """A READY instance of type null, terminated afterwards."""
    inst = Instance(["null"], apic=apic)
    inst.wait_until_ready(timeout=30)
    yield inst
    if inst.get_status() == READY:
        inst.terminate(wait=True, timeout=30)


def test_request_wait_ready_and_details(apic):
    timeline: list[tuple[str, float]] = []
    inst = Instance(["null"], apic=apic)
    assert inst.status == "INIT" and inst.has_private_key
    assert inst.wdeployment_id in (NULL_A, NULL_B)
    assert apic.get_instances() == [inst.id]
    details = inst.wait_until_ready(timeout=30, on_change=lambda s, t: timeline.append((s, t)))
    # The first poll may already see READY on a loaded machine; the order is what matters.
    assert [s for s, _ in timeline] in (["INIT", "READY"], ["READY"])
    assert [t for _, t in timeline] == sorted(t for _, t in timeline)
    assert details["status"] == READY and details["type"] == "null"
    assert details["region"] and details["starttime"]
    conn = details["conn"]
    assert conn["type"] == "sshtun" and conn["ipv4"] == "127.0.0.1" and conn["port"] > 0
    assert conn["hostkeys"][0].startswith("ssh-")
    assert inst.get_details() == details
    assert [s for _, s in inst.status_history] == ["INIT", "READY"]
    assert inst.get_wdeployment_info()["id"] == inst.wdeployment_id
    assert inst.id in repr(inst) and "PRIVATE" not in repr(inst)
    inst.terminate(wait=True, timeout=30)


def test_ssh_exec_uname_failing_command_and_check(ready):
    r = ready.ssh.exec("uname -a")
    assert r.ok and r.exit_status == 0 and r.stderr == b""
    # The sandbox runs commands for real on this machine.
    assert r.stdout == subprocess.run(["uname", "-a"], capture_output=True, check=True).stdout
    assert ready.exec_ssh("echo hi") == b"hi\n"  # 0.11.0's surface: stdout bytes
    _stdin, stdout, stderr = ready.exec_ssh("echo out; echo err >&2", get_files=True)
    assert (stdout.read(), stderr.read()) == (b"out\n", b"err\n")
    bad = ready.ssh.exec("ls /definitely/not/here")
    assert bad.exit_status != 0 and not bad.ok
    assert b"definitely" in bad.stderr
    with pytest.raises(CommandFailed, match="definitely"):
        bad.check()
    with pytest.raises(CommandFailed):
        ready.ssh.run_ok("exit 4")
    assert ready.ssh.run_ok("printf ok").stdout == b"ok"


def test_files_both_ways(ready, tmp_path: Path):
    up = tmp_path / "up.bin"
    up.write_bytes(b"\x00robot\xff" * 5000)
    ready.ssh.put(up, "payload.bin")
    assert ready.ssh.run_ok("wc -c < payload.bin").stdout_text.strip() == str(up.stat().st_size)
    ready.ssh.run_ok("echo 'made on the robot' > report.txt")
    down = tmp_path / "down.txt"
    ready.ssh.get("report.txt", down)
    assert down.read_text() == "made on the robot\n"
    back = tmp_path / "back.bin"
    ready.get_file("payload.bin", str(back))  # 0.11.0 order: remote, local
    assert back.read_bytes() == up.read_bytes()
    ready.put_file(str(down), "copy.txt")
    assert ready.ssh.run_ok("cat copy.txt").stdout == b"made on the robot\n"
    assert "copy.txt" in ready.sftp_client().listdir(".")


def test_camera_frames(ready):
    saved: list[Frame] = []
    ready.on_frame = saved.append
    cam = ready.camera
    assert cam.status() == "notfound"
    assert cam.activate(wait=True, timeout=30) == "active"
    first = cam.snapshot()
    second = cam.snapshot()
    assert isinstance(first, Frame) and first.jpeg[:2] == b"\xff\xd8"
    assert isinstance(first.image, Image.Image)
    arr = first.array
    assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3
    assert arr.shape == first.shape == (first.image.size[1], first.image.size[0], 3)
    assert second.array.shape == arr.shape
    assert not np.array_equal(first.array, second.array)
    assert saved == [first, second]  # the report hook saw each frame
    other = cam.snapshot(camera_id=1)  # null deployments have two cameras
    assert other.camera_id == 1 and other.array.shape[2] == 3
    official_style = ready.get_snapshot_cam(dformat="ndarray")
    assert official_style["format"] == "ndarray" and official_style["data"].shape == arr.shape
    raw = ready.get_snapshot_cam(coding="base64")
    assert isinstance(raw["data"], str) and raw["coding"] == "base64"
    cam.deactivate()
    assert cam.status() == "notfound"
    with pytest.raises(Error, match="cam add-on not active"):
        cam.snapshot()


def test_camera_snapshot_while_starting(tmp_path):
    # A slow sandbox: the cam add-on stays "starting" for 2 s after activation.
    from pytest_robofixtures.sim._wsgi import SimServer
    from pytest_robofixtures.sim.rerobots import RerobotsSim

    with SimServer(RerobotsSim(token="t", delay=2.0, scratch_root=tmp_path)) as server:
        inst = Instance(["null"], apic=APIClient(api_token="t", base_uri=server.url))
        try:
            inst.wait_until_ready(timeout=30)
            assert inst.camera.activate(wait=False) == "starting"
            payload = inst.get_snapshot_cam()
            assert payload["success"] is False and "starting" in payload["message"]
            with pytest.raises(Error, match="gave no image: cam add-on is starting"):
                inst.camera.snapshot()
            assert inst.camera.activate(wait=True, timeout=30) == "active"
            assert inst.camera.snapshot().jpeg[:2] == b"\xff\xd8"
        finally:
            inst.terminate()


def test_mistyproxy(apic):
    with Instance(["fixed_misty2"], apic=apic) as inst:
        assert inst.wdeployment_id == MISTY
        inst.wait_until_ready(timeout=30)
        assert inst.status_addon_mistyproxy() == {"status": "notfound"}
        inst.activate_addon_mistyproxy()
        assert inst.wait_addon_active("mistyproxy", timeout=30) == "active"
        status = inst.status_addon_mistyproxy()
        http_url, https_url = status["url"]
        assert https_url.startswith("https://") and http_url.startswith("http://127.0.0.1")
        reply = requests.get(http_url + "/api/device", timeout=5).json()
        assert reply["status"] == "Success" and reply["result"]["path"] == "/api/device"
        inst.deactivate_addon_mistyproxy()
        assert inst.status_addon_mistyproxy() == {"status": "notfound"}
        assert requests.get(http_url, timeout=5).status_code == 404
    assert inst.get_status() in ("TERMINATING", "TERMINATED")


def test_vpn(apic):
    inst = Instance(["null"], apic=apic, vpn=True)
    try:
        inst.wait_until_ready(timeout=30)
        config = inst.vpn_config()
        assert config["client_id"] and "client" in config["ovpn"]
        assert inst.get_vpn_newclient()["client_id"] != config["client_id"]
    finally:
        inst.terminate(wait=True, timeout=30)
    plain = Instance(["null"], apic=apic)
    try:
        plain.wait_until_ready(timeout=30)
        with pytest.raises(Error, match="VPN is not enabled"):
            plain.vpn_config()
    finally:
        plain.terminate(wait=True, timeout=30)


def test_terminate_wait_terminated_and_ssh_refused_after(sandbox, apic):
    inst = Instance(["null"], apic=apic)
    inst.wait_until_ready(timeout=30)
    assert inst.ssh.run_ok("true").ok
    conn = inst.get_details()["conn"]
    seen: list[str] = []
    assert inst.terminate(wait=True, timeout=30, on_change=lambda s, t: seen.append(s)) \
        == "TERMINATED"
    assert seen[-1] == "TERMINATED" and set(seen) <= {"TERMINATING", "TERMINATED"}
    assert inst.get_status() == "TERMINATED"
    assert apic.get_instances() == []
    assert apic.get_instances(include_terminated=True) == [inst.id]
    with pytest.raises(InstanceNotReady, match="TERMINATED, not READY"):
        inst.ssh.exec("true")
    with pytest.raises(SSHError):  # the SSH server is gone, whatever key we hold
        paramiko_ssh_factory(conn["ipv4"], conn["port"], conn["hostkeys"], "-----BEGIN "
                             "RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----\n")
    inst.terminate()  # terminating a terminated instance again is harmless
    attached = Instance(instance_id=inst.id, apic=apic)
    assert attached.status == "TERMINATED"
    with pytest.raises(InstanceNotReady, match="TERMINATED"):
        attached.start_sshclient(private_key="never used")
    with pytest.raises(InstanceNotReady, match="went to TERMINATED"):
        attached.wait_until_ready(timeout=5)


def test_ssh_session_refused_after_terminate_even_with_the_key(sandbox, apic):
    captured: dict[str, object] = {}

    def spying_factory(host, port, hostkeys, private_key, username="root"):
        captured.update(host=host, port=port, hostkeys=hostkeys, key=private_key)
        return paramiko_ssh_factory(host, port, hostkeys, private_key, username)

    inst = Instance(["null"], apic=apic, ssh_factory=spying_factory)
    inst.wait_until_ready(timeout=30)
    assert inst.ssh.exec("echo up").stdout == b"up\n"
    inst.terminate(wait=True, timeout=30)
    with pytest.raises(SSHError, match="cannot open ssh"):
        paramiko_ssh_factory(captured["host"], captured["port"], captured["hostkeys"],
                             captured["key"])


def test_forged_host_key_is_refused(ready, keypair):
    conn = ready.get_details()["conn"]
    forged = public_key_line(generate_host_key())

    def forging_factory(host, port, hostkeys, private_key, username="root"):
        return paramiko_ssh_factory(host, port, [forged], private_key, username)

    victim = Instance(instance_id=ready.id, apic=ready.apic, ssh_factory=forging_factory)
    with pytest.raises(HostKeyMismatch) as info:
        victim.start_sshclient(private_key=keypair("ed25519")[0])  # never offered: refused first
    message = str(info.value)
    assert ready.id in message
    assert hostkey_fingerprint(conn["hostkeys"][0]) in message
    assert hostkey_fingerprint(forged) in message
    # The genuine details still work.
    assert ready.ssh.exec("echo fine").stdout == b"fine\n"


def test_attach_by_id(ready):
    same = Instance(instance_id=ready.id, apic=ready.apic)
    assert same.status == READY and same.wdeployment_id == ready.wdeployment_id
    assert not same.has_private_key
    # (how an instance adopted after a lost reply is used) the server hands out its key
    assert same.ssh.exec("echo attached").stdout == b"attached\n"
    assert same.has_private_key
    with pytest.raises(ValueError, match="belongs to workspace deployment"):
        Instance(instance_id=ready.id, wdeployment_id=MISTY, apic=ready.apic)
    with pytest.raises(ValueError, match="has workspace type 'null'"):
        Instance(["fixed_misty2"], instance_id=ready.id, apic=ready.apic)


def test_sftp_client_needs_the_paramiko_session(ready):
    assert isinstance(ready.ssh.session, ParamikoSSHSession)

    class FakeSession:
        def exec(self, command, timeout=None):
            raise AssertionError("not used")

        def put(self, local_path, remote_path):
            pass

        def get(self, remote_path, local_path):
            pass

        def close(self):
            pass

    other = Instance(instance_id=ready.id, apic=ready.apic,
                     ssh_factory=lambda *a, **k: FakeSession())
    with pytest.raises(SSHError, match="needs a real paramiko session"):
        other.sftp_client()


def test_constructor_rules(sandbox, apic):
    with pytest.raises(ValueError, match="needs workspace_types, wdeployment_id or instance_id"):
        Instance(apic=apic)
    with pytest.raises(ValueError, match="has type 'fixed_misty2'"):
        Instance(["null"], wdeployment_id=MISTY, apic=apic)
    with pytest.raises(ValueError, match="no workspace deployments"):
        Instance(["no_such_type"], apic=apic)
    with pytest.raises(InstanceNotFound):
        Instance(instance_id="missing-id", apic=apic)
    assert apic.get_instances() == []  # nothing was rented by a refused constructor
    # A wdeployment_id given with types is kept, not replaced by the first candidate.
    inst = Instance("null", wdeployment_id=NULL_B, apic=apic)
    assert inst.wdeployment_id == NULL_B
    assert apic.get_instance_info(inst.id)["deployment"] == NULL_B


def test_busy_deployment(sandbox, apic):
    sandbox.app.set_busy(NULL_A)
    with pytest.raises(BusyWorkspaceDeployment, match="busy"):
        Instance(wdeployment_id=NULL_A, apic=apic)
    # By type, a busy first candidate is skipped for a free one.
    inst = Instance(["null"], apic=apic)
    assert inst.wdeployment_id == NULL_B
    with pytest.raises(BusyWorkspaceDeployment, match="all 2 matching"):
        Instance(["null"], apic=apic)


def test_init_fail(sandbox, apic):
    sandbox.app.fail_next_instance()
    inst = Instance(["null"], apic=apic)
    seen: list[str] = []
    with pytest.raises(InstanceInitFailed, match="INIT_FAIL"):
        inst.wait_until_ready(timeout=30, on_change=lambda s, t: seen.append(s))
    assert seen in (["INIT", "INIT_FAIL"], ["INIT_FAIL"])
    with pytest.raises(InstanceInitFailed):
        inst.start_sshclient()
    assert inst.wait_until_terminated(timeout=5) == "INIT_FAIL"


def test_stuck_instance_times_out_on_the_virtual_clock(sandbox, apic, vclock):
    sandbox.app.stick_next_instance()
    inst = Instance(["null"], apic=apic, clock=vclock)
    with pytest.raises(WaitTimeout, match="last state: INIT") as info:
        inst.wait_until_ready(timeout=120)
    assert info.value.elapsed >= 120 and vclock.slept >= 120  # virtual time, no real sleep
    with pytest.raises(BusyWorkspaceInstance):
        inst.terminate()  # still INIT: the sandbox refuses


def test_terminate_wait_retries_while_busy(sandbox, apic):
    inst = Instance(["null"], apic=apic)  # INIT: terminate answers busy until READY
    assert inst.terminate(wait=True, timeout=30) == "TERMINATED"


def test_missing_token(sandbox, monkeypatch):
    monkeypatch.delenv("REROBOTS_API_TOKEN", raising=False)
    with pytest.raises(MissingAPIToken, match="REROBOTS_API_TOKEN"):
        Instance(["null"], apic=APIClient(base_uri=sandbox.url))
    with pytest.raises(MissingAPIToken, match="REROBOTS_API_TOKEN"):
        Instance(wdeployment_id=NULL_A, apic=APIClient(base_uri=sandbox.url))


def test_private_key_never_touches_the_disk(apic, tmp_path):
    since = time.time() - 1
    key_holder: dict[str, str] = {}

    def spying_factory(host, port, hostkeys, private_key, username="root"):
        key_holder["key"] = private_key
        with no_file_writes() as writes:
            session = paramiko_ssh_factory(host, port, hostkeys, private_key, username)
        key_holder["writes"] = list(writes)
        return session

    with no_file_writes() as writes:
        inst = Instance(["null"], apic=apic, ssh_factory=spying_factory)
        inst.wait_until_ready(timeout=30)
    assert writes == []
    try:
        assert inst.ssh.exec("echo in").stdout == b"in\n"
        (tmp_path / "f").write_text("x")
        inst.ssh.put(tmp_path / "f", "f")
    finally:
        inst.terminate(wait=True, timeout=30)
    assert key_holder["writes"] == []
    fragments = key_fragments(key_holder["key"])
    assert len(fragments) == 3
    assert files_containing(fragments, scan_roots() + [tmp_path], since) == []


def test_context_manager_terminates_even_during_init(apic):
    with Instance(["null"], apic=apic) as inst:
        assert inst.status == "INIT"
    assert inst.get_status() in ("TERMINATING", "TERMINATED")
    assert inst.wait_until_terminated(timeout=30) == "TERMINATED"
    assert apic.get_instances() == []


def test_an_instance_made_with_your_own_key_needs_that_key_when_attached(sandbox, apic, keypair):
    private, public = keypair("rsa")
    made = apic.request_instance("null", sshkey=public)
    assert "sshkey" not in made  # nothing generated: the key pair is yours
    attached = Instance(instance_id=made["id"], apic=apic)
    attached.wait_until_ready(timeout=30)
    with pytest.raises(SSHError, match="no private key here.*private_key="):
        attached.ssh.exec("true")
    assert attached.start_sshclient(private_key=private) is not None
    assert attached.ssh.exec("echo mine").stdout == b"mine\n"
    attached.terminate(wait=True, timeout=30)
