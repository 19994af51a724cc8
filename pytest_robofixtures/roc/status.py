r"""ROC status updates: a hierarchical status tree updated by partial trees from any actor.

Wire format: ``[b"status.<dotted.key>\x00", json(value)]`` through the broker's XSUB/XPUB. The
``\x00`` terminator lets a prefix subscription match *whole components*: a mask ``system.foo``
subscribes to ``status.system.foo.`` (descendants) and ``status.system.foo\x00`` (the key
itself), so ``system.foobar`` never matches, and filtering still happens at the publisher.

Ancestor updates **are** yielded: with mask ``system.foo``, ``emit('system', {'foo': {...},
'bar': 1})`` is delivered pruned to ``{'system': {'foo': {...}}}`` (and not at all when it does
not contain ``foo``). For that, the subscriber also subscribes to each ancestor's exact key.

``timeout`` of :func:`statusUpdateIterator` means *inactivity*: an empty status ``{}`` is yielded
whenever no matching update arrived for ``timeout`` seconds since the last yield.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import zmq

from ..common.transports import RocFeed
from .endpoints import Endpoints
from .protocol import STATUS_PREFIX, TOPIC_END, RocTimeout, dumps
from .pubsub import Publisher, SubscriberFeed

_KEY = re.compile(r"^[^.\x00]+(\.[^.\x00]+)*$")
_MISSING: Any = object()
_ABSENT: Any = object()


def _check_key(key: str) -> str:
    if key and not _KEY.match(key):
        raise ValueError(f"invalid status key {key!r}: dot-separated non-empty components")
    return key


def status_topic(sensorId: str) -> bytes:
    """The wire topic of a status update for ``sensorId``."""
    return (STATUS_PREFIX + _check_key(sensorId) + TOPIC_END).encode()


def _masks(mask: str | list[str] | tuple[str, ...]) -> list[str]:
    items = [mask] if isinstance(mask, str) else list(mask)
    masks = [_check_key(m.strip(".")) for m in items] or [""]
    return [""] if "" in masks else masks


def subscriptions_for(mask: str | list[str] | tuple[str, ...]) -> list[bytes]:
    """The SUB prefixes that deliver exactly the updates relevant to ``mask``."""
    subs: set[bytes] = set()
    for m in _masks(mask):
        if not m:
            subs.add(STATUS_PREFIX.encode())
            continue
        subs.add((STATUS_PREFIX + m + ".").encode())
        subs.add((STATUS_PREFIX + m + TOPIC_END).encode())
        parts = m.split(".")
        for i in range(len(parts)):
            subs.add((STATUS_PREFIX + ".".join(parts[:i]) + TOPIC_END).encode())
    return sorted(subs)


def nest(key: str, value: Any) -> Any:
    """Turn ``('system.foo', v)`` into ``{'system': {'foo': v}}``."""
    if not key:
        return value
    for part in reversed(key.split(".")):
        value = {part: value}
    return value


def deep_merge(target: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Merge the partial tree ``update`` into ``target`` in place (dicts merge, others replace)."""
    for k, v in update.items():
        cur = target.get(k)
        if isinstance(v, dict) and isinstance(cur, dict):
            deep_merge(cur, v)
        elif isinstance(v, dict):
            target[k] = deep_merge({}, v)
        else:
            target[k] = v
    return target


def filter_update(key: str, value: Any, mask: str | list[str] | tuple[str, ...]) -> Any:
    """The partial tree of an update at ``key`` that lies under ``mask``, or None."""
    result: Any = None
    for m in _masks(mask):
        if not m or key == m or key.startswith(m + "."):
            part = nest(key, value)
        elif key == "" or m.startswith(key + "."):
            sub = value
            rest = m[len(key) + 1:] if key else m
            for comp in rest.split("."):
                if not isinstance(sub, dict) or comp not in sub:
                    sub = _MISSING
                    break
                sub = sub[comp]
            if sub is _MISSING:
                continue
            part = nest(m, sub)
        else:
            continue
        if result is None:
            result = part
        elif isinstance(result, dict) and isinstance(part, dict):
            deep_merge(result, part)
    return result


def parse_status_topic(topic: str) -> str | None:
    """The dotted key of a status topic (``'status.system.foo'`` -> ``'system.foo'``)."""
    if not topic.startswith(STATUS_PREFIX):
        return None
    return topic[len(STATUS_PREFIX):].rstrip(TOPIC_END)


class RocStatusUpdater:
    """Allows to send ROC status update messages."""

    def __init__(self, destination: Endpoints | str | None = None,
                 ctx: zmq.Context | None = None) -> None:
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


