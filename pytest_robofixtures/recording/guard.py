"""A hermetic replay: any socket connection to a non-loopback address fails at once.

Python-level only: pyzmq's libzmq sockets and other C extensions are not seen, which is why ROC
and SSH replay through transports that open no socket at all.
"""

from __future__ import annotations

import contextlib
import fnmatch
import ipaddress
import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .errors import NetworkBlocked

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_lock = threading.Lock()
_depth = 0
_allowed: list[AllowedHosts] = []
_saved: dict[str, Any] = {}


@dataclass(frozen=True)
class HostRule:
    """One allowed-host rule: ``host``, ``host:port``, ``[v6]:port``, a glob, a CIDR, ``re:...``."""

    text: str

    def __post_init__(self) -> None:
        rule = self.text.strip()
        if not rule:
            raise ValueError("empty allowed-host rule")
        if rule.startswith("re:"):
            try:
                re.compile(rule[3:])
            except re.error as exc:
                raise ValueError(f"allowed host {rule!r}: {exc}") from None

    def _split(self) -> tuple[str, int | None]:
        rule = self.text.strip().lower()
        if rule.startswith("["):  # [v6] or [v6]:port
            host, _, rest = rule[1:].partition("]")
            return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
        if rule.count(":") == 1:
            host, _, port = rule.partition(":")
            if port.isdigit():
                return host, int(port)
            if port == "*":
                return host, None
        return rule, None

    def allows(self, host: str, port: int | None) -> bool:
        """True when this rule lets ``host`` (and ``port``, when known) through."""
        host = host.strip("[]").lower()
        if self.text.startswith("re:"):
            target = host if port is None else f"{host}:{port}"
            pattern = re.compile(self.text[3:], re.IGNORECASE)
            return bool(pattern.fullmatch(host) or pattern.fullmatch(target))
        rule_host, rule_port = self._split()
        if rule_port is not None and port is not None and rule_port != port:
            return False
        if "/" in rule_host:
            try:
                return ipaddress.ip_address(host.split("%")[0]) in ipaddress.ip_network(
                    rule_host, strict=False)
            except ValueError:
                return False
        if any(c in rule_host for c in "*?["):
            return fnmatch.fnmatchcase(host, rule_host)
        return host == rule_host


@dataclass(frozen=True)
class AllowedHosts:
    """A set of :class:`HostRule` (see :func:`compile_allowed_hosts`)."""

    rules: tuple[HostRule, ...] = ()

    def allows(self, host: object, port: object = None) -> bool:
        """True when any rule lets ``host``/``port`` through."""
        name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
        port_n = int(port) if isinstance(port, int) or (isinstance(port, str) and port.isdigit()) \
            else None
        return any(r.allows(name, port_n) for r in self.rules)


def compile_allowed_hosts(hosts: Iterable[str] | str | None) -> AllowedHosts:
    r"""Rules from a list, or one comma/space-separated string (``--robo-allow-hosts``).

    ``api.example.com`` (any port), ``api.example.com:443``, ``*.example.com``,
    ``10.0.0.0/8``, ``[2001:db8::1]:443``, ``re:^robot-[0-9]+\.lan$``. ValueError on a bad rule.
    """
    if hosts is None:
        return AllowedHosts()
    items = re.split(r"[,\s]+", hosts) if isinstance(hosts, str) else list(hosts)
    return AllowedHosts(tuple(HostRule(h.strip()) for h in items if h and h.strip()))


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


def _permitted(host: object, port: object = None) -> bool:
    if is_loopback(host):
        return True
    return any(hosts.allows(host, port) for hosts in _allowed)


def _check_address(address: object) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return
    if isinstance(address, tuple) and address:
        host = address[0]
        port = address[1] if len(address) > 1 else None
        if not _permitted(host, port):
            raise NetworkBlocked(f"{host}:{'?' if port is None else port}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family != getattr(socket, "AF_UNIX", None):
        _check_address(address)
    _saved["connect"](self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if self.family != getattr(socket, "AF_UNIX", None):
        _check_address(address)
    return int(_saved["connect_ex"](self, address))


def _guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
    _check_address(address)
    original: Callable[..., socket.socket] = _saved["create_connection"]
    return original(address, *args, **kwargs)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    port = args[0] if args else kwargs.get("port")
    if host is not None and not _permitted(host, port):
        raise NetworkBlocked(f"{host} (name lookup)")
    return _saved["getaddrinfo"](host, *args, **kwargs)


@contextlib.contextmanager
def network_guard(
    allowed_hosts: Iterable[str] | str | AllowedHosts = (), enabled: bool = True
) -> Iterator[None]:
    """Refuse non-loopback connections and name lookups inside the block (nests, thread-safe).

    ``allowed_hosts``: rules as for :func:`compile_allowed_hosts`, or compiled ones.
    """
    global _depth
    if not enabled:
        yield
        return
    hosts = (allowed_hosts if isinstance(allowed_hosts, AllowedHosts)
             else compile_allowed_hosts(allowed_hosts))
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

