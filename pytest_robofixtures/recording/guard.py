"""A hermetic replay: any socket connection to a non-loopback address fails at once.

Python-level only: pyzmq's libzmq sockets and other C extensions are not seen, which is why ROC
and SSH replay through transports that open no socket at all.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from .errors import NetworkBlocked

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_lock = threading.Lock()
_depth = 0
_allowed: list[frozenset[str]] = []
_saved: dict[str, Any] = {}


def is_loopback(host: object) -> bool:
    """True for loopback addresses and names (127.0.0.0/8, ::1, localhost)."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def _permitted(host: object) -> bool:
    if is_loopback(host):
        return True
    name = host.decode() if isinstance(host, bytes) else str(host)
    return any(name.lower() in hosts for hosts in _allowed)


def _check_address(address: object) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return
    if isinstance(address, tuple) and address:
        host = address[0]
        if not _permitted(host):
            port = address[1] if len(address) > 1 else "?"
            raise NetworkBlocked(f"{host}:{port}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family != getattr(socket, "AF_UNIX", None):
        _check_address(address)
    return _saved["connect"](self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if self.family != getattr(socket, "AF_UNIX", None):
        _check_address(address)
    return int(_saved["connect_ex"](self, address))


def _guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
    _check_address(address)
    return _saved["create_connection"](address, *args, **kwargs)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _permitted(host):
        raise NetworkBlocked(f"{host} (name lookup)")
    return _saved["getaddrinfo"](host, *args, **kwargs)


@contextlib.contextmanager
def network_guard(allowed_hosts: Iterable[str] = (), enabled: bool = True) -> Iterator[None]:
    """Refuse non-loopback connections and name lookups inside the block (nests, thread-safe)."""
    global _depth
    if not enabled:
        yield
        return
    hosts = frozenset(h.lower() for h in allowed_hosts)
    with _lock:
        if _depth == 0:
            _saved.update(
                connect=socket.socket.connect,
                connect_ex=socket.socket.connect_ex,
                create_connection=socket.create_connection,
                getaddrinfo=socket.getaddrinfo,
            )
            socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
            socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
            socket.create_connection = _guarded_create_connection
            socket.getaddrinfo = _guarded_getaddrinfo
        _depth += 1
        _allowed.append(hosts)
    try:
        yield
    finally:
        with _lock:
            _allowed.remove(hosts)
            _depth -= 1
            if _depth == 0:
                socket.socket.connect = _saved["connect"]  # type: ignore[method-assign]
                socket.socket.connect_ex = _saved["connect_ex"]  # type: ignore[method-assign]
                socket.create_connection = _saved["create_connection"]
                socket.getaddrinfo = _saved["getaddrinfo"]
                _saved.clear()


def guard_active() -> bool:
    """True while a :func:`network_guard` is in force."""
    return _depth > 0
