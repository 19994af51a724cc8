"""ROC distributed logging: structured JSON log records published through the broker.

Wire format: ``[b"log.<LEVELNAME>.<logger.name>", json(record)]``, where ``record`` holds the
:class:`logging.LogRecord` attributes with the message already formatted (``msg``, ``args``
empty), ``exc_text`` preformatted, plus ``host`` and ``nodeId``. Receivers rebuild records with
:func:`logging.makeLogRecord` (see :func:`to_log_record`).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import zmq

from ..common.transports import RocFeed
from .endpoints import Endpoints
from .protocol import LOG_PREFIX, dumps
from .pubsub import Publisher, SubscriberFeed

_HOST = socket.gethostname()
_FIELDS = ("name", "levelno", "levelname", "pathname", "filename", "module", "lineno",
           "funcName", "created", "msecs", "relativeCreated", "thread", "threadName",
           "process", "processName")


def record_to_dict(record: logging.LogRecord, nodeId: str) -> dict[str, Any]:
    """The JSON-safe payload of a log record."""
    data: dict[str, Any] = {k: getattr(record, k, None) for k in _FIELDS}
    data["msg"] = record.getMessage()
    data["args"] = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    data["exc_text"] = record.exc_text
    data["stack_info"] = record.stack_info
    data["host"] = _HOST
    data["nodeId"] = nodeId
    return data


def to_log_record(payload: dict[str, Any]) -> logging.LogRecord:
    """Rebuild a :class:`logging.LogRecord` from a received payload."""
    return logging.makeLogRecord(dict(payload))


class RocLogger(logging.Handler):
    """Handles python log messages by sending them over a zmq PUB socket (thread-safe).

    Records emitted while this handler is itself emitting (on the same thread) are dropped, so a
    logger used by ZeroMQ code underneath can never recurse through the handler.
    """

    def __init__(self, nodeId: str, destination: Endpoints | str | None,
                 ctx: zmq.Context | None = None, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.nodeId = nodeId
        self._pub = Publisher(destination, ctx)
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        """Publish one record (never raises; errors go to handleError)."""
        if getattr(self._local, "busy", False):
            return
        self._local.busy = True
        try:
            topic = f"{LOG_PREFIX}{record.levelname}.{record.name}".encode()
            self._pub.send(topic, dumps(record_to_dict(record, self.nodeId)))
        except Exception:
            self.handleError(record)
        finally:
            self._local.busy = False

    def wait_for_subscriber(self, timeout: float = 5.0) -> bool:
        """Bounded slow-joiner handshake: wait until a log subscriber is connected."""
        return self._pub.wait_for_subscriber(LOG_PREFIX.encode(), timeout)

    def close(self) -> None:
        """Close the socket and detach."""
        try:
            self._pub.close()
        finally:
            super().close()


def initRocLogging(
    nodeId: str | None = None,
    destination: Endpoints | str | None = None,
    level: int = logging.INFO,
    ctx: zmq.Context | None = None,
    logger: logging.Logger | None = None,
) -> RocLogger:
    """Install a :class:`RocLogger` on ``logger`` (root by default) and return it.

    An earlier RocLogger installed on the same logger is removed and closed first, so calling
    this twice does not duplicate records.
    """
    target = logger or logging.getLogger()
    for h in list(target.handlers):
        if isinstance(h, RocLogger):
            target.removeHandler(h)
            h.close()
    handler = RocLogger(nodeId or socket.gethostname(), destination, ctx)
    target.addHandler(handler)
    if target.level == logging.NOTSET or target.level > level:
        target.setLevel(level)
    return handler


def log_subscriptions(levels: str | list[str] = "") -> list[bytes]:
    """SUB prefixes for log records: ``''`` for all, or level names such as ``['ERROR']``."""
    items = [levels] if isinstance(levels, str) else list(levels)
    if not items or "" in items:
        return [LOG_PREFIX.encode()]
    return [f"{LOG_PREFIX}{lv.upper()}.".encode() for lv in items]


def log_feed(source: Endpoints | str | None, levels: str | list[str] = "",
             ctx: zmq.Context | None = None) -> SubscriberFeed:
    """A real feed subscribed to log records (all levels, or the given level names)."""
    return SubscriberFeed(source, log_subscriptions(levels), ctx)


def logRecordIterator(
    source: Endpoints | str | None,
    levels: str | list[str] = "",
    ctx: zmq.Context | None = None,
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
