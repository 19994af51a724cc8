"""SimSSHServer driven directly with paramiko: exec, stdin, SFTP, auth, concurrency, stop."""

from __future__ import annotations

import io
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from pytest_robofixtures.sim.sshd import (
    SimSSHServer,
    generate_host_key,
    generate_rsa_key,
    parse_public_key,
)

from .conftest import wait_for


@pytest.fixture(scope="module")
def keypair() -> tuple[str, str]:
    return generate_rsa_key()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
def sshd(root: Path, keypair: tuple[str, str]) -> Iterator[SimSSHServer]:
    server = SimSSHServer(root, [keypair[1]]).start()
    try:
        yield server
    finally:
        server.stop()


def connect(server: SimSSHServer, pem: str, username: str = "root",
            host_key: paramiko.PKey | None = None) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    key = host_key if host_key is not None else server.host_key
    client.get_host_keys().add(f"[127.0.0.1]:{server.port}", key.get_name(), key)
    client.connect("127.0.0.1", port=server.port, username=username,
                   pkey=paramiko.RSAKey.from_private_key(io.StringIO(pem)), timeout=5,
                   allow_agent=False, look_for_keys=False)
    return client


def run(client: paramiko.SSHClient, command: str) -> tuple[bytes, bytes, int]:
    _, out, err = client.exec_command(command, timeout=10)
    return out.read(), err.read(), out.channel.recv_exit_status()


def test_host_key_line_is_openssh_text(sshd: SimSSHServer) -> None:
    kind, data = sshd.host_key_line.split()
    assert kind == "ssh-ed25519" and data.startswith("AAAA")
    assert parse_public_key(sshd.host_key_line).asbytes() == sshd.host_key.asbytes()


def test_exec_stdout_stderr_exit_status_cwd_home(sshd: SimSSHServer, root: Path, keypair) -> None:
    client = connect(sshd, keypair[0])
    try:
        out, err, status = run(client, "echo out; echo err >&2; pwd; echo $HOME; exit 7")
        assert out.decode().splitlines() == ["out", str(root), str(root)]
        assert err == b"err\n" and status == 7
        assert run(client, "true") == (b"", b"", 0)
        out, err, status = run(client, "no-such-command-xyz")
        assert status == 127 and b"not found" in err and out == b""
        # big output is streamed in full
        out, _, status = run(client, "head -c 300000 /dev/zero")
        assert len(out) == 300000 and status == 0
    finally:
        client.close()


def test_exec_stdin(sshd: SimSSHServer, keypair) -> None:
    client = connect(sshd, keypair[0])
    try:
        stdin, out, _ = client.exec_command("tr a-z A-Z")
        stdin.write(b"hello robot\n")
        stdin.channel.shutdown_write()
        assert out.read() == b"HELLO ROBOT\n"
        assert out.channel.recv_exit_status() == 0
    finally:
        client.close()


def test_sftp_put_get_and_paths_map_inside_root(sshd: SimSSHServer, root: Path, keypair,
                                                 tmp_path: Path) -> None:
    client = connect(sshd, keypair[0])
    try:
        sftp = client.open_sftp()
        local = tmp_path / "up.bin"
        payload = os.urandom(100_000)
        local.write_bytes(payload)
        sftp.mkdir("/data")
        sftp.put(str(local), "/data/up.bin")
        assert (root / "data" / "up.bin").read_bytes() == payload
        back = tmp_path / "back.bin"
        sftp.get("data/up.bin", str(back))  # relative paths are relative to the root
        assert back.read_bytes() == payload
        assert sftp.listdir("/") == ["data"]
        assert sftp.stat("/data/up.bin").st_size == len(payload)
        assert sftp.normalize(".") == "/"
        sftp.rename("/data/up.bin", "/data/moved.bin")
        assert run(client, "cat data/moved.bin | wc -c")[0].strip() == b"100000"
        sftp.remove("/data/moved.bin")
        sftp.rmdir("/data")
        assert list(root.iterdir()) == []
        with pytest.raises(FileNotFoundError):
            sftp.stat("/nope")
    finally:
        client.close()


