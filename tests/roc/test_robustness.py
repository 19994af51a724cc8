"""Timeouts, expiry, broker restarts and malformed input: nothing hangs, nothing dies."""

from __future__ import annotations

import json
import random
import threading

import pytest
import zmq

from pytest_robofixtures.roc import (
    RocBroker,
    RocClient,
    RocObjectNotFound,
    RocTimeout,
    ZmqRocTransport,
)
from pytest_robofixtures.roc.protocol import DISCONNECT, MDPC, MDPW, READY, REPLY

from .conftest import HB, LIVENESS, Camera, spawn, stop_process, until

SERVER_CODE = """
import sys, time
from pytest_robofixtures.roc import RocServer
class Obj:
    def sleep(self, s):
        print("sleeping", flush=True)
        time.sleep(s)
        return s
    def ping(self):
        return "pong"
s = RocServer(sys.argv[1], "victim", Obj(), heartbeat_interval=float(sys.argv[2]))
print("serving", flush=True)
s.serve_forever()
"""


def test_client_timeout_raises_and_client_stays_usable(client, camera):
    slow = client.proxy("cam", timeout=0.3)
    with pytest.raises(RocTimeout, match="no reply within 0.3 s"):
        slow.sleep(0.8)
    assert isinstance(client.transport, ZmqRocTransport)
    assert client.transport.timeouts == 1
    # The late reply to the timed-out call must never be taken for this one.
    assert camera.add(1, 2) == 3
    assert camera.echo("after") == {"args": ["after"], "kwargs": {}}


def test_stale_replies_are_discarded_by_id():
    ctx = zmq.Context.instance()
    fake = ctx.socket(zmq.ROUTER)
    fake.linger = 0
    port = fake.bind_to_random_port("tcp://127.0.0.1")
    t = ZmqRocTransport(f"tcp://127.0.0.1:{port}", direct=False)
    result: dict = {}

    def call() -> None:
        result["reply"] = t.request("obj", {"jsonrpc": "2.0", "method": "m", "id": 7}, 5.0)

    th = threading.Thread(target=call)
    th.start()
    try:
        assert fake.poll(5000)
        ident, empty, proto, service, body = fake.recv_multipart()
        assert (empty, proto, service) == (b"", MDPC, b"obj")
        assert json.loads(body)["id"] == 7
        stale = json.dumps({"jsonrpc": "2.0", "id": 6, "result": "old"}).encode()
        fresh = json.dumps({"jsonrpc": "2.0", "id": 7, "result": "new"}).encode()
        fake.send_multipart([ident, b"", MDPC, b"obj", stale])
        fake.send_multipart([ident, b"", b"garbage"])
        fake.send_multipart([ident, b"", MDPC, b"obj", fresh])
        th.join(5)
        assert result["reply"]["result"] == "new"
        assert t.stale == 2
    finally:
        th.join(5)
        t.close()
        fake.close(0)


def test_long_call_does_not_expire_worker(broker, client, camera):
    # 1 s is more than 3x the 0.3 s expiry span: heartbeats must continue during the call.
    assert client.proxy("cam", timeout=5).sleep(1.0) == 1.0
    assert broker.stats["expired_workers"] == 0
    assert camera.add(2) == 3


def test_killed_server_while_idle_gives_callers_an_error(endpoints, client):
    proc = spawn(SERVER_CODE, endpoints.rocBroker, str(HB))
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "serving"
        client.wait_for_object("victim", 10)
        assert client["victim"].ping() == "pong"
        proc.kill()  # no DISCONNECT
        proc.wait(5)
        with pytest.raises(RocObjectNotFound):
            client["victim"].ping()
        # The direct path can notice the death before the broker expires the worker.
        until(lambda: client.exists("victim") is False, what="broker expired the worker")
    finally:
        stop_process(proc)


@pytest.mark.parametrize("direct", [False, True], ids=["broker-path", "direct-path"])
def test_killed_server_mid_call_gives_the_caller_an_error(broker, endpoints, client, direct):
    proc = spawn(SERVER_CODE, endpoints.rocBroker, str(HB))
    errors: list[BaseException] = []
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "serving"
        client.wait_for_object("victim", 10)
        victim_client = RocClient(endpoints, timeout=5.0, direct=direct)
        victim = victim_client["victim"]
        assert victim.ping() == "pong"
        transport = victim_client.transport
        assert isinstance(transport, ZmqRocTransport)
        assert (transport.direct_route("victim") is not None) is direct

        def call() -> None:
            try:
                victim.sleep(30)
            except BaseException as exc:
                errors.append(exc)

        th = threading.Thread(target=call)
        th.start()
        # bounded wait until the call is running in the server
        assert proc.stdout.readline().strip() == "sleeping"
        proc.kill()
        th.join(10)
        assert not th.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], RocObjectNotFound), errors
        assert "went away" in str(errors[0]) or "registered" in str(errors[0])
        victim_client.close()
    finally:
        stop_process(proc)


def test_abandoned_in_process_server_is_expired(broker, serve, client):
    server = serve("ghost", Camera())
    assert client["ghost"].add(1) == 2
    server.abandon()  # closes without DISCONNECT
    with pytest.raises(RocObjectNotFound):
        client["ghost"].add(1)
    # The direct path may report the loss before the broker expires the silent worker.
    until(lambda: broker.stats["expired_workers"] >= 1, what="worker expired by the broker")


