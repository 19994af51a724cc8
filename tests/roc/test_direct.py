"""The direct path: negotiated through the broker, used after discovery, broker as fallback."""

from __future__ import annotations

import os

import pytest
import zmq

from pytest_robofixtures.roc import RocClient, RocObjectNotFound, RocServer, ZmqRocTransport
from pytest_robofixtures.roc.protocol import DIRECT_METHOD, DIRECT_PROTOCOL

from .conftest import HB, LIVENESS, Camera, spawn, stop_process, until

SERVER_CODE = """
import os, sys
from pytest_robofixtures.roc import RocServer
class Obj:
    def pid(self):
        return os.getpid()
print("serving", flush=True)
RocServer(sys.argv[1], "proc", Obj(), heartbeat_interval=float(sys.argv[2])).serve_forever()
"""


def transport_of(client: RocClient) -> ZmqRocTransport:
    assert isinstance(client.transport, ZmqRocTransport)
    return client.transport


def test_calls_go_direct_after_discovery(serve, client):
    server = serve("cam", Camera())
    cam = client["cam"]
    assert cam.add(1, 2) == 3
    t = transport_of(client)
    assert t.direct_route("cam") == server.direct_endpoint
    assert server.direct_endpoint is not None
    assert server.direct_endpoint.startswith("tcp://127.0.0.1:")
    broker_before = t.broker_calls
    for i in range(20):
        assert cam.add(i) == i + 1
    assert t.broker_calls == broker_before  # none of them through the broker
    assert t.direct_calls >= 20 and server.direct_calls >= 20
    # errors, attributes and introspection behave the same on the direct path
    with pytest.raises(ValueError, match="bad gain"):
        cam.boom()
    cam.fps = 25.0
    assert cam.fps == 25.0
    assert "add" in dir(cam)


def test_discovery_answer_names_the_endpoint(serve, client):
    server = serve("cam", Camera())
    info = client.call("cam", DIRECT_METHOD, [])
    assert info == {"endpoint": server.direct_endpoint, "objectId": "cam",
                    "instance": server.instance, "protocol": DIRECT_PROTOCOL}


def test_closed_direct_socket_falls_back_to_the_broker(broker, serve, client):
    server = serve("cam", Camera())
    cam = client["cam"]
    assert cam.add(1) == 2
    t = transport_of(client)
    assert t.direct_route("cam") is not None
    server.close_direct()
    until(lambda: t.direct_route("cam") is None, what="client saw the direct socket close")
    broker_before = t.broker_calls
    routed_before = broker.stats["replies"]
    assert cam.add(2) == 3  # through the broker, nothing lost
    assert t.broker_calls > broker_before
    assert broker.stats["replies"] > routed_before
    # the server offers no direct path any more: calls stay on the broker path
    assert cam.add(3) == 4
    assert t.direct_route("cam") is None


def test_killed_server_then_restarted_server_is_reached(broker, endpoints, client):
    proc = spawn(SERVER_CODE, endpoints.rocBroker, str(HB))
    second = None
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "serving"
        client.wait_for_object("proc", 10)
        first_pid = client["proc"].pid()
        t = transport_of(client)
        first_route = t.direct_route("proc")
        assert first_route is not None
        proc.kill()
        proc.wait(5)
        second = spawn(SERVER_CODE, endpoints.rocBroker, str(HB))
        assert second.stdout is not None and second.stdout.readline().strip() == "serving"
        # The broker expires the dead worker (0.3 s); until then a call may get -32001.
        got: list[int] = []

        def call() -> bool:
            try:
                got.append(client["proc"].pid())
            except RocObjectNotFound:
                return False
            return True

        until(call, timeout=10, what="the restarted server answers")
        assert got[-1] == second.pid != first_pid
        assert client["proc"].pid() == second.pid
        new_route = t.direct_route("proc")
        assert new_route is not None and new_route != first_route  # rediscovered
    finally:
        stop_process(proc)
        if second is not None:
            stop_process(second)


def test_server_without_direct_path_is_served_through_the_broker(serve, client):
    server = serve("plain", Camera(), direct=False)
    assert server.direct_endpoint is None
    p = client["plain"]
    assert p.add(1) == 2 and p.add(2) == 3
    t = transport_of(client)
    assert t.direct_route("plain") is None
    assert t.direct_calls == 0 and t.broker_calls >= 3


