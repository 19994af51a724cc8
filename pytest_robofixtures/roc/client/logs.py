"""ROC distributed logging, receiving side: subscribe to the log records sent through the broker.

Wire format: :mod:`pytest_robofixtures.roc.topics`; the senders are in
:mod:`pytest_robofixtures.roc.server.logger`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import zmq

from ...common.transports import RocFeed
from ..endpoints import Endpoints
from ..protocol import LOG_PREFIX
from ..topics import log_subscriptions
from .feed import SubscriberFeed

__all__ = ["log_feed", "logRecordIterator", "log_subscriptions", "to_log_record"]


def to_log_record(payload: dict[str, Any]) -> logging.LogRecord:
    """Rebuild a :class:`logging.LogRecord` from a received payload."""
    return logging.makeLogRecord(dict(payload))


def log_feed(source: Endpoints | str | None, levels: str | list[str] = "",
             ctx: zmq.SyncContext | None = None) -> SubscriberFeed:
    """A real feed subscribed to log records (all levels, or the given level names)."""
    return SubscriberFeed(source, log_subscriptions(levels), ctx)


def logRecordIterator(
    source: Endpoints | str | None,
    levels: str | list[str] = "",
    ctx: zmq.SyncContext | None = None,
    timeout: float | None = None,
    *,
    feed: RocFeed | None = None,
) -> Iterator[dict[str, Any] | None]:
    """Iterator over received log record payloads; yields None after ``timeout`` idle."""
    own = feed is None
    the_feed: RocFeed = feed if feed is not None else log_feed(source, levels, ctx)
    try:
        while True:
            item = the_feed.receive(timeout)
            if item is None:
                yield None
                continue
            topic, payload = item
            if topic.startswith(LOG_PREFIX) and isinstance(payload, dict):
                yield payload
    finally:
        if own:
            the_feed.close()
