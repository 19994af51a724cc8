"""The publisher socket of ROC logs and status updates (into the broker's XSUB).

Publishers use an XPUB socket *connected* to the broker's XSUB: it behaves like a PUB for
sending, and also receives the subscriptions the broker forwards upstream. That gives a real,
bounded slow-joiner handshake: :meth:`Publisher.wait_for_subscriber` returns once a subscription
that matches a topic has reached this publisher, so a message sent afterwards is not dropped for
lack of a subscriber.
"""

from __future__ import annotations

import threading
import time

import zmq

from ..endpoints import Endpoints

DEFAULT_HWM = 100_000


class Publisher:
    """A thread-safe publisher of ``[topic, json]`` messages into the broker's XSUB."""

    def __init__(self, destination: Endpoints | str | None, ctx: zmq.SyncContext | None = None,
                 hwm: int = DEFAULT_HWM) -> None:
        if destination is None:
            destination = Endpoints("127.0.0.1")
        self.address = (destination.generalXSUB if isinstance(destination, Endpoints)
                        else destination)
        self.ctx = ctx or zmq.Context.instance()
        self._lock = threading.RLock()
        sock = self.ctx.socket(zmq.XPUB)
        sock.linger = 200
        sock.sndhwm = hwm
        sock.connect(self.address)
        self._sock: zmq.SyncSocket | None = sock
        self._subscriptions: dict[bytes, int] = {}

    def send(self, topic: bytes, payload: bytes) -> None:
        """Publish one message (dropped silently if nobody subscribed; see HWM notes)."""
        with self._lock:
            sock = self._sock
            if sock is None:
                raise RuntimeError("publisher is closed")
            # Two single-frame sends are cheaper than building a multipart list.
            sock.send(topic, zmq.SNDMORE)
            sock.send(payload)

    def _drain(self, timeout_ms: int) -> None:
        sock = self._sock
        if sock is None:
            return
        if not sock.poll(timeout_ms):
            return
        while True:
            try:
                msg = sock.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            if not msg:
                continue
            prefix = msg[1:]
            if msg[0] == 1:
                self._subscriptions[prefix] = self._subscriptions.get(prefix, 0) + 1
            elif msg[0] == 0 and prefix in self._subscriptions:
                self._subscriptions[prefix] -= 1
                if self._subscriptions[prefix] <= 0:
                    del self._subscriptions[prefix]

    def has_subscriber(self, topic: bytes = b"") -> bool:
        """True if a subscription matching ``topic`` has reached this publisher."""
        with self._lock:
            self._drain(0)
            return any(topic.startswith(p) for p in self._subscriptions)

    def wait_for_subscriber(self, topic: bytes = b"", timeout: float = 5.0) -> bool:
        """Wait (bounded) until a subscription matching ``topic`` has arrived; False on timeout.

        This is a socket wait on the server side (real time): a publisher has no replay mode.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self.has_subscriber(topic):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._lock:
                self._drain(max(1, int(min(remaining, 0.05) * 1000)))

    def close(self) -> None:
        """Close the socket (linger 200 ms)."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
