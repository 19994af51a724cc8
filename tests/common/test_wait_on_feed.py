"""``wait_on_feed`` against a real ZeroMQ PUB/SUB pair on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import zmq

from pytest_robofixtures.common.clock import SystemClock, VirtualClock, wait_on_feed


class Feed:
    """A SUB socket with the ``receive(timeout)`` of a ROC feed."""

    def __init__(self, ctx: zmq.Context[Any], address: str) -> None:
        self.sock = ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.SUBSCRIBE, b"")
        self.sock.connect(address)

    def receive(self, timeout: float) -> tuple[str, Any] | None:
        if not self.sock.poll(int(max(0.0, timeout) * 1000)):
            return None
        topic, body = self.sock.recv_multipart()
        return topic.decode(), json.loads(body)


@pytest.fixture
def pubsub() -> Iterator[tuple[zmq.Socket[Any], Feed]]:
    ctx: zmq.Context[Any] = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    feed = Feed(ctx, f"tcp://127.0.0.1:{port}")
    try:
        yield pub, feed
    finally:
        feed.sock.close(0)
        pub.close(0)
        ctx.term()


def test_items_are_taken_until_the_condition_holds(pubsub: tuple[zmq.Socket[Any], Feed]) -> None:
    pub, feed = pubsub
    stop = threading.Event()

    def publish() -> None:
        n = 0
        while not stop.is_set():  # PUB/SUB joins late: keep publishing until the reader is done
            n += 1
            pub.send_multipart([b"motor.speed", json.dumps(n).encode()])
            time.sleep(0.01)

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    seen: list[int] = []
    try:
        ok = wait_on_feed(feed.receive, lambda item: seen.append(item[1]),
                          lambda: len(seen) >= 5, timeout=30, clock=SystemClock())
    finally:
        stop.set()
        thread.join(5)
    assert ok and len(seen) == 5
    assert seen == sorted(seen), "items are taken in the order they arrived"


def test_a_quiet_feed_times_out(pubsub: tuple[zmq.Socket[Any], Feed]) -> None:
    _, feed = pubsub
    taken: list[object] = []
    start = time.monotonic()
    assert not wait_on_feed(feed.receive, taken.append, lambda: False, timeout=0.2,
                            clock=SystemClock())
    assert taken == [] and time.monotonic() - start >= 0.19


def test_done_before_any_item_returns_at_once() -> None:
    def never(timeout: float) -> None:
        raise AssertionError("nothing should be read")

    assert wait_on_feed(never, lambda item: None, lambda: True, timeout=5, clock=VirtualClock())


def test_a_replayed_feed_that_ran_dry_ends_the_wait_without_waiting() -> None:
    items = [("a", 1), ("b", 2)]
    taken: list[tuple[str, int]] = []
    start = time.monotonic()
    ok = wait_on_feed(lambda timeout: items.pop(0) if items else None, taken.append,
                      lambda: len(taken) >= 3, timeout=600, clock=VirtualClock())
    assert not ok and taken == [("a", 1), ("b", 2)]
    assert time.monotonic() - start < 5.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
def test_nonsense_timeouts_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        wait_on_feed(lambda t: None, lambda item: None, lambda: False, timeout=bad)