def status_feed(source: Endpoints | str | None, mask: str | list[str] = "",
                ctx: zmq.Context | None = None) -> SubscriberFeed:
    """A real feed subscribed to the status updates relevant to ``mask``."""
    return SubscriberFeed(source, subscriptions_for(mask), ctx)


def statusUpdateIterator(
    source: Endpoints | str | None,
    mask: str | list[str] = "",
    ctx: zmq.Context | None = None,
    timeout: float | None = None,
    *,
    feed: RocFeed | None = None,
) -> Iterator[dict[str, Any]]:
    """Iterator over received status updates as partial trees; ``{}`` after ``timeout`` idle."""
    own = feed is None
    the_feed: RocFeed = feed if feed is not None else status_feed(source, mask, ctx)
    try:
        last = time.monotonic()
        while True:
            if timeout is None:
                item = the_feed.receive(None)
            else:
                item = the_feed.receive(max(0.0, last + timeout - time.monotonic()))
            if item is None:
                last = time.monotonic()
                yield {}
                continue
            key = parse_status_topic(item[0])
            if key is None:
                continue
            tree = filter_update(key, item[1], mask)
            if tree is None:
                continue
            last = time.monotonic()
            yield tree if isinstance(tree, dict) else {"": tree}
    finally:
        if own:
            the_feed.close()


class StatusTree:
    """The current status tree, merged from partial updates (optionally read from a feed)."""

    def __init__(self, feed: RocFeed | None = None, mask: str | list[str] = "", *,
                 source: Endpoints | str | None = None, ctx: zmq.Context | None = None) -> None:
        self.mask = mask
        self.tree: dict[str, Any] = {}
        self._own = feed is None and source is not None
        self.feed: RocFeed | None = feed if feed is not None else (
            status_feed(source, mask, ctx) if source is not None else None)
        self.updates = 0

    def update(self, partial: dict[str, Any]) -> None:
        """Merge a partial tree into the current status."""
        deep_merge(self.tree, partial)
        self.updates += 1

    def apply(self, topic: str, payload: Any) -> bool:
        """Merge one ``(topic, payload)`` feed item; False if it is not a matching status."""
        key = parse_status_topic(topic)
        if key is None:
            return False
        part = filter_update(key, payload, self.mask)
        if not isinstance(part, dict):
            return False
        self.update(part)
        return True

    def get(self, path: str, default: Any = _MISSING) -> Any:
        """The value at dotted ``path`` (KeyError, or ``default``, when absent)."""
        node: Any = self.tree
        for comp in path.split(".") if path else []:
            if not isinstance(node, dict) or comp not in node:
                if default is _MISSING:
                    raise KeyError(path)
                return default
            node = node[comp]
        return node

    def poll(self, timeout: float | None = 0.0) -> bool:
        """Read one item from the feed (waiting up to ``timeout``); True if the tree changed."""
        if self.feed is None:
            raise RuntimeError("StatusTree has no feed")
        item = self.feed.receive(timeout)
        return item is not None and self.apply(*item)

    def wait_for(self, path: str, predicate: Callable[[Any], bool] | None = None,
                 timeout: float = 10.0) -> Any:
        """Read the feed until the value at ``path`` exists and satisfies ``predicate``.

        Returns the value; raises :class:`RocTimeout` (with the last value seen) otherwise.
        """
        if self.feed is None:
            raise RuntimeError("StatusTree has no feed")

        def ok() -> bool:
            value = self.get(path, _ABSENT)
            return value is not _ABSENT and (predicate is None or bool(predicate(value)))

        if ok():
            return self.get(path)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            item = self.feed.receive(max(0.0, remaining)) if remaining > 0 else None
            if item is None:
                last = self.get(path, "<never seen>")
                raise RocTimeout(f"status {path!r} did not satisfy the condition within "
                                 f"{timeout:g} s (last value: {last!r})")
            if self.apply(*item) and ok():
                return self.get(path)

    def close(self) -> None:
        """Close the feed if this tree opened it."""
        if self._own and self.feed is not None:
            self.feed.close()

    def __enter__(self) -> StatusTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_for_status(source: Endpoints | str | None, path: str,
                    predicate: Callable[[Any], bool] | None = None, timeout: float = 10.0, *,
                    ctx: zmq.Context | None = None, feed: RocFeed | None = None) -> Any:
    """Subscribe to ``path`` and wait until its value satisfies ``predicate``; return it."""
    with StatusTree(feed, path, source=source if feed is None else None, ctx=ctx) as tree:
        return tree.wait_for(path, predicate, timeout)
