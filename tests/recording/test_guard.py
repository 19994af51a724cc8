"""The network guard: replay is hermetic (loopback only), and it restores the socket module."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests

from pytest_robofixtures.common.http import make_session
from pytest_robofixtures.recording import (
    NetworkBlocked,
    Recorder,
    RecordingMismatch,
    Scrubber,
    is_loopback,
    network_guard,
    recording_path,
)
from pytest_robofixtures.sim._wsgi import SimServer

from .conftest import RERECORD, headers


def test_non_loopback_connect_fails_at_once() -> None:
    with network_guard():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            with pytest.raises(NetworkBlocked, match=r"192\.0\.2\.1:80"):
                s.connect(("192.0.2.1", 80))
            with pytest.raises(NetworkBlocked):
                s.connect_ex(("10.20.30.40", 443))
        finally:
            s.close()
        with pytest.raises(NetworkBlocked):
            socket.create_connection(("198.51.100.7", 22), timeout=30)
        with pytest.raises(NetworkBlocked, match="example.com"):
            socket.getaddrinfo("example.com", 443)


def test_requests_to_the_internet_fail_clearly_not_as_retried_connection_errors() -> None:
    with network_guard(), pytest.raises(NetworkBlocked) as info:
        make_session(retries=3).get("http://robot.example.com/api")
    assert "hermetic" in str(info.value)


def test_loopback_is_allowed(demo: SimServer) -> None:
    with network_guard():
        r = requests.post(f"{demo.url}/echo", json={"a": 1}, headers=headers(), timeout=5)
        assert r.json()["got"] == {"a": 1}
        assert socket.getaddrinfo("localhost", demo.port)


def test_allowed_hosts_and_nesting_restore_the_socket_module() -> None:
    originals = (socket.socket.connect, socket.socket.connect_ex, socket.create_connection,
                 socket.getaddrinfo)
    with network_guard(allowed_hosts=["db.internal"]):
        with network_guard():
            with pytest.raises(NetworkBlocked):
                socket.getaddrinfo("other.internal", 1)
        # still guarded after the inner guard exits
        with pytest.raises(NetworkBlocked):
            socket.getaddrinfo("other.internal", 1)
        try:
            socket.getaddrinfo("db.internal", 1)  # allowed: goes to the real resolver
        except socket.gaierror:
            pass
    assert (socket.socket.connect, socket.socket.connect_ex, socket.create_connection,
            socket.getaddrinfo) == originals


def test_disabled_guard_changes_nothing() -> None:
    before = socket.getaddrinfo
    with network_guard(enabled=False):
        assert socket.getaddrinfo is before


@pytest.mark.parametrize(("host", "ok"), [
    ("127.0.0.1", True), ("127.5.5.5", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("10.0.0.1", False), ("example.com", False), (b"127.0.0.1", True),
])
def test_is_loopback(host: object, ok: bool) -> None:
    assert is_loopback(host) is ok


def test_replay_of_an_unrecorded_remote_request_is_a_mismatch_not_a_connection(
    tmp_path: Path, demo: SimServer
) -> None:
    path = recording_path(tmp_path, "tests/t.py::test_x")
    rec = Recorder.open(path, "record", RERECORD, Scrubber())
    with rec.http():
        make_session(headers=headers()).post(f"{demo.url}/echo", json={})
    rec.close()
    rep = Recorder.open(path, "replay", RERECORD, Scrubber())
    with rep.active(), pytest.raises(RecordingMismatch, match="host: recorded '127.0.0.1'"):
        make_session().post("https://api.example.com/echo", json={})
