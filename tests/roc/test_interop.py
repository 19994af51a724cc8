"""Interoperability with independent, minimal raw-pyzmq 7/MDP peers (written from the spec).

Nothing here imports the ROC implementation's framing helpers: frames are spelled out literally.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque

import pytest
import zmq

from pytest_robofixtures.roc import Endpoints, RocClient, RocServer

from .conftest import Camera


class RawWorker(threading.Thread):
    """A minimal 7/MDP worker: READY, then answer REQUESTs; heartbeats when idle."""

    def __init__(self, router: str, service: bytes) -> None:
        super().__init__(daemon=True)
        self.router = router
        self.service = service
        self.stopping = False
        self.requests = 0

    def run(self) -> None:
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(self.router)
        sock.send_multipart([b"", b"MDPW01", b"\x01", self.service])
        last = time.monotonic()
        try:
            while not self.stopping:
                if time.monotonic() - last > 0.1:
                    sock.send_multipart([b"", b"MDPW01", b"\x04"])
                    last = time.monotonic()
                if not sock.poll(50):
                    continue
                msg = sock.recv_multipart()
                assert msg[0] == b"" and msg[1] == b"MDPW01"
                if msg[2] == b"\x02":
                    client, empty, body = msg[3], msg[4], msg[5]
                    assert empty == b""
                    self.requests += 1
                    req = json.loads(body)
                    if req["method"].startswith("__"):
                        reply = {"jsonrpc": "2.0", "id": req["id"],
                                 "error": {"code": -32601, "message": "no introspection",
                                           "data": {"type": "AttributeError"}}}
                    else:
                        reply = {"jsonrpc": "2.0", "id": req["id"],
                                 "result": {"method": req["method"], "params": req.get("params")}}
                    sock.send_multipart([b"", b"MDPW01", b"\x03", client, b"",
                                         json.dumps(reply).encode()])
                    last = time.monotonic()
                elif msg[2] == b"\x05":
                    return
        finally:
            sock.send_multipart([b"", b"MDPW01", b"\x05"])
            sock.close(0)


class RawBroker(threading.Thread):
    """A minimal 7/MDP broker (no MMI, no expiry): enough to host our client and server."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = zmq.Context.instance().socket(zmq.ROUTER)
        self.sock.linger = 0
        self.port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.stopping = False
        self.seen_commands: set[bytes] = set()

    def run(self) -> None:
        sock = self.sock
        idle: dict[bytes, deque[bytes]] = {}
        pending: dict[bytes, deque[tuple[bytes, bytes]]] = {}
        service_of: dict[bytes, bytes] = {}
        last_hb = time.monotonic()

        def dispatch(service: bytes) -> None:
            while idle.get(service) and pending.get(service):
                worker = idle[service].popleft()
                client, body = pending[service].popleft()
                sock.send_multipart([worker, b"", b"MDPW01", b"\x02", client, b"", body])

        while not self.stopping:
            if time.monotonic() - last_hb > 0.1:
                for w in service_of:
                    sock.send_multipart([w, b"", b"MDPW01", b"\x04"])
                last_hb = time.monotonic()
            if not sock.poll(50):
                continue
            sender, empty, proto, *rest = sock.recv_multipart()
            if proto == b"MDPC01":
                service, body = rest
                pending.setdefault(service, deque()).append((sender, body))
                dispatch(service)
            elif proto == b"MDPW01":
                cmd = rest[0]
                self.seen_commands.add(cmd)
                if cmd == b"\x01":
                    service_of[sender] = rest[1]
                    idle.setdefault(rest[1], deque()).append(sender)
                    dispatch(rest[1])
                elif cmd == b"\x03":
                    client, _, body = rest[1:4]
                    sock.send_multipart([client, b"", b"MDPC01", service_of[sender], body])
                    idle[service_of[sender]].append(sender)
                    dispatch(service_of[sender])
        sock.close(0)


def raw_request(router: str, service: bytes, body: bytes) -> list[bytes]:
    req = zmq.Context.instance().socket(zmq.REQ)
    req.linger = 0
    req.connect(router)
    try:
        req.send_multipart([b"MDPC01", service, body])
        assert req.poll(5000), "no reply"
        return req.recv_multipart()
    finally:
        req.close(0)


def test_raw_worker_behind_our_broker_serves_our_client(endpoints, client):
    w = RawWorker(endpoints.rocBroker, b"rawobj")
    w.start()
    try:
        client.wait_for_object("rawobj", 5)
        proxy = client["rawobj"]
        # no __dir__ on a foreign worker: unknown names are treated as methods
        assert proxy.measure(1, 2) == {"method": "measure", "params": [1, 2]}
        assert proxy.configure(3, mode="fast") == {
            "method": "configure", "params": {"mode": "fast", "*args": [3]}}
        assert w.requests >= 2
    finally:
        w.stopping = True
        w.join(5)


def test_raw_req_client_through_our_broker_to_our_server(endpoints, serve):
    serve("cam", Camera())
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "add", "params": [2, 3]}).encode()
    proto, service, reply = raw_request(endpoints.rocBroker, b"cam", body)
    assert (proto, service) == (b"MDPC01", b"cam")
    assert json.loads(reply) == {"jsonrpc": "2.0", "id": 1, "result": 5}
    body = json.dumps({"jsonrpc": "2.0", "id": "x", "method": "__getattr__",
                       "params": ["fps"]}).encode()
    assert json.loads(raw_request(endpoints.rocBroker, b"cam", body)[2])["result"] == 10.0
    assert raw_request(endpoints.rocBroker, b"mmi.service", b"cam") == [
        b"MDPC01", b"mmi.service", b"200"]
    assert raw_request(endpoints.rocBroker, b"mmi.service", b"nope") == [
        b"MDPC01", b"mmi.service", b"404"]


def test_raw_req_client_to_unknown_object_gets_jsonrpc_error(endpoints):
    body = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "x"}).encode()
    proto, service, reply = raw_request(endpoints.rocBroker, b"ghost", body)
    err = json.loads(reply)
    assert (proto, service) == (b"MDPC01", b"ghost")
    assert err["id"] == 9 and err["error"]["code"] == -32001


@pytest.fixture
def raw_broker():
    b = RawBroker()
    b.start()
    yield b
    b.stopping = True
    b.join(5)


def test_our_client_and_server_through_an_independent_broker(raw_broker):
    router = f"tcp://127.0.0.1:{raw_broker.port}"
    server = RocServer(router, "cam", Camera(), heartbeat_interval=0.1).start()
    c = RocClient(router, timeout=3.0)
    try:
        cam = c["cam"]
        assert cam.add(1, b=2) == 3
        cam.fps = 30.0
        assert cam.fps == 30.0
        with pytest.raises(ValueError):
            cam.boom()
        assert b"\x01" in raw_broker.seen_commands and b"\x03" in raw_broker.seen_commands
    finally:
        c.close()
        server.stop()


def test_endpoints_layout():
    ep = Endpoints("10.0.0.5")
    assert (ep.rocBroker, ep.generalXSUB, ep.generalXPUB) == (
        "tcp://10.0.0.5:5555", "tcp://10.0.0.5:5556", "tcp://10.0.0.5:5557")
    ep2 = Endpoints("127.0.0.1", 7000, transport="ipc")
    assert ep2.rocBroker.startswith("ipc://") and ep2.rocBroker.endswith("roc-7000-router")
    with pytest.raises(ValueError):
        Endpoints("h", 5555, transport="udp")
