"""ROC object server: shares a plain Python object's attributes and methods as a 7/MDP worker.

Besides the broker path (7/MDP, the default for every peer), a server offers a *direct path*:
it binds a REP socket of its own and answers the pseudo-method ``__direct__`` (sent through
the broker like any call) with ``{"endpoint", "instance", "objectId", "protocol"}``. A ROC
client may then send the same JSON-RPC bodies straight to that endpoint (a REQ socket: one body
frame each way, the envelope handled by libzmq), so a call costs one hop instead of two and
exactly the socket work of a plain REQ/REP round trip. The broker stays the rendezvous:
discovery, heartbeats and failover go through it, and clients fall back to it when the direct
connection is gone.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import os
import signal
import socket as _socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import zmq

from ..endpoints import Endpoints
from ..protocol import (
    DIRECT_METHOD,
    DIRECT_PROTOCOL,
    DISCONNECT,
    HEARTBEAT,
    MDPW,
    READY,
    REPLY,
    REQUEST,
)
from .dispatch import ObjectDispatcher

log = logging.getLogger(__name__)
_send = zmq.backend.Socket.send  # the Cython send itself (see _serve_direct)
_NOBLOCK = zmq.NOBLOCK
_ipc_counter = itertools.count(1)


def _router_endpoint(broker: Endpoints | str) -> str:
    return broker.rocBroker if isinstance(broker, Endpoints) else broker


def direct_bind_address(broker_endpoint: str) -> str | None:
    """Where to bind the direct socket so clients of ``broker_endpoint`` can reach it.

    A loopback broker gets a loopback direct socket; an ipc broker an ipc socket file; any
    other tcp broker the local address this host uses to reach the broker (never ``*``).
    """
    if broker_endpoint.startswith("ipc://"):
        name = f"roc-direct-{os.getpid()}-{next(_ipc_counter)}-{uuid.uuid4().hex[:8]}"
        return f"ipc://{os.path.join(tempfile.gettempdir(), name)}"
    if not broker_endpoint.startswith("tcp://"):
        return None
    host = urlsplit(broker_endpoint).hostname or ""
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        addr = None
    if host == "localhost" or (addr is not None and addr.is_loopback):
        return "tcp://[::1]:*" if addr is not None and addr.version == 6 else "tcp://127.0.0.1:*"
    try:  # which local address routes to the broker (a UDP connect sends nothing)
        family = _socket.AF_INET6 if addr is not None and addr.version == 6 else _socket.AF_INET
        with _socket.socket(family, _socket.SOCK_DGRAM) as probe:
            probe.connect((host, 9))
            local = probe.getsockname()[0]
    except OSError:
        return None
    return f"tcp://[{local}]:*" if ":" in local else f"tcp://{local}:*"


class RocServer:
    """Remote Object Call server: a 7/MDP worker sharing ``objectInstance`` as ``objectId``.

    Calls run in the socket thread for speed; a watchdog thread keeps heartbeating to the broker
    while a call runs (the socket is handed over under a lock), so long calls never get the worker
    expired. The server reconnects (new socket, READY) on DISCONNECT or when the broker goes
    silent for ``heartbeat_interval * heartbeat_liveness``; until the broker has spoken on a new
    socket it heartbeats, which a broker that lost the READY answers with DISCONNECT.

    ``direct`` (default True) also serves the direct path on an automatically chosen endpoint
    (see :func:`direct_bind_address`); a string is an explicit bind endpoint; False turns it off.
    Calls from both paths are serialised (one at a time, as MDP promises a worker's object).
    """

    def __init__(
        self,
        brokerEndpoint: Endpoints | str,
        objectId: str,
        objectInstance: Any,
        ctx: zmq.SyncContext | None = None,
        *,
        heartbeat_interval: float = 2.5,
        heartbeat_liveness: int = 3,
        reconnect_delay: float | None = None,
        direct: bool | str = True,
    ) -> None:
        if not objectId or objectId.startswith("mmi."):
            raise ValueError(f"invalid ROC object id {objectId!r}")
        self.endpoint = _router_endpoint(brokerEndpoint)
        self.objectId = objectId
        self.instance = uuid.uuid4().hex
        self.dispatcher = ObjectDispatcher(objectInstance, objectId,
                                           {DIRECT_METHOD: self._direct_info})
        self.ctx = ctx or zmq.Context.instance()
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_liveness = heartbeat_liveness
        self.reconnect_delay = (min(heartbeat_interval, 1.0) if reconnect_delay is None
                                else reconnect_delay)
        self.direct = direct
        self.direct_endpoint: str | None = None
        self._service = objectId.encode()
        self._lock = threading.Lock()
        self._call_lock = threading.Lock()  # one call at a time, whichever path it came by
        self._sock: zmq.SyncSocket | None = None
        self._direct_sock: zmq.SyncSocket | None = None
        self._last_sent = 0.0
        self._busy = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._direct_thread: threading.Thread | None = None
        self._direct_stop = threading.Event()
        self._abandoned = False
        self._heard = False
        self.connects = 0  # how many times READY was sent (1 + reconnects)
        self.calls = 0
        self.direct_calls = 0

    # -- direct path ---------------------------------------------------------------------------
    def _direct_info(self) -> dict[str, Any]:
        if self.direct_endpoint is None:
            return {"endpoint": None, "objectId": self.objectId, "instance": self.instance,
                    "protocol": DIRECT_PROTOCOL}
        return {"endpoint": self.direct_endpoint, "objectId": self.objectId,
                "instance": self.instance, "protocol": DIRECT_PROTOCOL}

    def _open_direct(self) -> None:
        if self.direct is False:
            return
        address = self.direct if isinstance(self.direct, str) else (
            direct_bind_address(self.endpoint))
        if address is None:
            return
        sock = self.ctx.socket(zmq.REP)
        sock.linger = 0
        sock.rcvtimeo = 100  # wake up to notice stop()
        sock.sndhwm = sock.rcvhwm = 10_000
        try:
            sock.bind(address)
        except zmq.ZMQError as exc:
            sock.close(0)
            log.warning("ROC server %r: no direct path (%s: %s)", self.objectId, address, exc)
            return
        self._direct_sock = sock
        self.direct_endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self._direct_thread = threading.Thread(target=self._serve_direct, args=(sock,),
                                               daemon=True,
                                               name=f"roc-server-direct-{self.objectId}")
        self._direct_thread.start()

    def _serve_direct(self, sock: zmq.SyncSocket) -> None:
        # The hot loop of the direct path: as close to ``s.send(s.recv())`` as the one-call-at-
        # a-time rule allows. The Cython send (pyzmq's Python-level wrapper only adds DRAFT
        # routing_id/group handling) and bound methods save a few Python frames a call.
        recv = sock.recv
        handle = self.dispatcher.handle
        lock = self._call_lock
        stopped = self._stop.is_set
        direct_stopped = self._direct_stop.is_set
        try:
            while not (stopped() or direct_stopped()):
                try:
                    body = recv()
                except zmq.Again:
                    continue
                with lock:
                    reply = handle(body)
                    self.calls += 1
                    self.direct_calls += 1
                try:
                    _send(sock, reply, _NOBLOCK)
                except zmq.ZMQError as exc:  # pragma: no cover - REP to a vanished peer
                    log.warning("ROC server %r: direct reply not sent (%s); direct path closed",
                                self.objectId, exc)
                    return  # clients fall back to the broker and rediscover
        finally:
            if self._direct_sock is sock:
                self._direct_sock = None
                self.direct_endpoint = None
            try:
                sock.close(0)
            except zmq.ZMQError:  # pragma: no cover
                pass

    def close_direct(self) -> None:
        """Stop serving the direct path (clients fall back to the broker); for tests and ops."""
        self.direct_endpoint = None
        self._direct_stop.set()
        thread, self._direct_thread = self._direct_thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(2)

    # -- socket helpers (caller holds self._lock) -------------------------------------------------
    def _connect(self) -> None:
        if self._sock is not None:
            self._sock.close(0)
        sock = self.ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.rcvtimeo = max(1, int(min(self.heartbeat_interval, 0.1) * 1000))
        sock.connect(self.endpoint)
        self._sock = sock
        self._heard = False
        self._send(READY, self._service)
        self.connects += 1
        log.debug("ROC server %r: READY sent to %s", self.objectId, self.endpoint)

    def _send(self, command: bytes, *frames: bytes) -> None:
        assert self._sock is not None
        try:
            self._sock.send_multipart([b"", MDPW, command, *frames], zmq.NOBLOCK)
        except zmq.Again:  # queue full (broker unreachable): the message is dropped
            log.debug("ROC server %r: send queue full, %r dropped", self.objectId, command)
        self._last_sent = time.monotonic()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> RocServer:
        """Serve in a background thread; returns self."""
        if self._thread is not None:
            raise RuntimeError("server already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True,
                                        name=f"roc-server-{self.objectId}")
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving: DISCONNECT from the broker and close the sockets."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> RocServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _watch(self) -> None:
        """Heartbeat to the broker while a long call holds the socket thread."""
        period = self.heartbeat_interval / 2
        while not self._stop.wait(period):
            if self._busy and time.monotonic() - self._last_sent >= self.heartbeat_interval:
                with self._lock:
                    if self._busy and self._sock is not None:
                        try:
                            self._send(HEARTBEAT)
                        except zmq.ZMQError:  # pragma: no cover
                            pass

    def serve_forever(self) -> None:
        """Serve requests in the calling thread until stop() (or abandon())."""
        self._direct_stop.clear()
        self._open_direct()
        self._watchdog = threading.Thread(target=self._watch, daemon=True,
                                          name=f"roc-server-hb-{self.objectId}")
        self._watchdog.start()
        span = self.heartbeat_interval * self.heartbeat_liveness
        with self._lock:
            self._connect()
        last_recv = time.monotonic()
        try:
            while not self._stop.is_set():
                sock = self._sock
                assert sock is not None
                try:
                    frames = sock.recv_multipart()
                except zmq.Again:
                    frames = None
                now = time.monotonic()
                if frames is None:
                    if now - last_recv > (2 * span if not self._heard else span):
                        log.warning("ROC server %r: broker %s silent for %.1f s, reconnecting",
                                    self.objectId, self.endpoint, now - last_recv)
                        with self._lock:
                            self._send(DISCONNECT)  # in case the broker is only slow
                        if self._stop.wait(self.reconnect_delay):
                            break
                        with self._lock:
                            self._connect()
                        last_recv = time.monotonic()
                    elif now - self._last_sent >= self.heartbeat_interval:
                        # Also before the broker has spoken: if it lost our READY (it was
                        # restarting), it answers this HEARTBEAT with DISCONNECT and we
                        # re-register at once.
                        with self._lock:
                            self._send(HEARTBEAT)
                    continue
                last_recv = now
                self._heard = True
                if len(frames) < 3 or frames[0] or frames[1] != MDPW:
                    log.warning("ROC server %r: malformed message from broker dropped",
                                self.objectId)
                    continue
                command = frames[2]
                if command == REQUEST:
                    if len(frames) < 6 or frames[4]:
                        log.warning("ROC server %r: malformed REQUEST dropped", self.objectId)
                        continue
                    client = frames[3]
                    self._busy = True  # heartbeats go on while waiting for or running the call
                    try:
                        with self._call_lock:
                            reply = self.dispatcher.handle(frames[5])
                            self.calls += 1
                    finally:
                        self._busy = False
                    with self._lock:
                        self._send(REPLY, client, b"", reply)
                    last_recv = time.monotonic()
                elif command == HEARTBEAT:
                    if now - self._last_sent >= self.heartbeat_interval:
                        with self._lock:
                            self._send(HEARTBEAT)
                elif command == DISCONNECT:
                    log.info("ROC server %r: broker sent DISCONNECT, re-registering",
                             self.objectId)
                    with self._lock:
                        self._connect()
                    last_recv = time.monotonic()
                else:
                    log.warning("ROC server %r: unexpected command %r dropped", self.objectId,
                                command)
        finally:
            self._stop.set()
            with self._lock:
                if self._sock is not None:
                    if not self._abandoned:
                        try:
                            self._send(DISCONNECT)
                        except zmq.ZMQError:  # pragma: no cover
                            pass
                    self._sock.close(linger=0 if self._abandoned else 100)
                    self._sock = None
            if self._watchdog is not threading.current_thread():
                self._watchdog.join(self.heartbeat_interval)
            if self._direct_thread is not None:
                self._direct_thread.join(2)
                self._direct_thread = None
            self.direct_endpoint = None

    def abandon(self) -> None:
        """Stop without sending DISCONNECT, as a crashed server would (for tests)."""
        self._abandoned = True
        self.stop()


def run_simple_server(
    objectId: str,
    obj: Any,
    endpoints: Endpoints | None = None,
    *,
    log_level: int = logging.INFO,
    ctx: zmq.SyncContext | None = None,
    install_signal_handlers: bool = True,
    **server_kwargs: Any,
) -> None:
    """Serve ``obj`` as ``objectId`` until Ctrl-C/SIGTERM, with distributed logging turned on."""
    from .logger import initRocLogging

    ep = endpoints or Endpoints("127.0.0.1")
    handler = initRocLogging(nodeId=objectId, destination=ep, level=log_level, ctx=ctx)
    server = RocServer(ep, objectId, obj, ctx, **server_kwargs)
    previous: Callable[..., Any] | int | None = None
    if install_signal_handlers and threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: server._stop.set())
    try:
        log.info("serving ROC object %r at %s", objectId, ep.rocBroker)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        logging.getLogger().removeHandler(handler)
        handler.close()
