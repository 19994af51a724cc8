"""Sending ROC status updates (the publisher side of the status tree)."""

from __future__ import annotations

from typing import Any

import zmq

from ..endpoints import Endpoints
from ..protocol import STATUS_PREFIX, dumps
from ..topics import status_topic
from .publisher import Publisher


class RocStatusUpdater:
    """Allows to send ROC status update messages."""

    def __init__(self, destination: Endpoints | str | None = None,
                 ctx: zmq.SyncContext | None = None) -> None:
        self._pub = Publisher(destination, ctx)

    def emit(self, sensorId: str, data: Any) -> None:
        """Send a status update: ``emit('system.foo', {'cpu': 0.3})`` updates ``system.foo``."""
        self._pub.send(status_topic(sensorId), dumps(data))

    def wait_for_subscriber(self, sensorId: str = "", timeout: float = 5.0) -> bool:
        """Bounded slow-joiner handshake: wait until someone subscribed to ``sensorId``."""
        topic = status_topic(sensorId) if sensorId else STATUS_PREFIX.encode()
        return self._pub.wait_for_subscriber(topic, timeout)

    def close(self) -> None:
        """Close the publisher socket."""
        self._pub.close()

    def __enter__(self) -> RocStatusUpdater:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
