"""ROC client: proxies that behave like the remote object, over a pluggable RocTransport."""

from __future__ import annotations

import itertools
from typing import Any

import zmq

from ...common.clock import Clock, default_clock
from ...common.transports import RocTransport
from ..endpoints import Endpoints
from ..protocol import (
    RemoteAttributeError,
    RocError,
    RocTimeout,
    error_from_response,
    make_params,
)
from .transport import ZmqRocTransport


class RemoteMethod:
    """A callable stub for one remote method."""

    def __init__(self, proxy: RocProxy, name: str, doc: str | None = None,
                 signature: str | None = None) -> None:
        self._proxy = proxy
        self.__name__ = name
        self.__doc__ = doc
        self.signature = signature

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        proxy = self._proxy  # RocProxy._invoke and make_params, inlined (the hot path)
        return proxy._client.call(proxy._object_id, self.__name__,
                                  make_params(args, kwargs) if kwargs else list(args),
                                  proxy._timeout)

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

    def __init__(self, broker_addr: Endpoints | str, ctx: zmq.SyncContext | None = None,
                 timeout: float = 2.0, *, transport: RocTransport | None = None,
                 retries: int = 0, direct: bool = True, clock: Clock | None = None) -> None:
        self.address = broker_addr.rocBroker if isinstance(broker_addr, Endpoints) else (
            broker_addr)
        self.timeout = timeout
        self.transport: RocTransport = transport or ZmqRocTransport(
            self.address, ctx, retries, direct=direct, clock=clock)
        self._clock = clock
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
        code: object = self.call("mmi.service", "mmi.service", [objectId], timeout)
        return code == "200"

    def wait_for_object(self, objectId: str, timeout: float = 10.0) -> None:
        """Block until ``objectId`` is registered at the broker (bounded; raises RocTimeout).

        The back-off sleeps and the deadline are on the shared clock.
        """
        clock = self._clock or default_clock()
        deadline = clock.monotonic() + timeout
        delay = 0.005
        while True:
            remaining = deadline - clock.monotonic()
            if remaining <= 0:
                raise RocTimeout(f"ROC object {objectId!r} not registered within {timeout:g} s")
            try:
                if self.exists(objectId, timeout=min(remaining, self.timeout)):
                    return
            except RocTimeout:
                pass  # the broker did not answer in time: back off like any miss
            clock.sleep(min(delay, max(0.0, deadline - clock.monotonic())))
            delay = min(delay * 2, 0.1)

    def close(self) -> None:
        """Close the transport."""
        self.transport.close()

    def __enter__(self) -> RocClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
