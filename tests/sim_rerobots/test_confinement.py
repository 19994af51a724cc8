"""SimSSHServer confinement, through real SSH/SFTP connections: env, user, links."""

from __future__ import annotations

import io
import os
import pwd
import struct
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from pytest_robofixtures.sim.sshd import EXEC_PATH, SimSSHServer, generate_rsa_key

AS_ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def keypair() -> tuple[str, str]:
    return generate_rsa_key()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
def client(root: Path, keypair: tuple[str, str]) -> Iterator[paramiko.SSHClient]:
    server = SimSSHServer(root, [keypair[1]]).start()
    ssh = paramiko.SSHClient()
    ssh.get_host_keys().add(
        f"[127.0.0.1]:{server.port}", server.host_key.get_name(), server.host_key
    )
    ssh.connect("127.0.0.1", port=server.port, username="root",
                pkey=paramiko.RSAKey.from_private_key(io.StringIO(keypair[0])), timeout=5,
                allow_agent=False, look_for_keys=False)
    try:
        yield ssh
    finally:
        ssh.close()
        server.stop()


def run(ssh: paramiko.SSHClient, command: str, **kw: object) -> tuple[str, str, int]:
    _, out, err = ssh.exec_command(command, timeout=10, **kw)  # type: ignore[arg-type]
    return out.read().decode(), err.read().decode(), out.channel.recv_exit_status()


def env_of(ssh: paramiko.SSHClient, **kw: object) -> dict[str, str]:
    out, _, status = run(ssh, "env", **kw)
    assert status == 0
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_env_requests_cannot_change_what_runs(client: paramiko.SSHClient) -> None:
    env = env_of(client, environment={
        "PATH": "/tmp/evil-bin", "LD_PRELOAD": "/tmp/evil.so", "LD_LIBRARY_PATH": "/tmp",
        "BASH_ENV": "/tmp/evil.sh", "ENV": "/tmp/evil.sh", "IFS": "x", "PYTHONPATH": "/tmp",
        "SHELLOPTS": "xtrace", "LANG": "C", "LC_ALL": "C", "TZ": "UTC", "TERM": "dumb",
    })
    assert env["PATH"] == EXEC_PATH
    refused = {"LD_PRELOAD", "LD_LIBRARY_PATH", "BASH_ENV", "ENV", "PYTHONPATH", "SHELLOPTS"}
    assert not refused & set(env)
    assert env.get("IFS") != "x"
    # The usual AcceptEnv names are honoured.
    assert (env["LANG"], env["LC_ALL"], env["TZ"], env["TERM"]) == ("C", "C", "UTC", "dumb")


def test_commands_get_a_clean_environment(
    client: paramiko.SSHClient, monkeypatch: pytest.MonkeyPatch, root: Path
) -> None:
    monkeypatch.setenv("ROBO_CANARY_SECRET", "must-not-leak")
    monkeypatch.setenv("PATH", "/canary-bin:" + os.environ.get("PATH", ""))
    monkeypatch.setenv("LD_PRELOAD", "")
    env = env_of(client)
    assert "must-not-leak" not in "".join(f"{k}={v}" for k, v in env.items())
    assert env["PATH"] == EXEC_PATH and "LD_PRELOAD" not in env
    assert set(env) <= {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "PWD", "OLDPWD",
                        "SHLVL", "_"}
    assert env["HOME"] == str(root) and env["USER"] == "root"


@pytest.mark.skipif(not AS_ROOT, reason="the sandbox drops privileges only when run as root")
def test_as_root_commands_run_unprivileged_and_files_stay_usable(
    client: paramiko.SSHClient, root: Path, tmp_path: Path
) -> None:
    nobody = pwd.getpwnam("nobody")
    out, _, _ = run(client, "id -u; id -g; id -G")
    assert out.split() == [str(nobody.pw_uid), str(nobody.pw_gid), str(nobody.pw_gid)]
    _, err, status = run(client, "cat /etc/shadow")
    assert status != 0 and "Permission denied" in err
    # Commands write in the instance directory; SFTP reads what they made.
    assert run(client, "echo made > made.txt")[2] == 0
    assert root.joinpath("made.txt").stat().st_uid == nobody.pw_uid
    sftp = client.open_sftp()
    with sftp.open("/made.txt") as fh:
        assert fh.read() == b"made\n"
    # SFTP uploads belong to the command user, so commands can change them.
    local = tmp_path / "up.txt"
    local.write_text("up\n")
    sftp.mkdir("/dir")
    sftp.put(str(local), "/dir/up.txt")
    for made in (root / "dir", root / "dir" / "up.txt"):
        assert (made.stat().st_uid, made.stat().st_gid) == (nobody.pw_uid, nobody.pw_gid)
    assert run(client, "echo more >> dir/up.txt && cat dir/up.txt")[0] == "up\nmore\n"
    # SFTP cannot hand a file to root or make it setuid (that would run as root).
    sftp.chmod("/dir/up.txt", 0o4755)
    sftp.chown("/dir/up.txt", 0, 0)
    st = (root / "dir" / "up.txt").stat()
    assert st.st_mode & 0o7777 == 0o755 and st.st_uid == nobody.pw_uid
    sftp.close()