def test_broker_restart_workers_reregister_and_client_recovers(broker, serve, endpoints):
    serve("cam", Camera())
    c = RocClient(endpoints, timeout=3.0, direct=False)
    cam = c["cam"]
    assert cam.add(1) == 2
    broker.stop()  # sends DISCONNECT to workers
    with pytest.raises(RocTimeout):
        c.proxy("cam", timeout=0.3).add(1)
    b2 = RocBroker(endpoints, HB, LIVENESS, unknown_timeout=2.0).start()
    try:
        assert cam.add(2) == 3  # queued until the server re-registered
        # Hard crash: no DISCONNECT, the server notices the silence itself.
        b2.stop(disconnect_workers=False)
        b3 = RocBroker(endpoints, HB, LIVENESS, unknown_timeout=2.5).start()
        try:
            assert cam.add(3) == 4
        finally:
            b3.stop()
    finally:
        b2.stop()
        c.close()


def test_direct_path_keeps_working_while_the_broker_is_down(broker, serve, endpoints):
    serve("cam", Camera())
    c = RocClient(endpoints, timeout=3.0)
    cam = c["cam"]
    assert cam.add(1) == 2
    assert isinstance(c.transport, ZmqRocTransport)
    assert c.transport.direct_route("cam") is not None
    broker.stop()
    assert cam.add(2) == 3  # the broker is only the rendezvous
    assert c.transport.direct_calls >= 2
    c.close()


def test_worker_protocol_violations_get_disconnect(endpoints, broker, camera):
    ctx = zmq.Context.instance()
    w = ctx.socket(zmq.DEALER)
    w.linger = 0
    w.connect(endpoints.rocBroker)
    try:
        # REPLY from a worker the broker never saw
        w.send_multipart([b"", MDPW, REPLY, b"client", b"", b"{}"])
        assert w.poll(3000)
        assert w.recv_multipart() == [b"", MDPW, DISCONNECT]
        # READY for an mmi.* service
        w.send_multipart([b"", MDPW, READY, b"mmi.service"])
        assert w.poll(3000)
        assert w.recv_multipart() == [b"", MDPW, DISCONNECT]
        # a second READY from a registered worker
        w.send_multipart([b"", MDPW, READY, b"dup"])
        w.send_multipart([b"", MDPW, READY, b"dup"])
        assert w.poll(3000)
        assert w.recv_multipart() == [b"", MDPW, DISCONNECT]
    finally:
        w.close(0)
    assert camera.add(1) == 2


def test_malformed_bodies_get_jsonrpc_errors(endpoints, camera):
    camera.add(0)
    ctx = zmq.Context.instance()
    req = ctx.socket(zmq.REQ)
    req.linger = 0
    req.connect(endpoints.rocBroker)
    try:
        for body, code in [(b"{not json", -32700), (b"[1,2]", -32600),
                           (b'{"jsonrpc":"2.0","id":3,"method":5}', -32600),
                           (b'{"jsonrpc":"2.0","id":4,"method":"add","params":7}', -32602),
                           (b"\xff\xfe", -32700)]:
            req.send_multipart([MDPC, b"cam", body])
            assert req.poll(3000)
            proto, service, reply = req.recv_multipart()
            assert (proto, service) == (MDPC, b"cam")
            assert json.loads(reply)["error"]["code"] == code
    finally:
        req.close(0)


def test_fuzz_router_with_random_frames_then_broker_still_serves(endpoints, broker, camera):
    rng = random.Random(1234)
    headers = [MDPC, MDPW, b"", b"MDPC02", b"x" * 40]
    commands = [b"\x00", b"\x01", b"\x02", b"\x03", b"\x04", b"\x05", b"\x06", b"\xff"]
    ctx = zmq.Context.instance()
    socks = []
    for _ in range(4):
        s = ctx.socket(zmq.DEALER)
        s.linger = 0
        s.sndhwm = 0
        s.connect(endpoints.rocBroker)
        socks.append(s)
    try:
        for i in range(600):
            n = rng.randrange(0, 9)
            frames = [rng.randbytes(rng.randrange(0, 12)) for _ in range(n)]
            if frames and rng.random() < 0.7:
                frames[0] = b""
            if len(frames) > 1 and rng.random() < 0.8:
                frames[1] = rng.choice(headers)
            if len(frames) > 2 and frames[1] == MDPW and rng.random() < 0.8:
                frames[2] = rng.choice(commands)
            if len(frames) > 2 and frames[1] == MDPC and rng.random() < 0.5:
                frames[2] = rng.choice([b"cam", b"mmi.service", b"mmi.x", b"nobody"])
            if not frames:
                frames = [b""]
            socks[i % len(socks)].send_multipart(frames)
        # the broker is alive and serving
        assert camera.add(40, 2) == 42
        assert camera.fps == 10.0
    finally:
        for s in socks:
            s.close(0)
    assert broker.stats["malformed"] > 100
    assert camera.echo(ok=True) == {"args": [], "kwargs": {"ok": True}}
