"""``on_created`` is called with the new id before any follow-up read, so teardown can be
registered even when that read fails (the sandbox answers 404 to the read here)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_robofixtures.rapyuta import (
    Build,
    Client,
    DeviceArch,
    NativeNetwork,
    ROSDistro,
    StrategyType,
)
from pytest_robofixtures.rapyuta.errors import ResourceNotFoundError
from pytest_robofixtures.sim._wsgi import FaultRule

from ._families import our_client
from ._support import Sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    c = our_client(sandbox)
    yield c
    c.close()


def _fail_reads(sandbox: Sandbox, path: str) -> None:
    # 404 is not retried, so the read after the create fails at once
    sandbox.app.faults.add(FaultRule(kind="status", status=404, method="GET", path=path))


def test_native_network(client: Client, sandbox: Sandbox) -> None:
    _fail_reads(sandbox, r"^/nativenetwork/")
    ids: list[str] = []
    with pytest.raises(ResourceNotFoundError):
        client.create_native_network(NativeNetwork("nn", "cloud", ROSDistro.NOETIC),
                                     on_created=ids.append)
    assert ids == [n["id"] for n in sandbox.app.live_resources()["native_networks"]]


def test_volume(client: Client, sandbox: Sandbox) -> None:
    pv = client.get_persistent_volume()
    _fail_reads(sandbox, r"^/disk/")
    ids: list[str] = []
    with pytest.raises(ResourceNotFoundError):
        pv.create_volume_instance("vol", 4, on_created=ids.append)
    live = sandbox.app.live_resources()
    assert len(ids) == 1 and ids == [d["id"] for d in live["deployments"]]
    sandbox.app.faults.clear()
    client.get_volume_instance(ids[0]).destroy_volume_instance()
    assert "volume_instances" not in sandbox.app.live_resources()


def test_build(client: Client, sandbox: Sandbox) -> None:
    _fail_reads(sandbox, r"^/build/")
    ids: list[str] = []
    with pytest.raises(ResourceNotFoundError):
        client.create_build(Build("b", StrategyType.DOCKER, "https://github.com/x/y.git",
                                  DeviceArch.AMD64), on_created=ids.append)
    assert ids == [b["id"] for b in sandbox.app.live_resources()["builds"]]