def test_client_can_refuse_the_direct_path(serve, endpoints):
    server = serve("cam", Camera())
    c = RocClient(endpoints, direct=False)
    try:
        assert c["cam"].add(5) == 6
        assert transport_of(c).direct_calls == 0 and server.direct_calls == 0
    finally:
        c.close()


def test_foreign_worker_stays_on_the_broker_path(endpoints, client):
    """A plain 7/MDP worker that knows nothing of ``__direct__`` is still served."""
    import json

    from pytest_robofixtures.roc.protocol import MDPW, READY, REPLY, REQUEST

    ctx = zmq.Context.instance()
    w = ctx.socket(zmq.DEALER)
    w.linger = 0
    w.connect(endpoints.rocBroker)
    w.send_multipart([b"", MDPW, READY, b"raw"])
    t = transport_of(client)
    result: dict[str, object] = {}
    import threading

    th = threading.Thread(target=lambda: result.setdefault(
        "v", client.call("raw", "double", [21], timeout=5)))
    th.start()
    try:
        for _ in range(2):  # the discovery probe, then the call
            assert w.poll(5000)
            frames = w.recv_multipart()
            assert frames[2] == REQUEST
            req = json.loads(frames[5])
            if req["method"] == "double":
                body = {"jsonrpc": "2.0", "id": req["id"], "result": req["params"][0] * 2}
            else:
                body = {"jsonrpc": "2.0", "id": req["id"],
                        "error": {"code": -32601, "message": "no such method"}}
            w.send_multipart([b"", MDPW, REPLY, frames[3], b"", json.dumps(body).encode()])
        th.join(5)
        assert result["v"] == 42
        assert t.direct_route("raw") is None and t.direct_calls == 0
    finally:
        th.join(5)
        w.close(0)


def test_ipc_broker_gets_an_ipc_direct_path(tmp_path):
    from pytest_robofixtures.roc import Endpoints, RocBroker

    ep = Endpoints(str(tmp_path), 4242, "ipc")
    broker = RocBroker(ep, HB, LIVENESS).start()
    server = RocServer(ep, "cam", Camera(), heartbeat_interval=HB,
                       heartbeat_liveness=LIVENESS).start()
    c = RocClient(ep)
    try:
        c.wait_for_object("cam", 5)
        assert c["cam"].add(1) == 2
        route = transport_of(c).direct_route("cam")
        assert route is not None and route.startswith("ipc://")
    finally:
        c.close()
        server.stop()
        broker.stop()
    assert os.path.isdir(tmp_path)


