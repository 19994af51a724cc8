"""ROC endpoints: one address, three ports (router, log/status in, log/status out)."""

from __future__ import annotations

import os
import random
import socket
import tempfile


class Endpoints:
    """Manages a collection of ROC endpoints derived from one address and base port.

    ``rocBroker`` is ``base`` (the MDP ROUTER for clients and workers), ``generalXSUB`` is
    ``base + 1`` (publishers of logs and status connect here) and ``generalXPUB`` is ``base + 2``
    (subscribers connect here). With ``transport='ipc'`` the three endpoints are socket files
    ``roc-<base>-{router,xsub,xpub}`` in the temp directory (or in ``brokerAddress`` if it is a
    directory).
    """

    def __init__(
        self, brokerAddress: str, brokerBasePort: int = 5555, transport: str = "tcp"
    ) -> None:
        if transport not in ("tcp", "ipc"):
            raise ValueError(f"unsupported ROC transport {transport!r} (use 'tcp' or 'ipc')")
        if transport == "tcp" and not 0 < int(brokerBasePort) <= 65533:
            raise ValueError(f"brokerBasePort must be in 1..65533, got {brokerBasePort}")
        self.brokerAddress = brokerAddress
        self.brokerBasePort = int(brokerBasePort)
        self.transport = transport

    def _endpoint(self, offset: int, name: str) -> str:
        if self.transport == "ipc":
            path = os.path.join(self.ipc_directory(), f"roc-{self.brokerBasePort}-{name}")
            return f"ipc://{path}"
        host = self.brokerAddress
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"tcp://{host}:{self.brokerBasePort + offset}"

    @property
    def rocBroker(self) -> str:
        """The MDP router for plain ROC commands (``base``)."""
        return self._endpoint(0, "router")

    @property
    def generalXSUB(self) -> str:
        """Where publishers drop log and information data (``base + 1``)."""
        return self._endpoint(1, "xsub")

    @property
    def generalXPUB(self) -> str:
        """Where subscribers receive log and information data (``base + 2``)."""
        return self._endpoint(2, "xpub")

    @classmethod
    def free(cls, host: str = "127.0.0.1", transport: str = "tcp") -> Endpoints:
        """Endpoints on ``host`` whose three ports (or ipc socket files) are free right now."""
        if transport == "ipc":
            return cls(host, find_free_ipc_base(host), "ipc")
        return cls(host, find_free_base_port(host))

    def ipc_directory(self) -> str:
        """The directory of the ipc socket files (``brokerAddress`` if a directory, else temp)."""
        return (self.brokerAddress if os.path.isdir(self.brokerAddress)
                else tempfile.gettempdir())

    def as_dict(self) -> dict[str, str]:
        """The three endpoints by role."""
        return {"rocBroker": self.rocBroker, "generalXSUB": self.generalXSUB,
                "generalXPUB": self.generalXPUB}

    def __repr__(self) -> str:
        return (f"Endpoints({self.brokerAddress!r}, brokerBasePort={self.brokerBasePort}, "
                f"transport={self.transport!r})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Endpoints) and (
            (self.brokerAddress, self.brokerBasePort, self.transport)
            == (other.brokerAddress, other.brokerBasePort, other.transport)
        )

    def __hash__(self) -> int:
        return hash((self.brokerAddress, self.brokerBasePort, self.transport))


def find_free_base_port(host: str = "127.0.0.1", count: int = 3, attempts: int = 200) -> int:
    """A base port such that ``base .. base+count-1`` can all be bound on ``host`` now.

    The ports are released before returning, so a caller should still retry on EADDRINUSE
    (see :func:`pytest_robofixtures.roc.broker.start_broker`).
    """
    rng = random.Random()
    for _ in range(attempts):
        # Below Linux's default ephemeral range (32768-60999), where the kernel hands out the
        # ports of outgoing connections and of ``bind("tcp://...:*")``: fewer collisions.
        base = rng.randrange(20000, 32768 - count)
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
                socks.append(s)
                s.bind((host, port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise OSError(f"no free block of {count} ports found on {host}")


def find_free_ipc_base(directory: str = "", attempts: int = 200) -> int:
    """A base number whose three ipc socket files do not exist in ``directory`` (or temp).

    No TCP port is probed: an ipc broker's "port" only names its socket files.
    """
    where = directory if directory and os.path.isdir(directory) else tempfile.gettempdir()
    rng = random.Random()
    for _ in range(attempts):
        base = rng.randrange(20000, 60000)
        if not any(os.path.exists(os.path.join(where, f"roc-{base}-{n}"))
                   for n in ("router", "xsub", "xpub")):
            return base
    raise OSError(f"no free ipc base name found in {where}")
