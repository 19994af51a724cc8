r"""ROC status updates, receiving side: a status tree merged from partial trees of any actor.

Topics and subscriptions: :mod:`pytest_robofixtures.roc.topics`; the sender
(``RocStatusUpdater``) is in :mod:`pytest_robofixtures.roc.server.status`.

Ancestor updates **are** yielded: with mask ``system.foo``, ``emit('system', {'foo': {...},
'bar': 1})`` is delivered pruned to ``{'system': {'foo': {...}}}`` (and not at all when it does
not contain ``foo``).

``timeout`` of :func:`statusUpdateIterator` means *inactivity*: an empty status ``{}`` is yielded
whenever no matching update arrived for ``timeout`` seconds since the last yield. Deadlines are
kept on the shared clock (:func:`pytest_robofixtures.common.clock.default_clock`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import zmq

from ...common.clock import Clock, default_clock
from ...common.transports import RocFeed
from ..endpoints import Endpoints
from ..protocol import STATUS_PREFIX, TOPIC_END, RocTimeout
from ..topics import masks as _masks
from ..topics import subscriptions_for
from .feed import SubscriberFeed

_MISSING: Any = object()
_ABSENT: Any = object()
_PREFIX_LEN = len(STATUS_PREFIX)

__all__ = ["StatusTree", "deep_merge", "filter_update", "nest", "parse_status_topic",
           "status_feed", "statusUpdateIterator", "subscriptions_for", "wait_for_status"]


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


_parts_cache: dict[str, tuple[str, ...] | None] = {}


def _parts_of(topic: str) -> tuple[str, ...] | None:
    """The key components of a status topic (cached: topics repeat), or None."""
    try:
        return _parts_cache[topic]
    except KeyError:
        pass
    key = parse_status_topic(topic)
    parts = None if key is None else (tuple(key.split(".")) if key else ())
    if len(_parts_cache) < 4096:
        _parts_cache[topic] = parts
    return parts


def _merge_at(tree: dict[str, Any], parts: tuple[str, ...], value: Any) -> None:
    """``deep_merge(tree, nest(key, value))`` without building the nested dict."""
    node = tree
    for p in parts[:-1]:
        nxt = node.get(p)
        if not isinstance(nxt, dict):
            nxt = node[p] = {}
        node = nxt
    last = parts[-1]
    if isinstance(value, dict):
        cur = node.get(last)
        if isinstance(cur, dict):
            deep_merge(cur, value)
        else:
            node[last] = deep_merge({}, value)
    else:
        node[last] = value


def parse_status_topic(topic: str) -> str | None:
    """The dotted key of a status topic (``'status.system.foo'`` -> ``'system.foo'``)."""
    if not topic.startswith(STATUS_PREFIX):
        return None
    return topic[len(STATUS_PREFIX):].rstrip(TOPIC_END)


def status_feed(source: Endpoints | str | None, mask: str | list[str] = "",
                ctx: zmq.SyncContext | None = None) -> SubscriberFeed:
    """A real feed subscribed to the status updates relevant to ``mask``."""
    return SubscriberFeed(source, subscriptions_for(mask), ctx)


def statusUpdateIterator(
    source: Endpoints | str | None,
    mask: str | list[str] = "",
    ctx: zmq.SyncContext | None = None,
    timeout: float | None = None,
    *,
    feed: RocFeed | None = None,
    clock: Clock | None = None,
) -> Iterator[dict[str, Any]]:
    """Iterator over received status updates as partial trees; ``{}`` after ``timeout`` idle."""
    own = feed is None
    the_feed: RocFeed = feed if feed is not None else status_feed(source, mask, ctx)
    now = (clock or default_clock()).monotonic
    try:
        last = now()
        while True:
            if timeout is None:
                item = the_feed.receive(None)
            else:
                item = the_feed.receive(max(0.0, last + timeout - now()))
            if item is None:
                last = now()
                yield {}
                continue
            key = parse_status_topic(item[0])
            if key is None:
                continue
            tree = filter_update(key, item[1], mask)
            if tree is None:
                continue
            last = now()
            yield tree if isinstance(tree, dict) else {"": tree}
    finally:
        if own:
            the_feed.close()


class StatusTree:
    """The current status tree, merged from partial updates (optionally read from a feed)."""

    def __init__(self, feed: RocFeed | None = None, mask: str | list[str] = "", *,
                 source: Endpoints | str | None = None, ctx: zmq.SyncContext | None = None,
                 clock: Clock | None = None) -> None:
        self.mask = mask
        self._everything = _masks(mask) == [""]
        self._clock = clock
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
        if self._everything:  # fast path: merge in place, no partial tree built
            parts = _parts_of(topic)
            if parts is None:
                return False
            if not parts:
                if not isinstance(payload, dict):
                    return False
                deep_merge(self.tree, payload)
            else:
                _merge_at(self.tree, parts, payload)
            self.updates += 1
            return True
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
        now = (self._clock or default_clock()).monotonic
        deadline = now() + timeout
        while True:
            remaining = deadline - now()
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
                    ctx: zmq.SyncContext | None = None, feed: RocFeed | None = None,
                    clock: Clock | None = None) -> Any:
    """Subscribe to ``path`` and wait until its value satisfies ``predicate``; return it."""
    with StatusTree(feed, path, source=source if feed is None else None, ctx=ctx,
                    clock=clock) as tree:
        return tree.wait_for(path, predicate, timeout)
