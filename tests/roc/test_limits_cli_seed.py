"""Broker frame limit, ``rocbroker`` over ipc with ``--port 0``, seeded sample objects, clock."""

from __future__ import annotations

import json
import logging
import signal

import pytest
import zmq

from pytest_robofixtures.common.clock import VirtualClock, use_clock
from pytest_robofixtures.roc import (
    Endpoints,
    RocClient,
    RocServer,
    RocStatusUpdater,
    RocTimeout,
    StatusTree,
    start_broker,
)
from pytest_robofixtures.roc.protocol import MDPC
from pytest_robofixtures.roc.pubsub import SubscriberFeed
from pytest_robofixtures.roc.status import subscriptions_for
from pytest_robofixtures.sim.roc_objects import start_sample_objects

from .conftest import HB, LIVENESS, Camera, spawn, stop_process, until


def test_broker_drops_and_logs_frames_above_the_limit(caplog):
    broker = start_broker(heartbeat_interval=HB, heartbeat_liveness=LIVENESS,
                          max_frame_size=4096)
    ep = broker.endpoints
    server = RocServer(ep, "cam", Camera(), heartbeat_interval=HB, direct=False).start()
    req = zmq.Context.instance().socket(zmq.REQ)
    req.linger = 0
    req.connect(ep.rocBroker)
    c = RocClient(ep, direct=False)
    try:
        c.wait_for_object("cam", 5)
        caplog.set_level(logging.WARNING, logger="pytest_robofixtures.roc.server.broker")
        big = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "echo",
                          "params": ["x" * 5000]}).encode()
        req.send_multipart([MDPC, b"cam", big])
        until(lambda: broker.stats["oversized"] == 1, what="oversized frame counted")
        assert not req.poll(300)  # dropped: no reply
        assert any("5" in r.getMessage() and "max_frame_size=4096" in r.getMessage()
                   for r in caplog.records)
        # just under the limit passes, and the broker keeps serving
        assert c["cam"].echo("y" * 3000) == {"args": ["y" * 3000], "kwargs": {}}
        with pytest.raises(RocTimeout):
            c.proxy("cam", timeout=0.5).echo("z" * 5000)
        assert broker.stats["oversized"] == 2
    finally:
        req.close(0)
        c.close()
        server.stop()
        broker.stop()


def test_broker_frame_limit_applies_to_status_and_logs():
    broker = start_broker(max_frame_size=4096)
    ep = broker.endpoints
    feed = SubscriberFeed(ep, subscriptions_for("big"))
    upd = RocStatusUpdater(ep)
    try:
        tree = StatusTree(feed, "big")
        # bounded handshake: repeat a small update until it arrives
        until(lambda: tree.poll(0.02) and tree.get("big.small", None) == 1,
              step=lambda: upd.emit("big", {"small": 1}), what="small update")
        for _ in range(3):
            upd.emit("big", {"huge": "x" * 10_000})
        until(lambda: tree.poll(0.02) and tree.get("big.after", None) == 2,
              step=lambda: upd.emit("big", {"after": 2}), what="publisher reconnected")
        assert tree.get("big.huge", None) is None
    finally:
        feed.close()
        upd.close()
        broker.stop()


@pytest.mark.parametrize("where", ["tmpdir", "default"])
def test_rocbroker_ipc_with_port_0(tmp_path, where):
    args = ["--transport", "ipc", "--port", "0", "--json", "--heartbeat-interval", "0.1"]
    if where == "tmpdir":
        args += ["--host", str(tmp_path)]
    proc = spawn("from pytest_robofixtures.roc.cli import broker_main; import sys; "
                 "sys.exit(broker_main(sys.argv[1:]))", *args)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        info = json.loads(line)
        ep = Endpoints(str(tmp_path) if where == "tmpdir" else "127.0.0.1",
                       info["base_port"], "ipc")
        assert info["rocBroker"] == ep.rocBroker and info["rocBroker"].startswith("ipc://")
        if where == "tmpdir":
            assert str(tmp_path) in info["rocBroker"]
        server = RocServer(ep, "cam", Camera(), heartbeat_interval=0.1).start()
        c = RocClient(ep)
        try:
            c.wait_for_object("cam", 5)
            assert c["cam"].add(2, 2) == 4
        finally:
            c.close()
            server.stop()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        stop_process(proc)


def test_rocbroker_ipc_refuses_a_host_that_is_not_a_directory(tmp_path):
    proc = spawn("from pytest_robofixtures.roc.cli import broker_main; import sys; "
                 "sys.exit(broker_main(sys.argv[1:]))", "--transport", "ipc", "--port", "0",
                 "--host", str(tmp_path / "missing"))
    try:
        assert proc.wait(20) == 2
        assert proc.stderr is not None and "must be a directory" in proc.stderr.read()
    finally:
        stop_process(proc)


def _status_sequence(seed: int | None, n: int) -> list[tuple[str, object]]:
    broker = start_broker()
    ep = broker.endpoints
    feed = SubscriberFeed(ep, subscriptions_for(["system", "instruments"]))
    objs = None
    try:
        # Subscribe first, then start the objects: wait for the first periodic tick.
        objs = start_sample_objects(ep, status_period=0.02, seed=seed, logs=False)
        c = RocClient(ep)
        c.wait_for_object("vnir", 5)
        vnir = c["vnir"]
        vnir.openShutter()
        vnir.capture(3)
        temperature = vnir.temperature
        c.close()
        items: list[tuple[str, object]] = []
        until(lambda: len(items) >= 40, step=lambda: items.extend(
            [i] if (i := feed.receive(0.05)) is not None else []), timeout=10,
            what="status updates")
        system = [p for t, p in items if t.startswith("status.system.")]
        vnir_updates = [p for t, p in items if t == "status.instruments.vnir"]
        return [("temperature", temperature), *[("system", p) for p in system[:n]],
                ("vnir", vnir_updates[-1])]
    finally:
        if objs is not None:
            objs.stop()
        feed.close()
        broker.stop()


def test_seeded_sample_objects_publish_the_same_payloads():
    first = _status_sequence(7, 5)
    second = _status_sequence(7, 5)
    # Ticks seen first may differ by when the subscription landed: compare from a common tick.
    def from_tick(seq: list[tuple[str, object]]) -> list[object]:
        return [p for k, p in seq if k == "system"]

    a, b = from_tick(first), from_tick(second)
    uptimes_a = [p["uptime"] for p in a]  # type: ignore[index]
    common = [u for u in uptimes_a if u in {p["uptime"] for p in b}]  # type: ignore[index]
    assert common, (a, b)
    pick = common[0]
    assert [p for p in a if p["uptime"] == pick] == [p for p in b if p["uptime"] == pick]  # type: ignore[index]
    assert first[0] == second[0]  # temperature depends on captures, not time
    assert first[-1] == second[-1]  # the camera's status payload
    other = _status_sequence(8, 5)
    loads = {p["load"] for p in from_tick(other)}  # type: ignore[index]
    assert loads != {p["load"] for p in a}  # type: ignore[index]


def test_client_waits_on_the_shared_clock(broker):
    clock = VirtualClock()
    c = RocClient(broker.endpoints)
    try:
        with use_clock(clock):
            with pytest.raises(RocTimeout, match="not registered within 30 s"):
                c.wait_for_object("nobody", timeout=30)
        assert clock.slept >= 29  # the back-off slept on the virtual clock, not for real
    finally:
        c.close()
