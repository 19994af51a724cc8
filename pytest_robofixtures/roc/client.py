"""ROC client: proxies that behave like the remote object, over a pluggable RocTransport."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import zmq

from ..common.transports import RocTransport
from .endpoints import Endpoints
from .protocol import (
    MDPC,
    MMI_PREFIX,
    RemoteAttributeError,
    RocError,
    RocTimeout,
    dumps,
    error_from_response,
    loads,
    make_params,
)


class ZmqRocTransport:
    """The real RocTransport: a 7/MDP client on a DEALER socket (Lazy Pirate on timeout).

    One request is in flight at a time (a lock serialises threads). On timeout the socket is
    closed and replaced, so a late reply can never be mistaken for a later call's; replies whose
    JSON-RPC id does not match are discarded as stale. ``retries`` re-sends the same request
    (same id) on a fresh socket that many times before raising :class:`RocTimeout`; each attempt
    gets the full timeout. The default (0) never re-sends, since calls need not be idempotent.

    Requests to ``mmi.*`` services send ``params[0]`` as the raw MMI body and return
    ``{"jsonrpc": "2.0", "id": <id>, "result": "<status code>"}``.
    """

    def __init__(self, address: Endpoints | str, ctx: zmq.Context | None = None,
                 retries: int = 0) -> None:
        self.address = address.rocBroker if isinstance(address, Endpoints) else address
        self.ctx = ctx or zmq.Context.instance()
        self.retries = retries
        self._lock = threading.Lock()
        self._sock: zmq.Socket | None = None
        self.timeouts = 0
        self.stale = 0
        self._rcvtimeo = -1

    def _socket(self) -> zmq.Socket:
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

    def request(self, object_id: str, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send ``message`` to ``object_id``; return the reply or raise :class:`RocTimeout`."""
        service = object_id.encode()
        mmi = service.startswith(MMI_PREFIX)
        if mmi:
            params = message.get("params") or [""]
            body = str(params[0]).encode()
        else:
            body = dumps(message)
        rid = message.get("id")
        with self._lock:
            for _attempt in range(self.retries + 1):
                sock = self._socket()
                sock.send_multipart([b"", MDPC, service, body])
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
                    try:
                        reply = loads(frames[3])
                    except (ValueError, UnicodeDecodeError):
                        self.stale += 1
                        continue
                    if not isinstance(reply, dict):
                        self.stale += 1
                        continue
                    if reply.get("id") != rid and not (reply.get("id") is None
                                                       and "error" in reply):
                        self.stale += 1
                        continue
                    return reply
                self.timeouts += 1
                self._reset()
        raise RocTimeout(
            f"ROC call {object_id}.{message.get('method')} got no reply within {timeout:g} s "
            f"(broker {self.address})")

    def close(self) -> None:
        """Close the socket."""
        with self._lock:
            self._reset()


class RemoteMethod:
    """A callable stub for one remote method."""

    def __init__(self, proxy: RocProxy, name: str, doc: str | None = None,
                 signature: str | None = None) -> None:
        self._proxy = proxy
        self.__name__ = name
        self.__doc__ = doc
        self.signature = signature

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._proxy._invoke(self.__name__, make_params(args, kwargs))

    def __repr__(self) -> str:
        return f"<remote method {self._proxy._object_id}.{self.__name__}{self.signature or '()'}>"


class RocProxy:
    """Behaves like the remote object: methods callable, attributes readable and settable."""

    def __init__(self, client: RocClient, object_id: str, timeout: float | None = None) -> None:
        object.__setattr__(self, "_client", client)
        object.__setattr__(self, "_object_id", object_id)
        object.__setattr__(self, "_timeout", timeout)
        object.__setattr__(self, "_meta", None)

    def _invoke(self, method: str, params: Any) -> Any:
        return self._client.call(self._object_id, method, params, timeout=self._timeout)

    def _metadata(self, refresh: bool = False) -> dict[str, Any] | None:
        meta = self._meta
        if meta is None or refresh:
            try:
                got = self._invoke("__dir__", [])
            except RemoteAttributeError:  # foreign server without introspection
                got = {}
            meta = got if isinstance(got, dict) else {}
            object.__setattr__(self, "_meta", meta)
        return meta or None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        meta = self._metadata()
        if meta is None:  # no metadata: Pyro's rule, unknown names are methods
            return RemoteMethod(self, name)
        for refresh in (False, True):
            if refresh:
                meta = self._metadata(refresh=True) or {}
            methods = meta.get("methods") or {}
            if name in methods:
                info = methods[name] if isinstance(methods[name], dict) else {}
                return RemoteMethod(self, name, info.get("doc"), info.get("signature"))
            if name in (meta.get("attributes") or ()):
                return self._invoke("__getattr__", [name])
        raise AttributeError(f"ROC object {self._object_id!r} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        self._invoke("__setattr__", [name, value])

    def __dir__(self) -> list[str]:
        meta = self._metadata() or {}
        return sorted([*(meta.get("methods") or {}), *(meta.get("attributes") or [])])

    def __repr__(self) -> str:
        return f"<RocProxy {self._object_id!r} via {self._client.address}>"


class RocClient:
    """Remote Object Call client; ``client['vnir']`` returns a proxy to the shared object."""

    def __init__(self, broker_addr: Endpoints | str, ctx: zmq.Context | None = None,
                 timeout: float = 2.0, *, transport: RocTransport | None = None,
                 retries: int = 0) -> None:
        self.address = broker_addr.rocBroker if isinstance(broker_addr, Endpoints) else (
            broker_addr)
        self.timeout = timeout
        self.transport: RocTransport = transport or ZmqRocTransport(self.address, ctx, retries)
        self._ids = itertools.count(1)

    def __getitem__(self, objectId: str) -> RocProxy:
        return RocProxy(self, objectId)

    def proxy(self, objectId: str, timeout: float | None = None) -> RocProxy:
        """A proxy to ``objectId`` with its own call timeout."""
        return RocProxy(self, objectId, timeout)

    def call(self, object_id: str, method: str, params: Any = None,
             timeout: float | None = None) -> Any:
        """Send one JSON-RPC request and return its result (raising remote errors locally)."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": next(self._ids)}
        if params is not None:
            message["params"] = params
        reply = self.transport.request(object_id, message,
                                       self.timeout if timeout is None else timeout)
        if "error" in reply:
            raise error_from_response(reply["error"])
        if "result" not in reply:
            raise RocError(f"malformed reply from ROC object {object_id!r}: {reply!r}")
        return reply["result"]

    def exists(self, objectId: str, timeout: float | None = None) -> bool:
        """True if the broker has a worker for ``objectId`` (8/MMI ``mmi.service``)."""
        return self.call("mmi.service", "mmi.service", [objectId], timeout) == "200"

    def wait_for_object(self, objectId: str, timeout: float = 10.0) -> None:
        """Block until ``objectId`` is registered at the broker (bounded; raises RocTimeout)."""
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RocTimeout(f"ROC object {objectId!r} not registered within {timeout:g} s")
            try:
                if self.exists(objectId, timeout=min(remaining, self.timeout)):
                    return
            except RocTimeout:
                continue
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 0.1)

    def close(self) -> None:
        """Close the transport."""
        self.transport.close()

    def __enter__(self) -> RocClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
