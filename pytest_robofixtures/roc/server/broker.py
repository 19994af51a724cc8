"""The ROC broker: a 7/MDP broker (object id = service) plus an XSUB/XPUB log/status forwarder.

Decisions (see also :mod:`pytest_robofixtures.roc.protocol`):

* One ROUTER socket for clients and workers (allowed by 7/MDP), served by one thread with a
  blocking ``recv`` (no poller: only one socket is active); bodies are never parsed on the fast
  path.
* Requests for an object id with no registered worker are queued for ``unknown_timeout`` seconds
  (default 1 s, so a worker that is just (re-)registering still gets them) and then answered with
  JSON-RPC error -32001. ``mmi.service`` answers at once.
* Workers are expired ``heartbeat_interval * heartbeat_liveness`` seconds after their last
  message, idle or busy (ROC servers keep heartbeating during long calls). The caller of a call
  in flight on an expired worker gets -32001 at once. ``busy_timeout`` (optional) gives foreign
  workers that do not heartbeat while busy that long before they are expired mid-call.
* Queued requests older than ``request_timeout`` (optional) are answered with -32002.
* Malformed messages are counted, logged (rate-limited) and dropped; valid but unexpected worker
  commands are answered with DISCONNECT, as 7/MDP says. Nothing a peer sends stops the broker.
* The log/status forwarder is libzmq's ``proxy_steerable`` in its own thread (it runs without
  the GIL), with high-water marks raised to ``hwm`` (default 100 000 messages).
* Frames above ``max_frame_size`` bytes (default 16 MiB; None for no limit) are dropped: an MDP
  message with such a frame is counted (``stats["oversized"]``), logged (rate-limited) and not
  routed; on the log/status input libzmq enforces the same limit (``ZMQ_MAXMSGSIZE``: it drops
  the frame and the publisher's connection, which reconnects), since that path never reaches
  Python.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

import zmq

from ..endpoints import Endpoints, find_free_base_port
from ..protocol import (
    DISCONNECT,
    HEARTBEAT,
    MDPC,
    MDPW,
    MMI_PREFIX,
    MMI_SERVICE,
    OBJECT_NOT_FOUND,
    READY,
    REPLY,
    REQUEST,
    REQUEST_EXPIRED,
    dumps,
    error_response,
    request_id_of,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024


class _Worker:
    __slots__ = ("identity", "service", "expiry", "last_sent", "client", "body", "busy_since")

    def __init__(self, identity: bytes, service: _Service, expiry: float, now: float) -> None:
        self.identity = identity
        self.service = service
        self.expiry = expiry
        self.last_sent = now
        self.client: bytes | None = None  # set while busy
        self.body: list[bytes] | None = None
        self.busy_since = 0.0


class _Service:
    __slots__ = ("name", "requests", "waiting", "nworkers")

    def __init__(self, name: bytes) -> None:
        self.name = name
        self.requests: deque[tuple[bytes, list[bytes], float]] = deque()
        self.waiting: deque[_Worker] = deque()
        self.nworkers = 0


class RocBroker:
    """A ROC broker bound to ``endpoints``: MDP routing plus the log/status forwarder."""

    def __init__(
        self,
        endpoints: Endpoints,
        heartbeat_interval: float = 2.5,
        heartbeat_liveness: int = 3,
        *,
        unknown_timeout: float = 1.0,
        request_timeout: float | None = None,
        busy_timeout: float | None = None,
        hwm: int = 100_000,
        max_frame_size: int | None = DEFAULT_MAX_FRAME_SIZE,
        ctx: zmq.SyncContext | None = None,
    ) -> None:
        if heartbeat_interval <= 0 or heartbeat_liveness < 1:
            raise ValueError("heartbeat_interval must be > 0 and heartbeat_liveness >= 1")
        self.endpoints = endpoints
        self.heartbeat_interval = float(heartbeat_interval)
        self.heartbeat_liveness = int(heartbeat_liveness)
        self.unknown_timeout = float(unknown_timeout)
        self.request_timeout = request_timeout
        self.busy_timeout = busy_timeout
        self.hwm = hwm
        if max_frame_size is not None and max_frame_size < 1:
            raise ValueError("max_frame_size must be >= 1 byte (or None for no limit)")
        self.max_frame_size = max_frame_size
        self._own_ctx = ctx is None
        self._ctx = ctx
        self._router: zmq.SyncSocket | None = None
        self._xsub: zmq.SyncSocket | None = None
        self._xpub: zmq.SyncSocket | None = None
        self._control_addr = f"inproc://roc-broker-control-{id(self)}"
        self._control: zmq.SyncSocket | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._disconnect_on_stop = True
        self.workers: dict[bytes, _Worker] = {}
        self.services: dict[bytes, _Service] = {}
        self.stats = {"requests": 0, "replies": 0, "malformed": 0, "expired_workers": 0,
                      "errors": 0, "oversized": 0}
        self._tick = min(0.1, self.heartbeat_interval / 2, max(self.unknown_timeout / 4, 0.01))
        self._next_housekeeping = 0.0
        self._warned_at = 0.0
        self._unwarned = 0

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return bool(self._threads) and not self._stopping

    def start(self) -> RocBroker:
        """Bind the three endpoints and serve in background threads; returns self."""
        if self._threads:
            raise RuntimeError("broker already started")
        ctx = self._ctx = self._ctx or zmq.Context(io_threads=1)
        socks: list[zmq.SyncSocket] = []
        try:
            router = ctx.socket(zmq.ROUTER)
            socks.append(router)
            router.linger = 0
            router.rcvtimeo = int(self._tick * 1000)
            router.sndhwm = router.rcvhwm = self.hwm
            router.bind(self.endpoints.rocBroker)
            xsub = ctx.socket(zmq.XSUB)
            socks.append(xsub)
            xpub = ctx.socket(zmq.XPUB)
            socks.append(xpub)
            for s in (xsub, xpub):
                s.linger = 0
                s.sndhwm = s.rcvhwm = self.hwm
            if self.max_frame_size is not None:
                xsub.maxmsgsize = self.max_frame_size
            xsub.bind(self.endpoints.generalXSUB)
            xpub.bind(self.endpoints.generalXPUB)
            control = ctx.socket(zmq.PAIR)
            socks.append(control)
            control.linger = 0
            control.bind(self._control_addr)
            self._control = ctx.socket(zmq.PAIR)
            self._control.linger = 0
            self._control.connect(self._control_addr)
        except Exception:
            for s in socks:
                s.close(0)
            if self._control is not None:
                self._control.close(0)
                self._control = None
            if self._own_ctx:
                ctx.term()
                self._ctx = None
            raise
        self._router, self._xsub, self._xpub = router, xsub, xpub
        self._stopping = False
        t1 = threading.Thread(target=self._serve, name="roc-broker", daemon=True)
        t2 = threading.Thread(target=self._forward, args=(xsub, xpub, control),
                              name="roc-forwarder", daemon=True)
        self._threads = [t1, t2]
        t1.start()
        t2.start()
        log.info("ROC broker serving %s (logs/status in %s, out %s)", self.endpoints.rocBroker,
                 self.endpoints.generalXSUB, self.endpoints.generalXPUB)
        return self

    def stop(self, disconnect_workers: bool = True) -> None:
        """Stop serving, DISCONNECT workers (so they re-register elsewhere) and close sockets."""
        if not self._threads:
            return
        self._disconnect_on_stop = disconnect_workers
        self._stopping = True
        if self._control is not None:
            try:
                self._control.send(b"TERMINATE")
            except zmq.ZMQError:  # pragma: no cover
                pass
        for t in self._threads:
            t.join(10)
        self._threads = []
        if self._control is not None:
            self._control.close(0)
            self._control = None
        if self._own_ctx and self._ctx is not None:
            self._ctx.term()
            self._ctx = None
        log.info("ROC broker on %s stopped", self.endpoints.rocBroker)

    def __enter__(self) -> RocBroker:
        return self.start() if not self._threads else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Start (if needed) and block until stop() is called from another thread or a signal."""
        if not self._threads:
            self.start()
        try:
            while self._threads and not self._stopping:
                self._threads[0].join(0.2)
                if not self._threads[0].is_alive():
                    break
        finally:
            self.stop()

    # -- forwarder -------------------------------------------------------------------------------
    @staticmethod
    def _forward(xsub: zmq.SyncSocket, xpub: zmq.SyncSocket, control: zmq.SyncSocket) -> None:
        try:
            zmq.proxy_steerable(xsub, xpub, None, control)
        except zmq.ContextTerminated:  # pragma: no cover
            pass
        except Exception:  # pragma: no cover
            log.exception("ROC log/status forwarder failed")
        finally:
            for s in (xsub, xpub, control):
                s.close(0)

    # -- MDP -------------------------------------------------------------------------------------
    def _serve(self) -> None:
        router = self._router
        assert router is not None
        recv = router.recv_multipart
        monotonic = time.monotonic
        handle = self._handle
        try:
            while not self._stopping:
                try:
                    frames = recv()
                except zmq.Again:
                    frames = None
                now = monotonic()
                if frames is not None:
                    try:
                        handle(frames, now)
                    except Exception:
                        self.stats["errors"] += 1
                        log.exception("ROC broker: error handling a message (ignored)")
                if now >= self._next_housekeeping:
                    try:
                        self._housekeeping(now)
                    except Exception:  # pragma: no cover
                        log.exception("ROC broker: housekeeping failed")
                    self._next_housekeeping = now + self._tick
        finally:
            if self._disconnect_on_stop:
                for w in list(self.workers.values()):
                    self._send_worker(w, DISCONNECT)
            self.workers.clear()
            self.services.clear()
            router.close(linger=200 if self._disconnect_on_stop else 0)
            self._router = None

    def _malformed(self, why: str, frames: list[bytes]) -> None:
        self.stats["malformed"] += 1
        now = time.monotonic()
        if now - self._warned_at > 1.0:
            extra = f" (+{self._unwarned} more)" if self._unwarned else ""
            log.warning("ROC broker: dropped malformed message (%s): %r%s", why,
                        [f[:32] for f in frames[:8]], extra)
            self._warned_at = now
            self._unwarned = 0
        else:
            self._unwarned += 1

    def _oversized(self, frames: list[bytes], size: int) -> None:
        self.stats["oversized"] += 1
        now = time.monotonic()
        if now - self._warned_at > 1.0:
            extra = f" (+{self._unwarned} more)" if self._unwarned else ""
            log.warning("ROC broker: dropped a message from %r with a %d-byte frame (limit "
                        "max_frame_size=%d)%s", frames[0][:32], size, self.max_frame_size, extra)
            self._warned_at = now
            self._unwarned = 0
        else:
            self._unwarned += 1

    def _handle(self, frames: list[bytes], now: float) -> None:
        limit = self.max_frame_size
        if limit is not None:
            for f in frames:
                if len(f) > limit:
                    self._oversized(frames, len(f))
                    return
        if len(frames) < 4 or frames[1]:
            self._malformed("too short or no empty delimiter", frames)
            return
        header = frames[2]
        if header == MDPC:
            if len(frames) < 5:
                self._malformed("client request without body", frames)
                return
            self._client_request(frames[0], frames[3], frames[4:], now)
        elif header == MDPW:
            self._worker_message(frames, now)
        else:
            self._malformed("unknown protocol header", frames)

    def _client_request(self, client: bytes, name: bytes, body: list[bytes], now: float) -> None:
        self.stats["requests"] += 1
        if name.startswith(MMI_PREFIX):
            self._mmi(client, name, body)
            return
        svc = self.services.get(name)
        if svc is None:
            svc = self.services[name] = _Service(name)
        if svc.waiting and not svc.requests:
            self._dispatch_one(svc.waiting.popleft(), client, body, now)
        else:
            svc.requests.append((client, body, now))
            self._dispatch(svc, now)

    def _mmi(self, client: bytes, name: bytes, body: list[bytes]) -> None:
        if name == MMI_SERVICE:
            svc = self.services.get(body[0])
            code = b"200" if svc is not None and svc.nworkers > 0 else b"404"
        else:
            code = b"501"
        self._router_send([client, b"", MDPC, name, code])

    def _dispatch_one(self, w: _Worker, client: bytes, body: list[bytes], now: float) -> None:
        w.client = client
        w.body = body
        w.busy_since = now
        w.last_sent = now
        self._router_send([w.identity, b"", MDPW, REQUEST, client, b"", *body])

    def _dispatch(self, svc: _Service, now: float) -> None:
        while svc.waiting and svc.requests:
            client, body, _ = svc.requests.popleft()
            self._dispatch_one(svc.waiting.popleft(), client, body, now)

    def _router_send(self, frames: list[bytes]) -> None:
        try:
            self._router.send_multipart(frames, zmq.NOBLOCK)  # type: ignore[union-attr]
        except zmq.Again:  # peer's pipe full: drop like ROUTER does
            log.warning("ROC broker: peer %r not reachable, message dropped", frames[0][:32])
        except zmq.ZMQError as exc:  # pragma: no cover
            log.warning("ROC broker: send failed: %s", exc)

    def _send_worker(self, w: _Worker, command: bytes, *extra: bytes) -> None:
        w.last_sent = time.monotonic()
        self._router_send([w.identity, b"", MDPW, command, *extra])

    def _worker_message(self, frames: list[bytes], now: float) -> None:
        identity = frames[0]
        command = frames[3]
        w = self.workers.get(identity)
        if command == REPLY:
            if len(frames) < 7 or frames[5]:
                self._malformed("REPLY without client envelope", frames)
                return
            if w is None:
                self._router_send([identity, b"", MDPW, DISCONNECT])
                return
            w.expiry = now + self.heartbeat_interval * self.heartbeat_liveness
            if w.client is None:
                log.warning("ROC broker: unexpected REPLY from idle worker of %r dropped",
                            w.service.name)
                return
            self.stats["replies"] += 1
            svc = w.service
            self._router_send([frames[4], b"", MDPC, svc.name, *frames[6:]])
            w.client = None
            w.body = None
            if svc.requests:
                client, body, _ = svc.requests.popleft()
                self._dispatch_one(w, client, body, now)
            else:
                svc.waiting.append(w)
        elif command == HEARTBEAT:
            if len(frames) != 4:
                self._malformed("HEARTBEAT with extra frames", frames)
            elif w is None:
                self._router_send([identity, b"", MDPW, DISCONNECT])
            else:
                w.expiry = now + self.heartbeat_interval * self.heartbeat_liveness
        elif command == READY:
            if len(frames) != 5:
                self._malformed("READY must have exactly one service frame", frames)
                return
            name = frames[4]
            if w is not None or name.startswith(MMI_PREFIX) or not name:
                if w is not None:
                    self._delete_worker(w, "second READY")
                self._router_send([identity, b"", MDPW, DISCONNECT])
                return
            found = self.services.get(name)
            if found is None:
                found = self.services[name] = _Service(name)
            svc = found
            w = _Worker(identity, svc, now + self.heartbeat_interval * self.heartbeat_liveness,
                        now)
            self.workers[identity] = w
            svc.nworkers += 1
            svc.waiting.append(w)
            log.debug("ROC broker: worker %r ready for %r", identity, name)
            self._dispatch(svc, now)
        elif command == DISCONNECT:
            if len(frames) != 4:
                self._malformed("DISCONNECT with extra frames", frames)
            elif w is not None:
                self._delete_worker(w, "worker disconnected")
        elif command == REQUEST:
            # A worker never sends REQUEST: valid command, unexpected direction.
            self._router_send([identity, b"", MDPW, DISCONNECT])
            if w is not None:
                self._delete_worker(w, "worker sent REQUEST")
        else:
            self._malformed("unknown worker command", frames)

    def _delete_worker(self, w: _Worker, why: str) -> None:
        if self.workers.pop(w.identity, None) is None:
            return
        svc = w.service
        svc.nworkers -= 1
        try:
            svc.waiting.remove(w)
        except ValueError:
            pass
        log.info("ROC broker: worker %r for %r removed (%s)", w.identity, svc.name, why)
        if w.client is not None and w.body is not None:
            rid = request_id_of(w.body[0]) if w.body else None
            err = error_response(rid, OBJECT_NOT_FOUND,
                                 f"ROC object {svc.name.decode(errors='replace')!r}: the worker "
                                 f"serving this call went away ({why})",
                                 {"type": "RocObjectNotFound",
                                  "objectId": svc.name.decode(errors="replace")})
            self._router_send([w.client, b"", MDPC, svc.name, dumps(err)])
            w.client = None

    def _reply_error(self, client: bytes, svc: _Service, body: list[bytes], code: int,
                     message: str) -> None:
        rid = request_id_of(body[0]) if body else None
        oid = svc.name.decode(errors="replace")
        err = error_response(rid, code, message, {"type": type_name_for(code), "objectId": oid})
        self._router_send([client, b"", MDPC, svc.name, dumps(err)])

    def _housekeeping(self, now: float) -> None:
        liveness_span = self.heartbeat_interval * self.heartbeat_liveness
        for w in list(self.workers.values()):
            if now > w.expiry:
                if (w.client is not None and self.busy_timeout is not None
                        and now < w.busy_since + self.busy_timeout):
                    continue
                self.stats["expired_workers"] += 1
                self._delete_worker(w, f"no message for {liveness_span:g} s")
                self._router_send([w.identity, b"", MDPW, DISCONNECT])
            elif now - w.last_sent >= self.heartbeat_interval:
                self._send_worker(w, HEARTBEAT)
        for name, svc in list(self.services.items()):
            if svc.requests:
                if svc.nworkers == 0:
                    while svc.requests and now - svc.requests[0][2] >= self.unknown_timeout:
                        client, body, _ = svc.requests.popleft()
                        self._reply_error(
                            client, svc, body, OBJECT_NOT_FOUND,
                            f"no ROC object {name.decode(errors='replace')!r} is registered "
                            f"at the broker")
                elif self.request_timeout is not None:
                    while svc.requests and now - svc.requests[0][2] >= self.request_timeout:
                        client, body, _ = svc.requests.popleft()
                        self._reply_error(
                            client, svc, body, REQUEST_EXPIRED,
                            f"request to ROC object {name.decode(errors='replace')!r} waited "
                            f"{self.request_timeout:g} s in the broker queue")
            if svc.nworkers == 0 and not svc.requests:
                del self.services[name]

    def info(self) -> dict[str, Any]:
        """A snapshot of registered objects and counters (not thread-safe; for diagnostics)."""
        return {
            "objects": {n.decode(errors="replace"): s.nworkers
                        for n, s in list(self.services.items()) if s.nworkers},
            "stats": dict(self.stats),
        }


def type_name_for(code: int) -> str:
    """The ``data.type`` the broker reports for its own error codes."""
    return {OBJECT_NOT_FOUND: "RocObjectNotFound", REQUEST_EXPIRED: "RocRequestExpired"}.get(
        code, "RemoteError")


def start_broker(
    host: str = "127.0.0.1", attempts: int = 10, **kwargs: Any
) -> RocBroker:
    """Start a broker on a free block of three ports on ``host`` (retrying on EADDRINUSE)."""
    last: Exception | None = None
    for _ in range(attempts):
        broker = RocBroker(Endpoints(host, find_free_base_port(host)), **kwargs)
        try:
            return broker.start()
        except zmq.ZMQError as exc:
            if exc.errno != zmq.EADDRINUSE:
                raise
            last = exc
    raise OSError(f"could not bind a ROC broker on {host}: {last}")