def test_sftp_refuses_to_escape_the_root(sshd: SimSSHServer, root: Path, keypair,
                                         tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    os.symlink(tmp_path, root / "out")  # a link that points outside the root
    client = connect(sshd, keypair[0])
    try:
        sftp = client.open_sftp()
        # ".." cannot climb above "/": it names root/secret.txt, which does not exist
        with pytest.raises(FileNotFoundError):
            sftp.stat("/../../secret.txt")
        with pytest.raises(PermissionError):
            sftp.open("/out/secret.txt").read()
        with pytest.raises(PermissionError):
            sftp.listdir("/out")
        with pytest.raises(PermissionError):
            sftp.put(str(secret), "/out/written.txt")
        assert not (tmp_path / "written.txt").exists()
    finally:
        client.close()


def test_wrong_key_user_and_password_are_refused(sshd: SimSSHServer, keypair) -> None:
    other_pem, _ = generate_rsa_key()
    with pytest.raises(paramiko.AuthenticationException):
        connect(sshd, other_pem).close()
    with pytest.raises(paramiko.AuthenticationException):
        connect(sshd, keypair[0], username="admin").close()
    transport = paramiko.Transport(("127.0.0.1", sshd.port))
    try:
        transport.start_client(timeout=5)
        with pytest.raises(paramiko.BadAuthenticationType) as info:
            transport.auth_password("root", "root")
        assert info.value.allowed_types == ["publickey"]
    finally:
        transport.close()
    connect(sshd, keypair[0]).close()  # the right key still works


def test_wrong_host_key_is_detected_by_the_client(sshd: SimSSHServer, keypair) -> None:
    with pytest.raises(paramiko.BadHostKeyException):
        connect(sshd, keypair[0], host_key=generate_host_key())


def test_authorize_adds_a_key(sshd: SimSSHServer) -> None:
    pem, pub = generate_rsa_key()
    with pytest.raises(paramiko.AuthenticationException):
        connect(sshd, pem)
    sshd.authorize(pub)
    connect(sshd, pem).close()


def test_concurrent_connections_do_not_block_each_other(sshd: SimSSHServer, keypair) -> None:
    blocked = connect(sshd, keypair[0])
    others = [connect(sshd, keypair[0]) for _ in range(3)]
    try:
        stdin, out, _ = blocked.exec_command("read line; echo got $line")
        # while the first connection's command waits for input, the others run theirs
        results: dict[int, bytes] = {}

        def work(n: int, client: paramiko.SSHClient) -> None:
            results[n] = run(client, f"echo {n}")[0]

        threads = [threading.Thread(target=work, args=(n, c)) for n, c in enumerate(others)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        assert results == {0: b"0\n", 1: b"1\n", 2: b"2\n"}
        assert sshd.connection_count() == 4
        stdin.write(b"go\n")
        stdin.flush()
        assert out.read() == b"got go\n"
    finally:
        for c in [blocked, *others]:
            c.close()


def test_closing_the_client_kills_its_command(sshd: SimSSHServer, keypair) -> None:
    client = connect(sshd, keypair[0])
    _, out, _ = client.exec_command("echo $$; exec sleep 60")
    pid = int(out.readline())
    assert _alive(pid)
    client.close()
    wait_for(lambda: not _alive(pid), what=f"pid {pid} gone")


def test_stop_closes_connections_kills_commands_and_refuses_new(root: Path, keypair) -> None:
    server = SimSSHServer(root, [keypair[1]]).start()
    client = connect(server, keypair[0])
    _, out, _ = client.exec_command("echo $$; exec sleep 60")
    pid = int(out.readline())
    port = server.port
    server.stop()
    server.stop()  # idempotent
    assert out.channel.recv_exit_status() == -1  # the channel closed without a status
    wait_for(lambda: not client.get_transport().is_active(), what="client transport closed")
    assert not _alive(pid)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    client.close()


def test_stop_without_connections_and_before_start(root: Path, keypair) -> None:
    SimSSHServer(root, [keypair[1]]).start().stop()
    SimSSHServer(root, [keypair[1]]).stop()


def test_bad_authorized_key_is_rejected(root: Path) -> None:
    with pytest.raises(ValueError):
        SimSSHServer(root, ["ssh-rsa not-base64!"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); it is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # reading /proc of an exiting task: ESRCH
        return False


def test_fast_commands_never_close_before_exec_is_acknowledged(
    sshd: SimSSHServer, keypair
) -> None:
    # A command that exits at once must not close its channel before paramiko has told the
    # client "exec succeeded" (else the client raises "Channel closed"). Several threads share
    # one connection, so the acknowledgements also interleave.
    client = connect(sshd, keypair[0])
    failures: list[BaseException] = []

    def work() -> None:
        for _ in range(20):
            try:
                _, out, _ = client.exec_command("exit 3", timeout=10)
                assert out.channel.recv_exit_status() == 3
            except BaseException as exc:  # collected: the assert below names them
                failures.append(exc)

    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert failures == []
    finally:
        client.close()
