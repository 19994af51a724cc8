"""ParamikoSSHSession against a real paramiko SSH server on loopback."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from pytest_robofixtures.common.transports import CommandFailed
from pytest_robofixtures.rerobots import (
    CommandTimeout,
    HostKeyMismatch,
    ParamikoSSHSession,
    SSHError,
    hostkey_fingerprint,
    paramiko_ssh_factory,
)
from pytest_robofixtures.sim.sshd import generate_host_key, public_key_line

from .keyscan import files_containing, key_fragments, no_file_writes, scan_roots


@pytest.fixture
def server_and_key(sshd, keypair):
    private, public = keypair("rsa")
    return sshd(public), private


@pytest.fixture
def session(server_and_key):
    server, private = server_and_key
    s = paramiko_ssh_factory(server.host, server.port, [server.host_key_line + " root@sim"],
                             private)
    yield s
    s.close()


def test_exec_reports_stdout_stderr_and_exit_status(session):
    ok = session.exec("uname -a")
    assert ok.exit_status == 0 and ok.ok
    assert ok.stdout == subprocess.run(["uname", "-a"], capture_output=True, check=True).stdout
    assert ok.stderr == b""
    bad = session.exec("echo out; echo oops >&2; exit 7")
    assert (bad.stdout, bad.stderr, bad.exit_status, bad.ok) == (b"out\n", b"oops\n", 7, False)
    with pytest.raises(CommandFailed, match="exited 7: oops"):
        bad.check()


def test_exec_drains_large_stdout_and_stderr_together(session):
    r = session.exec("head -c 2500000 /dev/zero | tr '\\0' a; head -c 2500000 /dev/zero | "
                     "tr '\\0' b >&2")
    assert (len(r.stdout), len(r.stderr), r.exit_status) == (2500000, 2500000, 0)
    assert set(r.stdout) == {ord("a")} and set(r.stderr) == {ord("b")}


def test_command_reading_stdin_gets_eof(session):
    assert session.exec("cat; echo done", timeout=10).stdout == b"done\n"


def test_exec_timeout_raises(session):
    with pytest.raises(CommandTimeout, match="sleep 30"):
        session.exec("sleep 30", timeout=0.3)
    assert session.exec("echo still usable").stdout == b"still usable\n"


def test_put_and_get_round_trip(session, server_and_key, tmp_path: Path):
    server, _ = server_and_key
    payload = bytes(range(256)) * 300
    local = tmp_path / "up.bin"
    local.write_bytes(payload)
    session.put(str(local), "/up.bin")
    assert (server.root / "up.bin").read_bytes() == payload
    (server.root / "remote.txt").write_text("from the robot\n")
    back = tmp_path / "down.txt"
    session.get("/remote.txt", str(back))
    assert back.read_text() == "from the robot\n"
    with pytest.raises(SSHError, match="sftp get /nope"):
        session.get("/nope", str(tmp_path / "x"))


def test_sftp_property_is_paramiko_sftp(session, server_and_key):
    server, _ = server_and_key
    session.sftp.mkdir("/made")
    assert (server.root / "made").is_dir()


@pytest.mark.parametrize("kind", ["rsa", "ed25519", "ecdsa"])
def test_login_with_each_key_type(sshd, keypair, kind):
    private, public = keypair(kind)
    server = sshd(public)
    with_comment = server.host_key_line + " root@somewhere"
    s = ParamikoSSHSession(server.host, server.port, [with_comment], private)
    try:
        assert s.exec("echo $USER").stdout == b"root\n"
    finally:
        s.close()


@pytest.mark.parametrize("forged_kind", ["ed25519", "rsa"])
def test_other_host_key_is_refused(server_and_key, keypair, forged_kind):
    server, private = server_and_key
    if forged_kind == "ed25519":
        forged = public_key_line(generate_host_key())
    else:
        forged = keypair("rsa")[1]
    with pytest.raises(HostKeyMismatch) as info:
        paramiko_ssh_factory(server.host, server.port, [forged], private)
    message = str(info.value)
    assert hostkey_fingerprint(server.host_key_line) in message  # what the server offered
    assert hostkey_fingerprint(forged) in message  # what the instance details promised
    assert info.value.got == hostkey_fingerprint(server.host_key_line)


def test_no_host_keys_means_no_connection(server_and_key):
    server, private = server_and_key
    with pytest.raises(SSHError, match="no host keys"):
        paramiko_ssh_factory(server.host, server.port, [], private)


def test_unparsable_host_key_line(server_and_key):
    server, private = server_and_key
    with pytest.raises(SSHError, match="OpenSSH public key line"):
        paramiko_ssh_factory(server.host, server.port, ["AAAAC3NzaC1lZDI1NTE5"], private)


def test_missing_private_key_is_a_clear_error(server_and_key):
    server, _ = server_and_key
    with pytest.raises(SSHError, match="no private key"):
        paramiko_ssh_factory(server.host, server.port, [server.host_key_line], None)


def test_key_the_server_does_not_accept(server_and_key, keypair):
    server, _ = server_and_key
    other_private, _ = keypair("ed25519")
    with pytest.raises(SSHError, match="refused the instance's key"):
        paramiko_ssh_factory(server.host, server.port, [server.host_key_line], other_private)


def test_garbage_private_key_is_not_echoed(server_and_key):
    server, private = server_and_key
    broken = private.replace(private.splitlines()[3], "A" * 64)
    with pytest.raises(SSHError) as info:
        paramiko_ssh_factory(server.host, server.port, [server.host_key_line], broken)
    assert not any(frag in str(info.value) for frag in key_fragments(private))
    with pytest.raises(SSHError, match="not a PEM/OpenSSH private key") as info:
        paramiko_ssh_factory(server.host, server.port, [server.host_key_line], "s3cr3t-n0t-a-key")
    assert "s3cr3t" not in str(info.value)


def test_closed_session_refuses_work(session):
    session.close()
    session.close()  # idempotent
    with pytest.raises(SSHError, match="closed"):
        session.exec("true")


def test_connection_refused_is_ssh_error(keypair):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    private, _ = keypair("ed25519")
    with pytest.raises(SSHError, match="cannot open ssh"):
        paramiko_ssh_factory("127.0.0.1", port, [public_key_line(generate_host_key())], private)


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_private_key_never_touches_the_disk(sshd, keypair, tmp_path, kind):
    private, public = keypair(kind)
    server = sshd(public)
    since = time.time() - 1
    with no_file_writes() as writes:
        s = paramiko_ssh_factory(server.host, server.port, [server.host_key_line], private)
    try:
        assert s.exec("echo hi").stdout == b"hi\n"
    finally:
        s.close()
    assert writes == []
    fragments = key_fragments(private)
    assert len(fragments) == 3
    assert files_containing(fragments, scan_roots(), since) == []
    # The scanner itself works: a key written to a file is found.
    leak = tmp_path / "leak.pem"
    leak.write_text(private)
    assert files_containing(fragments, [tmp_path], since) == [leak]
