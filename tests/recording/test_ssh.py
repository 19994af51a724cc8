"""SSH recording around a real paramiko session to a real SSH server, replayed without one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_robofixtures.common.transports import ExecResult
from pytest_robofixtures.recording import (
    Recorder,
    RecordingMismatch,
    Scrubber,
    SSHFactory,
    network_guard,
    recording_path,
    scan_for_secrets,
)
from pytest_robofixtures.recording.stable import read_document
from pytest_robofixtures.rerobots.ssh import paramiko_ssh_factory
from pytest_robofixtures.sim.sshd import SimSSHServer

from .conftest import RERECORD, TOKEN

NODEID = "tests/test_arm.py::test_ssh"


@pytest.fixture
def sshd(tmp_path: Path, keypair: tuple[str, str]) -> Iterator[SimSSHServer]:
    root = tmp_path / "remote"
    root.mkdir()
    server = SimSSHServer(root, [keypair[1]]).start()
    try:
        yield server
    finally:
        server.stop()


def session_work(
    factory: SSHFactory, port: int, hostkey: str, key: str, local: Path
) -> dict[str, Any]:
    s = factory("127.0.0.1", port, [hostkey], key)
    try:
        hello = s.exec("echo hello; echo oops >&2; exit 3")
        secret = s.exec(f"echo token={TOKEN}")
        (local / "up.bin").write_bytes(b"\x00\x01payload\xff" * 50)
        s.put(str(local / "up.bin"), "/up.bin")
        size = s.exec("wc -c < up.bin")
        s.get("/up.bin", str(local / "down.bin"))
        return {"hello": hello, "secret_rc": secret.exit_status, "size": size.stdout.strip(),
                "down": (local / "down.bin").read_bytes()}
    finally:
        s.close()


@pytest.fixture
def recorded(tmp_path: Path, sshd: SimSSHServer, private_key: str) -> dict[str, Any]:
    rec = Recorder.open(recording_path(tmp_path / "cassettes", NODEID), "record", RERECORD,
                        Scrubber(secrets=[TOKEN]))
    local = tmp_path / "local-rec"
    local.mkdir()
    result = session_work(rec.ssh_factory(paramiko_ssh_factory), sshd.port, sshd.host_key_line,
                          private_key, local)
    rec.close()
    result["port"] = sshd.port
    result["hostkey"] = sshd.host_key_line
    sshd.stop()
    return result


def replay(tmp_path: Path) -> Recorder:
    # The plugin passes the run's credentials in replay too, so commands scrub alike.
    return Recorder.open(recording_path(tmp_path / "cassettes", NODEID), "replay", RERECORD,
                         Scrubber(secrets=[TOKEN]))


def test_ssh_replays_exec_put_get_without_server(tmp_path: Path, recorded: dict[str, Any]) -> None:
    rec = replay(tmp_path)
    local = tmp_path / "local-rep"
    local.mkdir()
    with network_guard():
        result = session_work(rec.ssh_factory(), recorded["port"], recorded["hostkey"],
                              "<scrubbed:private-key>", local)
    assert result["hello"] == ExecResult("echo hello; echo oops >&2; exit 3", b"hello\n",
                                         b"oops\n", 3)
    assert result["hello"] == recorded["hello"]
    assert result["size"] == recorded["size"] == b"500"
    assert result["down"] == recorded["down"] == b"\x00\x01payload\xff" * 50
    assert rec.close().unused == []


def test_ssh_section_and_scrubbing(tmp_path: Path, recorded: dict, private_key: str) -> None:
    bundle = recording_path(tmp_path / "cassettes", NODEID)
    doc = read_document(bundle)
    ops = doc["ssh"]
    assert ops[0] == {"host": "127.0.0.1", "port": recorded["port"], "user": "root",
                      "exec": "echo hello; echo oops >&2; exit 3", "stdout": "hello\n",
                      "stderr": "oops\n", "exit_status": 3}
    assert ops[1]["exec"] == "echo token=<scrubbed:1>"
    assert ops[1]["stdout"] == "token=<scrubbed:1>\n"
    put = next(o for o in ops if "put" in o)
    assert put["put"] == "/up.bin" and put["size"] == 500 and len(put["sha256"]) == 64
    get = next(o for o in ops if "get" in o)
    assert (bundle / "blobs" / get["blob"]).read_bytes() == recorded["down"]
    key_line = private_key.splitlines()[1]
    assert scan_for_secrets([bundle], [TOKEN, key_line]) == []


def test_changed_command_is_a_clear_mismatch(tmp_path: Path, recorded: dict[str, Any]) -> None:
    rec = replay(tmp_path)
    s = rec.ssh_factory()("127.0.0.1", recorded["port"], [], None)
    with pytest.raises(RecordingMismatch) as info:
        s.exec("echo hello; echo oops >&2; exit 4")
    message = str(info.value)
    assert "SSH request not found" in message
    assert "exec 'echo hello; echo oops >&2; exit 4'" in message
    assert "nearest recorded SSH request:" in message
    assert "command: recorded 'echo hello; echo oops >&2; exit 3'" in message
    assert str(rec.path) in message and RERECORD in message


def test_put_with_different_content_is_a_mismatch(tmp_path: Path, recorded: dict[str, Any]) -> None:
    rec = replay(tmp_path)
    s = rec.ssh_factory()("127.0.0.1", recorded["port"], [], None)
    other = tmp_path / "other.bin"
    other.write_bytes(b"something else")
    with pytest.raises(RecordingMismatch, match="uploaded file differs"):
        s.put(str(other), "/up.bin")


def test_recorded_ssh_failure_is_replayed(tmp_path: Path, sshd: SimSSHServer,
                                          private_key: str) -> None:
    path = recording_path(tmp_path / "c", NODEID)
    rec = Recorder.open(path, "record", RERECORD, Scrubber())
    s = rec.ssh_factory(paramiko_ssh_factory)("127.0.0.1", sshd.port, [sshd.host_key_line],
                                              private_key)
    with pytest.raises(Exception) as live:
        s.get("/does/not/exist", str(tmp_path / "x"))
    s.close()
    rec.close()
    rep = Recorder.open(path, "replay", RERECORD, Scrubber())
    with pytest.raises(Exception) as replayed:
        rep.ssh_factory()("127.0.0.1", sshd.port, [], None).get("/does/not/exist", "x")
    assert type(replayed.value) is type(live.value)
    assert str(live.value) in str(replayed.value)