def test_sftp_refuses_symlinks_that_leave_the_root(
    client: paramiko.SSHClient, root: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path, root / "out")  # made outside SFTP: points out of the root
    sftp = client.open_sftp()
    try:
        with pytest.raises(PermissionError):
            sftp.symlink("../../../etc/passwd", "/climb")
        with pytest.raises(PermissionError):
            sftp.symlink("../" * 30 + "etc", "/deep")
        with pytest.raises(PermissionError):
            sftp.symlink("out/secret.txt", "/via-link")  # resolves outside
        assert not any(os.path.lexists(root / n) for n in ("climb", "deep", "via-link"))
        # Inside targets work, stored relative to the link.
        (root / "data").mkdir()
        (root / "data" / "f.txt").write_text("inside")
        sftp.symlink("data/f.txt", "/lnk")
        sftp.symlink("/data/f.txt", "/data/abs")  # absolute remote paths are inside the root
        assert os.readlink(root / "lnk") == "data/f.txt"
        assert os.readlink(root / "data" / "abs") == "f.txt"
        with sftp.open("/data/abs") as fh:
            assert fh.read() == b"inside"
        assert sftp.readlink("/lnk") == "/data/f.txt"
    finally:
        sftp.close()


def _sftp_raw(chan: paramiko.Channel, kind: int, payload: bytes) -> tuple[int, bytes]:
    chan.sendall(struct.pack(">IB", len(payload) + 1, kind) + payload)

    def exact(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = chan.recv(n - len(data))
            if not chunk:
                raise EOFError("sftp channel closed")
            data += chunk
        return data

    length, reply = struct.unpack(">IB", exact(5))
    return reply, exact(length - 1)


def test_sftp_refuses_hard_links(
    client: paramiko.SSHClient, root: Path, tmp_path: Path
) -> None:
    # The hardlink@openssh.com request: unsupported, nothing made.
    transport = client.get_transport()
    assert transport is not None
    chan = transport.open_session()
    chan.settimeout(10)
    chan.invoke_subsystem("sftp")
    try:
        kind, _ = _sftp_raw(chan, 1, struct.pack(">I", 3))  # INIT, version 3
        assert kind == 2  # VERSION
        m = paramiko.Message()
        m.add_int(7)
        m.add_string("hardlink@openssh.com")
        m.add_string("/etc/passwd")
        m.add_string("/hl")
        kind, body = _sftp_raw(chan, 200, m.asbytes())  # EXTENDED
        assert kind == 101  # STATUS
        request_id, code = struct.unpack(">II", body[:8])
        assert request_id == 7 and code == paramiko.sftp.SFTP_OP_UNSUPPORTED
        assert not os.path.lexists(root / "hl")
    finally:
        chan.close()
    # A hard link made some other way to a file outside the root cannot be opened by SFTP.
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    os.link(outside, root / "linked.txt")
    (root / "a.txt").write_text("twice inside")
    os.link(root / "a.txt", root / "b.txt")
    sftp = client.open_sftp()
    try:
        with pytest.raises(PermissionError):
            sftp.open("/linked.txt").read()
        with pytest.raises(PermissionError):
            sftp.open("/linked.txt", "w").write(b"overwrite")
        assert outside.read_text() == "secret"
        with sftp.open("/b.txt") as fh:  # both links inside: fine
            assert fh.read() == b"twice inside"
    finally:
        sftp.close()



@pytest.mark.skipif(not AS_ROOT, reason="the sandbox drops privileges only when run as root")
def test_instance_home_is_reachable_by_the_unprivileged_user() -> None:
    import shutil
    import tempfile

    from pytest_robofixtures.sim._wsgi import SimServer
    from pytest_robofixtures.sim.rerobots import RerobotsSim

    from .conftest import TOKEN, Sandbox

    base = Path(tempfile.mkdtemp(prefix="rr-home-"))
    base.chmod(0o711)  # what a sandbox's own scratch parent must allow
    try:
        app = RerobotsSim(token=TOKEN, delay=0.05, scratch_root=base / "rerobots")
        with SimServer(app) as server:
            box = Sandbox(app, server)
            created = box.new("null")
            info = box.wait_status(created["id"], "READY")
            ssh = paramiko.SSHClient()
            kind, data = info["hostkeys"][0].split()[:2]
            ssh.get_host_keys().add(f"[127.0.0.1]:{info['fwd']['port']}", kind,
                                    paramiko.PKey.from_type_string(kind, _b64(data)))
            ssh.connect("127.0.0.1", port=info["fwd"]["port"], username="root", timeout=5,
                        pkey=paramiko.RSAKey.from_private_key(io.StringIO(created["sshkey"])),
                        allow_agent=False, look_for_keys=False)
            try:
                out, err, status = run(ssh, 'cd / && cd "$HOME" && touch here && ls && id -u')
                assert status == 0, err
                assert out.split() == ["here", str(pwd.getpwnam("nobody").pw_uid)]
                # The other instances' dirs cannot be listed.
                _, _, status = run(ssh, 'ls "$HOME/.."')
                assert status != 0
            finally:
                ssh.close()
                box.post(f"/terminate/{created['id']}")
                box.http.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _b64(text: str) -> bytes:
    import base64

    return base64.b64decode(text)
