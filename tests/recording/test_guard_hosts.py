"""Allowed hosts of the network guard (exact, host:port, globs, CIDR, regex) and its message."""

from __future__ import annotations

import socket

import pytest

from pytest_robofixtures.recording import NetworkBlocked, network_guard
from pytest_robofixtures.recording.guard import compile_allowed_hosts
from pytest_robofixtures.sim._wsgi import SimServer


@pytest.mark.parametrize(("rules", "host", "port", "ok"), [
    (["api.example.com"], "api.example.com", 443, True),
    (["api.example.com"], "API.example.com", 8443, True),
    (["api.example.com"], "other.example.com", 443, False),
    (["api.example.com:443"], "api.example.com", 443, True),
    (["api.example.com:443"], "api.example.com", 80, False),
    (["api.example.com:443"], "api.example.com", None, True),  # name lookup: port unknown
    (["*.example.com"], "a.b.example.com", 1, True),
    (["*.example.com"], "example.com", 1, False),
    (["10.0.0.0/8"], "10.1.2.3", 22, True),
    (["10.0.0.0/8"], "11.1.2.3", 22, False),
    (["[2001:db8::1]:443"], "2001:db8::1", 443, True),
    (["[2001:db8::1]:443"], "2001:db8::1", 80, False),
    (["re:robot-[0-9]+\\.lan"], "robot-17.lan", 22, True),
    (["re:robot-[0-9]+\\.lan"], "robot-x.lan", 22, False),
    ("a.example, b.example:80", "b.example", 80, True),  # the --robo-allow-hosts form
    ("a.example, b.example:80", "c.example", 80, False),
])
def test_host_rules(rules: list[str] | str, host: str, port: int | None, ok: bool) -> None:
    assert compile_allowed_hosts(rules).allows(host, port) is ok


def test_bad_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="allowed host"):
        compile_allowed_hosts(["re:("])


def test_allowed_address_really_connects_and_others_are_blocked(demo: SimServer) -> None:
    port = int(demo.url.rsplit(":", 1)[1])
    # 0.0.0.0 is not loopback for the guard, yet Linux delivers it to the local server:
    # a real connection, with no packet leaving the machine.
    for rules in (["0.0.0.0"], [f"0.0.0.0:{port}"], ["0.0.*"], ["0.0.0.0/32"]):
        with network_guard(rules):
            with socket.create_connection(("0.0.0.0", port), timeout=10):
                pass
    with network_guard([f"0.0.0.0:{port + 1}"]), pytest.raises(NetworkBlocked) as info:
        socket.create_connection(("0.0.0.0", port), timeout=10)
    message = str(info.value)
    assert f"0.0.0.0:{port}" in message
    for option in ("--robo-sim", "--robo-live", "--robo-allow-hosts", "robo_config",
                   "allowed_hosts"):
        assert option in message
    assert "explicit allowed host" not in message