def test_hung_server_on_the_direct_path_is_detected_by_heartbeats(broker, endpoints):
    """A server that stops (SIGSTOP) without closing: ZMTP heartbeats end the direct call."""
    import signal
    import time

    proc = spawn(SERVER_CODE, endpoints.rocBroker, str(HB))
    c = RocClient(endpoints, timeout=20.0)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "serving"
        c.wait_for_object("proc", 10)
        assert c["proc"].pid() == proc.pid
        assert transport_of(c).direct_route("proc") is not None
        proc.send_signal(signal.SIGSTOP)

        def stopped() -> bool:  # kill() returns before the process has really stopped
            with open(f"/proc/{proc.pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "T"

        until(stopped, what="server process stopped")
        started = time.monotonic()
        with pytest.raises(RocObjectNotFound, match="went away"):
            c["proc"].pid()
        # well before the 20 s call timeout: the 3 s heartbeat timeout closed the connection
        assert time.monotonic() - started < 15
        assert transport_of(c).direct_route("proc") is None
    finally:
        proc.send_signal(signal.SIGCONT)
        c.close()
        stop_process(proc)


def test_unreachable_direct_endpoint_falls_back_to_the_broker(endpoints, client):
    """A server advertising an endpoint nobody listens on: calls go through the broker."""
    import json
    import socket
    import threading

    from pytest_robofixtures.roc.protocol import MDPW, READY, REPLY, REQUEST

    with socket.socket() as s:  # a port that was free a moment ago: connections are refused
        s.bind(("127.0.0.1", 0))
        dead = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    w = zmq.Context.instance().socket(zmq.DEALER)
    w.linger = 0
    w.connect(endpoints.rocBroker)
    w.send_multipart([b"", MDPW, READY, b"liar"])
    t = transport_of(client)
    result: dict[str, object] = {}
    th = threading.Thread(target=lambda: result.setdefault(
        "v", client.call("liar", "double", [4], timeout=5)))
    th.start()
    try:
        for _ in range(2):  # the discovery probe, then the call through the broker
            assert w.poll(5000)
            frames = w.recv_multipart()
            assert frames[2] == REQUEST
            req = json.loads(frames[5])
            if req["method"] == DIRECT_METHOD:
                res: object = {"endpoint": dead, "objectId": "liar", "instance": "x",
                               "protocol": DIRECT_PROTOCOL}
            else:
                res = req["params"][0] * 2
            body = {"jsonrpc": "2.0", "id": req["id"], "result": res}
            w.send_multipart([b"", MDPW, REPLY, frames[3], b"", json.dumps(body).encode()])
        th.join(5)
        assert result["v"] == 8
        assert t.direct_route("liar") is None and t.direct_calls == 0
    finally:
        th.join(5)
        w.close(0)


def test_odd_direct_replies_are_decoded_mapped_or_discarded(endpoints):
    """A hand-made direct peer: lenient JSON, an error without id, and a stale id."""
    import json
    import math
    import threading
    import time

    from pytest_robofixtures.roc import RemoteError, RocTimeout
    from pytest_robofixtures.roc.protocol import MDPW, READY, REPLY, REQUEST

    ctx = zmq.Context.instance()
    rep = ctx.socket(zmq.REP)
    rep.linger = 0
    rep.rcvtimeo = 5000
    endpoint = f"tcp://127.0.0.1:{rep.bind_to_random_port('tcp://127.0.0.1')}"
    w = ctx.socket(zmq.DEALER)
    w.linger = 0
    w.connect(endpoints.rocBroker)
    w.send_multipart([b"", MDPW, READY, b"odd"])
    # Replies the direct peer gives, in order, for a request with id ``rid``.
    script = [
        lambda rid: f'{{"jsonrpc":"2.0","id":{rid},"result":[NaN,1]}}'.encode(),  # lenient JSON
        lambda rid: b'{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"nope"}}',
        lambda rid: f'{{"jsonrpc":"2.0","id":{rid + 1000},"result":"stale"}}'.encode(),
    ]
    errors: list[BaseException] = []

    def serve_direct() -> None:
        try:
            for reply in script:
                req = json.loads(rep.recv())
                rep.send(reply(req["id"]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def serve_discovery() -> None:
        try:
            assert w.poll(5000)
            frames = w.recv_multipart()
            assert frames[2] == REQUEST
            req = json.loads(frames[5])
            assert req["method"] == DIRECT_METHOD
            body = {"jsonrpc": "2.0", "id": req["id"],
                    "result": {"endpoint": endpoint, "objectId": "odd", "instance": "i",
                               "protocol": DIRECT_PROTOCOL}}
            w.send_multipart([b"", MDPW, REPLY, frames[3], b"", json.dumps(body).encode()])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=serve_direct), threading.Thread(target=serve_discovery)]
    for th in threads:
        th.start()
    c = RocClient(endpoints, timeout=5.0)
    try:
        c.wait_for_object("odd", 5)
        t = transport_of(c)
        got = c.call("odd", "f", [])
        assert math.isnan(got[0]) and got[1] == 1
        assert t.direct_route("odd") == endpoint and t.direct_calls == 1
        with pytest.raises(RemoteError, match="nope"):
            c.call("odd", "f", [])
        assert t.direct_calls == 2 and t.stale == 0
        started = time.monotonic()
        with pytest.raises(RocTimeout, match="not for this call"):
            c.call("odd", "f", [])
        assert time.monotonic() - started < 4  # a REQ gets one reply: no wait for the timeout
        assert t.stale == 1 and t.timeouts == 1
        assert t.direct_route("odd") is None  # dropped: a late reply cannot meet a later call
    finally:
        c.close()
        for th in threads:
            th.join(5)
        w.close(0)
        rep.close(0)
    assert not errors
