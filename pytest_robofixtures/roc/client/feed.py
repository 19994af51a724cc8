"""The subscriber side of ROC logs and status updates: a SUB socket on the broker's XPUB."""

from __future__ import annotations

import time
from typing import Any

import zmq

from ..endpoints import Endpoints
from ..topics import decode_message

DEFAULT_HWM = 100_000


class SubscriberFeed:
    """The real RocFeed: a SUB socket on the broker's XPUB yielding ``(topic, payload)``.

    ``topic`` is the first frame decoded, without the status terminator (``"status.system.foo"``,
    ``"log.INFO.vnir"``); ``payload`` is the decoded JSON. Malformed messages are skipped.
    The wait is a socket wait (``poll``): a live feed waits in real time; replay swaps the whole
    feed, so no shared-clock wait is needed here.
    """

    def __init__(self, source: Endpoints | str | None, subscriptions: list[bytes] | None = None,
                 ctx: zmq.SyncContext | None = None, hwm: int = DEFAULT_HWM) -> None:
        if source is None:
            source = Endpoints("127.0.0.1")
        self.address = source.generalXPUB if isinstance(source, Endpoints) else source
        self.ctx = ctx or zmq.Context.instance()
        sock = self.ctx.socket(zmq.SUB)
        sock.linger = 0
        sock.rcvhwm = hwm
        for sub in subscriptions if subscriptions is not None else [b""]:
            sock.setsockopt(zmq.SUBSCRIBE, sub)
        sock.connect(self.address)
        self._sock: zmq.SyncSocket | None = sock
        self.malformed = 0

    def subscribe(self, prefix: bytes) -> None:
        """Add a subscription prefix."""
        if self._sock is not None:
            self._sock.setsockopt(zmq.SUBSCRIBE, prefix)

    def receive(self, timeout: float | None) -> tuple[str, Any] | None:
        """Next ``(topic, payload)``, or None when nothing arrived within ``timeout`` seconds."""
        sock = self._sock
        if sock is None:
            raise RuntimeError("feed is closed")
        deadline: float | None = None
        while True:
            try:
                # Fast path: a message is already queued (the common case under load).
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                if timeout is None:
                    sock.poll()
                else:
                    if deadline is None:
                        deadline = time.monotonic() + timeout
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not sock.poll(max(0, int(remaining * 1000))):
                        return None
                continue
            item = decode_message(frames)
            if item is None:
                self.malformed += 1
                continue
            return item

    def close(self) -> None:
        """Close the socket."""
        if self._sock is not None:
            self._sock.close(0)
            self._sock = None

    def __enter__(self) -> SubscriberFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
