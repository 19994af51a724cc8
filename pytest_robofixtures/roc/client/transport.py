"""The real RocTransport: 7/MDP through the broker, plus a negotiated direct path to ROC servers.

Broker path: a 7/MDP client on a DEALER socket (Lazy Pirate on timeout), the default for every
peer. Direct path (see :mod:`pytest_robofixtures.roc.protocol`): the first call to an object asks
it, through the broker, for its direct endpoint (``__direct__``); a ROC server answers and the
transport connects a REQ socket straight to its REP, so later calls take one hop instead of
two, with the socket work of a plain REQ/REP round trip. Foreign
servers answer -32601 and stay on the broker path.

Failover: the direct REQ never queues for an absent peer (``ZMQ_IMMEDIATE``) and never
reconnects (``ZMQ_RECONNECT_IVL=-1``), so once the server or its direct socket is gone a send
fails at once, nothing has been sent, and the call goes through the broker instead (which finds
a live or restarted server); the next call discovers afresh. ZMTP heartbeats on the connection
detect a peer that hangs without closing. A call already sent when the connection drops gets
the same -32001 error the broker gives for a worker that died mid-call; it is never re-sent,
since calls need not be idempotent.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import orjson
import zmq
from zmq.utils.monitor import parse_monitor_message

from ...common.clock import Clock, default_clock
from ..endpoints import Endpoints
from ..protocol import (
    DIRECT_METHOD,
    DIRECT_PROTOCOL,
    MDPC,
    MMI_PREFIX,
    OBJECT_NOT_FOUND,
    ORJSON_OPTIONS,
    REQUEST_EXPIRED,
    RocTimeout,
    dumps,
    error_response,
    json_default,
    loads,
)

_SLICE = 0.25  # seconds: how often a waiting direct call checks that its connection is alive
_NO_DIRECT_TTL = 5.0  # seconds: how long an object that offered no direct path is not asked
_UNREACHABLE_TTL = 60.0  # seconds: ... and one whose endpoint could not be reached (NAT, firewall)
_RECHECK_AFTER = 0.02  # seconds: a direct route idle this long checks its connection first
_CONNECT_WAIT = 1.0  # seconds: how long a new direct connection may take to handshake
_SLICE_MS = int(_SLICE * 1000)
_LOST = zmq.EVENT_DISCONNECTED | zmq.EVENT_CLOSED | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
_MONITORED = _LOST | zmq.EVENT_HANDSHAKE_SUCCEEDED
_send = zmq.backend.Socket.send  # the Cython send itself: pyzmq's wrapper only adds DRAFT args
_NOBLOCK = zmq.NOBLOCK
_RCVTIMEO = zmq.RCVTIMEO
_monotonic = time.monotonic
_orjson_loads = orjson.loads
_orjson_dumps = orjson.dumps
_JSONDecodeError = orjson.JSONDecodeError


class _Route:
    """A direct connection to one server instance."""

    __slots__ = ("sock", "monitor", "endpoint", "instance", "rcvtimeo", "alive", "last_used")

    def __init__(self, sock: zmq.SyncSocket, monitor: zmq.SyncSocket, endpoint: str,
                 instance: str) -> None:
        self.sock = sock
        self.monitor = monitor
        self.endpoint = endpoint
        self.instance = instance
        self.rcvtimeo = -1
        self.alive = True
        self.last_used = 0.0

    def check(self) -> bool:
        """Drain monitor events; False once the connection is lost."""
        monitor = self.monitor
        while self.alive and int(monitor.get(zmq.EVENTS)) & zmq.POLLIN:
            try:
                frames = monitor.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:  # pragma: no cover - EVENTS said there was one
                break
            if parse_monitor_message(frames)["event"] & _LOST:
                self.alive = False
        return self.alive

    def close(self) -> None:
        self.alive = False
        try:
            self.sock.disable_monitor()
        except zmq.ZMQError:  # pragma: no cover
            pass
        self.monitor.close(0)
        self.sock.close(0)


class ZmqRocTransport:
    """The real RocTransport (broker path plus negotiated direct path).

    One request is in flight at a time (a lock serialises threads). On a broker-path timeout the
    socket is closed and replaced, so a late reply can never be mistaken for a later call's;
    replies whose JSON-RPC id does not match are discarded as stale. On the direct path (a REQ
    socket, one reply per request) a stale or malformed reply ends the call at once with
    :class:`RocTimeout` and drops the route; the request is not re-sent. ``retries`` re-sends the
    same request (same id) on a fresh broker socket that many times before raising
    :class:`RocTimeout`; each attempt gets the full timeout. The default (0) never re-sends.

    ``direct=False`` keeps every call on the broker path. Requests to ``mmi.*`` services always
    go to the broker; they send ``params[0]`` as the raw MMI body and return
    ``{"jsonrpc": "2.0", "id": <id>, "result": "<status code>"}``.
    """

    def __init__(self, address: Endpoints | str, ctx: zmq.SyncContext | None = None,
                 retries: int = 0, *, direct: bool = True, clock: Clock | None = None) -> None:
        self.address = address.rocBroker if isinstance(address, Endpoints) else address
        self.ctx = ctx or zmq.Context.instance()
        self.retries = retries
        self.direct = direct
        self._clock = clock
        self._lock = threading.Lock()
        self._sock: zmq.SyncSocket | None = None
        self._routes: dict[str, _Route] = {}
        self._no_direct_until: dict[str, float] = {}
        self._probe_ids = itertools.count(1)
        self.timeouts = 0
        self.stale = 0
        self.direct_calls = 0
        self.broker_calls = 0
        self.fallbacks = 0  # direct route lost: the call went through the broker instead
        self._rcvtimeo = -1

    # -- broker path -------------------------------------------------------------------------
    def _socket(self) -> zmq.SyncSocket:
        if self._sock is None:
            sock = self.ctx.socket(zmq.DEALER)
            sock.linger = 0
            sock.connect(self.address)
            self._sock = sock
            self._rcvtimeo = -1
        return self._sock

    def _reset(self) -> None:
        if self._sock is not None:
            self._sock.close(0)
            self._sock = None

    def _via_broker(self, object_id: str, service: bytes, body: bytes, rid: Any, mmi: bool,
                    method: Any, timeout: float) -> dict[str, Any]:
        self.broker_calls += 1
        for _attempt in range(self.retries + 1):
            sock = self._socket()
            sock.send_multipart([b"", MDPC, service, body])
            # A socket wait: real time, whatever the shared clock says (replay has no socket).
            deadline = time.monotonic() + timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                ms = max(1, int(remaining * 1000))
                if ms != self._rcvtimeo:  # blocking recv with a timeout: no extra poll
                    sock.rcvtimeo = self._rcvtimeo = ms
                try:
                    frames = sock.recv_multipart()
                except zmq.Again:
                    break
                if len(frames) < 4 or frames[0] or frames[1] != MDPC or frames[2] != service:
                    self.stale += 1
                    continue
                if mmi:
                    return {"jsonrpc": "2.0", "id": rid,
                            "result": frames[3].decode(errors="replace")}
                reply = self._parse(frames[3], rid)
                if reply is not None:
                    return reply
            self.timeouts += 1
            self._reset()
        raise RocTimeout(
            f"ROC call {object_id}.{method} got no reply within {timeout:g} s "
            f"(broker {self.address})")

    def _parse(self, frame: bytes, rid: Any) -> dict[str, Any] | None:
        try:
            reply = loads(frame)
        except (ValueError, UnicodeDecodeError):
            self.stale += 1
            return None
        if not isinstance(reply, dict) or (
                reply.get("id") != rid and not (reply.get("id") is None and "error" in reply)):
            self.stale += 1
            return None
        return reply

    # -- direct path -------------------------------------------------------------------------
    def _now(self) -> float:
        return (self._clock or default_clock()).monotonic()

    def _drop(self, object_id: str) -> None:
        route = self._routes.pop(object_id, None)
        if route is not None:
            route.close()

    def _discover(self, object_id: str, service: bytes,
                  timeout: float) -> _Route | dict[str, Any] | None:
        """Ask the object for its direct endpoint: a route, a final error reply, or None."""
        until = self._no_direct_until.get(object_id)
        if until is not None:
            if self._now() < until:
                return None
            del self._no_direct_until[object_id]
        rid = f"direct-{next(self._probe_ids)}"
        probe = {"jsonrpc": "2.0", "method": DIRECT_METHOD, "id": rid}
        reply = self._via_broker(object_id, service, dumps(probe), rid, False, DIRECT_METHOD,
                                 timeout)
        error = reply.get("error")
        if isinstance(error, dict) and error.get("code") in (OBJECT_NOT_FOUND, REQUEST_EXPIRED):
            return reply  # the call itself would get the same answer from the broker
        result = reply.get("result")
        info: dict[str, Any] = result if isinstance(result, dict) else {}
        endpoint = info.get("endpoint")
        if (not isinstance(endpoint, str) or info.get("protocol") != DIRECT_PROTOCOL
                or info.get("objectId") != object_id
                or not endpoint.startswith(("tcp://", "ipc://"))):
            self._no_direct_until[object_id] = self._now() + _NO_DIRECT_TTL
            return None
        route = self._connect_direct(endpoint, str(info.get("instance", "")))
        if route is None:  # each try costs up to _CONNECT_WAIT: do not retry soon
            self._no_direct_until[object_id] = self._now() + _UNREACHABLE_TTL
            return None
        self._routes[object_id] = route
        return route

    def _connect_direct(self, endpoint: str, instance: str) -> _Route | None:
        # REQ: the server's direct socket is a REP; a timed-out REQ is closed with its route.
        sock = self.ctx.socket(zmq.REQ)
        sock.linger = 0
        sock.immediate = True  # never queue a call for a peer that is not connected
        sock.reconnect_ivl = -1  # a lost server is rediscovered through the broker instead
        sock.heartbeat_ivl = 1000
        sock.heartbeat_timeout = 3000
        monitor = sock.get_monitor_socket(_MONITORED)
        route = _Route(sock, monitor, endpoint, instance)
        try:
            sock.connect(endpoint)
        except zmq.ZMQError:
            route.close()
            return None
        # Socket wait for the handshake (bounded, real time).
        deadline = time.monotonic() + _CONNECT_WAIT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not monitor.poll(max(1, int(remaining * 1000))):
                route.close()
                return None
            event = parse_monitor_message(monitor.recv_multipart())["event"]
            if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                return route
            if event & _LOST:
                route.close()
                return None

    def _via_direct(self, object_id: str, route: _Route, body: bytes, rid: Any, method: Any,
                    timeout: float) -> dict[str, Any] | None:
        """The reply through the direct route, or None if nothing could be sent."""
        sock = route.sock
        now = _monotonic()  # socket waits: real time
        # Did the connection drop since the last call? Asking the monitor costs a system call,
        # so only after a pause: back-to-back calls rely on ZMQ_IMMEDIATE refusing the send.
        if now - route.last_used > _RECHECK_AFTER and not route.check():
            self._drop(object_id)
            return None
        try:
            _send(sock, body, _NOBLOCK)
        except zmq.Again:  # no live connection: the request was not sent
            self._drop(object_id)
            return None
        self.direct_calls += 1
        # The common case: one blocking recv (its timeout is set once per route) and a reply
        # with our id. Anything else (a slice without a reply, an odd reply) takes the loop.
        ms = _SLICE_MS if timeout >= _SLICE else max(1, int(timeout * 1000))
        if ms != route.rcvtimeo:
            sock.set(_RCVTIMEO, ms)
            route.rcvtimeo = ms
        try:
            frame = sock.recv()
        except zmq.Again:
            pass
        else:
            try:
                reply = _orjson_loads(frame)
            except _JSONDecodeError:
                reply = None
            if type(reply) is dict and reply.get("id") == rid:
                route.last_used = _monotonic()
                return reply
            return self._direct_reply(object_id, route, frame, rid, method)
        return self._await_direct(object_id, route, rid, method, now + timeout, timeout)

    def _direct_reply(self, object_id: str, route: _Route, frame: bytes, rid: Any,
                      method: Any) -> dict[str, Any]:
        """Lenient JSON or an error without id; a stale or malformed reply ends the call."""
        reply = self._parse(frame, rid)
        if reply is not None:
            route.last_used = _monotonic()
            return reply
        # A REQ socket gets one reply per request: after a wrong one, nothing else can come.
        self.timeouts += 1
        self._drop(object_id)
        raise RocTimeout(f"ROC call {object_id}.{method} got no valid reply: the reply on the "
                         f"direct path {route.endpoint} was malformed or not for this call")

    def _await_direct(self, object_id: str, route: _Route, rid: Any, method: Any,
                      deadline: float, timeout: float) -> dict[str, Any]:
        """Keep waiting for the reply after a slice without one."""
        sock = route.sock
        while True:
            if not route.check():
                self._drop(object_id)
                return error_response(
                    rid, OBJECT_NOT_FOUND,
                    f"ROC object {object_id!r}: the server serving this call went away "
                    f"(direct connection to {route.endpoint} lost)",
                    {"type": "RocObjectNotFound", "objectId": object_id})
            remaining = deadline - _monotonic()
            if remaining <= 0:
                break
            ms = max(1, int(min(remaining, _SLICE) * 1000))
            if ms != route.rcvtimeo:
                sock.set(_RCVTIMEO, ms)
                route.rcvtimeo = ms
            try:
                frame = sock.recv()
            except zmq.Again:
                continue
            return self._direct_reply(object_id, route, frame, rid, method)
        self.timeouts += 1
        self._drop(object_id)  # a late reply must not meet a later call
        raise RocTimeout(f"ROC call {object_id}.{method} got no reply within {timeout:g} s "
                         f"(direct {route.endpoint})")

    # -- RocTransport ------------------------------------------------------------------------
    def request(self, object_id: str, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send ``message`` to ``object_id``; return the reply or raise :class:`RocTimeout`."""
        service = object_id.encode()
        rid = message.get("id")
        method = message.get("method")
        if service.startswith(MMI_PREFIX):
            params = message.get("params") or [""]
            with self._lock:
                return self._via_broker(object_id, service, str(params[0]).encode(), rid, True,
                                        method, timeout)
        try:  # protocol.dumps minus a call: orjson first, the rest on TypeError
            body = _orjson_dumps(message, default=json_default, option=ORJSON_OPTIONS)
        except TypeError:
            body = dumps(message)
        with self._lock:
            if self.direct:
                route = self._routes.get(object_id)
                if route is None:
                    found = self._discover(object_id, service, timeout)
                    if isinstance(found, dict):
                        return {**found, "id": rid}
                    route = found
                if route is not None:
                    reply = self._via_direct(object_id, route, body, rid, method, timeout)
                    if reply is not None:
                        return reply
                    self.fallbacks += 1
            return self._via_broker(object_id, service, body, rid, False, method, timeout)

    def direct_route(self, object_id: str) -> str | None:
        """The live direct endpoint used for ``object_id``, or None (diagnostics and tests)."""
        with self._lock:
            route = self._routes.get(object_id)
            if route is not None and not route.check():
                self._drop(object_id)
                route = None
            return route.endpoint if route is not None else None

    def close(self) -> None:
        """Close every socket."""
        with self._lock:
            self._reset()
            for object_id in list(self._routes):
                self._drop(object_id)
