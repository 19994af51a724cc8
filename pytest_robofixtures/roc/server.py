"""ROC object server: shares a plain Python object's attributes and methods as a 7/MDP worker."""

from __future__ import annotations

import inspect
import logging
import os
import signal
import socket as _socket
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import zmq

from .endpoints import Endpoints
from .protocol import (
    DISCONNECT,
    HEARTBEAT,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    MDPW,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    READY,
    REMOTE_EXCEPTION,
    REPLY,
    REQUEST,
    dumps,
    error_response,
    loads,
    split_params,
)

log = logging.getLogger(__name__)
_HOST = _socket.gethostname()


class _CallError(Exception):
    def __init__(self, code: int, message: str, data: dict[str, Any]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def _json_safe_args(args: tuple[Any, ...]) -> list[Any]:
    out: list[Any] = []
    for a in args:
        if a is None or isinstance(a, (str, int, float, bool)):
            out.append(a)
        else:
            try:
                dumps(a)
                out.append(a)
            except (TypeError, ValueError):
                out.append(repr(a))
    return out


class ObjectDispatcher:
    """Executes decoded ROC JSON-RPC requests against one Python object (transport-free)."""

    def __init__(self, obj: Any, object_id: str = "") -> None:
        self.obj = obj
        self.object_id = object_id
        self._signatures: dict[Any, inspect.Signature | None] = {}

    # -- name resolution -------------------------------------------------------------------------
    def _resolve(self, path: str) -> tuple[Any, str]:
        """Return ``(owner, last_name)`` for a dotted public path."""
        parts = path.split(".")
        for p in parts:
            if not p or p.startswith("_"):
                raise _CallError(METHOD_NOT_FOUND, f"{path!r} is not a public name",
                                 {"type": "AttributeError", "name": path})
        owner = self.obj
        for p in parts[:-1]:
            try:
                owner = getattr(owner, p)
            except AttributeError as exc:
                raise _CallError(METHOD_NOT_FOUND, f"no attribute {path!r}: {exc}",
                                 {"type": "AttributeError", "name": path}) from None
        return owner, parts[-1]

    def _lookup(self, path: str) -> Any:
        owner, name = self._resolve(path)
        try:
            return getattr(owner, name)
        except AttributeError as exc:
            raise _CallError(METHOD_NOT_FOUND,
                             f"ROC object {self.object_id!r} has no attribute {path!r}",
                             {"type": "AttributeError", "name": path, "detail": str(exc)}
                             ) from None

    def _signature(self, fn: Any) -> inspect.Signature | None:
        key = getattr(fn, "__func__", fn)
        try:
            return self._signatures[key]
        except (KeyError, TypeError):
            pass
        try:
            sig: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            sig = None
        try:
            self._signatures[key] = sig
        except TypeError:  # pragma: no cover - unhashable callable
            pass
        return sig

    # -- operations ------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """The ``__dir__`` metadata: public methods (doc, signature) and attributes."""
        methods: dict[str, dict[str, Any]] = {}
        attributes: list[str] = []
        for name in dir(self.obj):
            if name.startswith("_"):
                continue
            try:
                static = inspect.getattr_static(self.obj, name)
            except AttributeError:
                static = None
            if isinstance(static, property):
                attributes.append(name)
                continue
            try:
                value = getattr(self.obj, name)
            except Exception:
                continue
            if callable(value) and not isinstance(value, type):
                sig = self._signature(value)
                doc = inspect.getdoc(value)
                methods[name] = {"doc": doc.splitlines()[0] if doc else None,
                                 "signature": str(sig) if sig is not None else None}
            else:
                attributes.append(name)
        return {"methods": methods, "attributes": attributes}

    def _getattr(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if kwargs or len(args) != 1 or not isinstance(args[0], str):
            raise _CallError(INVALID_PARAMS, "__getattr__ takes one attribute name",
                             {"type": "TypeError"})
        value = self._lookup(args[0])
        if callable(value) and not isinstance(value, type):
            raise _CallError(METHOD_NOT_FOUND, f"{args[0]!r} is a method, not an attribute",
                             {"type": "AttributeError", "name": args[0]})
        return value

    def _setattr(self, args: list[Any], kwargs: dict[str, Any]) -> None:
        if kwargs or len(args) != 2 or not isinstance(args[0], str):
            raise _CallError(INVALID_PARAMS, "__setattr__ takes a name and a value",
                             {"type": "TypeError"})
        path = args[0]
        owner, name = self._resolve(path)
        try:
            static = inspect.getattr_static(owner, name)
        except AttributeError:
            raise _CallError(METHOD_NOT_FOUND,
                             f"ROC object {self.object_id!r} has no attribute {path!r}",
                             {"type": "AttributeError", "name": path}) from None
        if not isinstance(static, property):
            current = getattr(owner, name)
            if callable(current) and not isinstance(current, type):
                raise _CallError(METHOD_NOT_FOUND, f"{path!r} is a method and cannot be set",
                                 {"type": "AttributeError", "name": path})
        setattr(owner, name, args[1])
        return None

    def _call(self, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        fn = self._lookup(method)
        if not callable(fn):
            raise _CallError(METHOD_NOT_FOUND, f"{method!r} is not callable",
                             {"type": "AttributeError", "name": method})
        sig = self._signature(fn)
        if sig is not None:
            try:
                sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise _CallError(INVALID_PARAMS, f"{method}{sig}: {exc}",
                                 {"type": "TypeError", "signature": str(sig)}) from None
        return fn(*args, **kwargs)

    def handle(self, body: bytes) -> bytes:
        """Execute one JSON-RPC request body and return the JSON-RPC response body."""
        rid: Any = None
        try:
            try:
                msg = loads(body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise _CallError(PARSE_ERROR, f"parse error: {exc}", {"type": "ValueError"}
                                 ) from None
            if not isinstance(msg, dict):
                raise _CallError(INVALID_REQUEST, "request must be a JSON object",
                                 {"type": "ValueError"})
            rid = msg.get("id")
            if not (rid is None or isinstance(rid, (str, int, float))) or isinstance(rid, bool):
                rid = None
                raise _CallError(INVALID_REQUEST, "invalid id", {"type": "ValueError"})
            method = msg.get("method")
            if msg.get("jsonrpc") != "2.0" or not isinstance(method, str):
                raise _CallError(INVALID_REQUEST, "not a JSON-RPC 2.0 request",
                                 {"type": "ValueError"})
            try:
                args, kwargs = split_params(msg.get("params"))
            except ValueError as exc:
                raise _CallError(INVALID_PARAMS, str(exc), {"type": "TypeError"}) from None
            if method == "__getattr__":
                result = self._getattr(args, kwargs)
            elif method == "__setattr__":
                self._setattr(args, kwargs)
                result = None
            elif method == "__dir__":
                result = self.describe()
            else:
                result = self._call(method, args, kwargs)
        except _CallError as exc:
            return dumps(error_response(rid, exc.code, exc.message, exc.data))
        except Exception as exc:
            etype = type(exc)
            data = {
                "type": etype.__name__,
                "module": etype.__module__,
                "args": _json_safe_args(exc.args),
                "traceback": traceback.format_exc(),
                "objectId": self.object_id,
                "host": _HOST,
                "pid": os.getpid(),
            }
            return dumps(error_response(rid, REMOTE_EXCEPTION, f"{etype.__name__}: {exc}", data))
        try:
            return dumps({"jsonrpc": "2.0", "id": rid, "result": result})
        except (TypeError, ValueError) as exc:
            return dumps(error_response(
                rid, INTERNAL_ERROR, f"result not JSON-serialisable: {exc}",
                {"type": type(result).__name__}))


def _router_endpoint(broker: Endpoints | str) -> str:
    return broker.rocBroker if isinstance(broker, Endpoints) else broker


class RocServer:
    """Remote Object Call server: a 7/MDP worker sharing ``objectInstance`` as ``objectId``.

    Calls run in the socket thread for speed; a watchdog thread keeps heartbeating to the broker
    while a call runs (the socket is handed over under a lock), so long calls never get the worker
    expired. The server reconnects (new socket, READY) on DISCONNECT or when the broker goes
    silent for ``heartbeat_interval * heartbeat_liveness``.
    """

    def __init__(
        self,
        brokerEndpoint: Endpoints | str,
        objectId: str,
        objectInstance: Any,
        ctx: zmq.Context | None = None,
        *,
        heartbeat_interval: float = 2.5,
        heartbeat_liveness: int = 3,
        reconnect_delay: float | None = None,
    ) -> None:
        if not objectId or objectId.startswith("mmi."):
            raise ValueError(f"invalid ROC object id {objectId!r}")
        self.endpoint = _router_endpoint(brokerEndpoint)
        self.objectId = objectId
        self.dispatcher = ObjectDispatcher(objectInstance, objectId)
        self.ctx = ctx or zmq.Context.instance()
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_liveness = heartbeat_liveness
        self.reconnect_delay = (min(heartbeat_interval, 1.0) if reconnect_delay is None
                                else reconnect_delay)
        self._service = objectId.encode()
        self._lock = threading.Lock()
        self._sock: zmq.Socket | None = None
        self._last_sent = 0.0
        self._busy = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._abandoned = False
        self._heard = False
        self.connects = 0  # how many times READY was sent (1 + reconnects)
        self.calls = 0

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
        """Stop serving: DISCONNECT from the broker and close the socket."""
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
                    # Until the broker has spoken on this socket, READY is still queued (or
                    # in the broker's hands): keep the socket, send nothing more.
                    if not self._heard:
                        continue
                    if now - last_recv > span:
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
                    self._busy = True
                    try:
                        reply = self.dispatcher.handle(frames[5])
                    finally:
                        self._busy = False
                    self.calls += 1
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
    ctx: zmq.Context | None = None,
    install_signal_handlers: bool = True,
    **server_kwargs: Any,
) -> None:
    """Serve ``obj`` as ``objectId`` until Ctrl-C/SIGTERM, with distributed logging turned on."""
    from .logs import initRocLogging

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
