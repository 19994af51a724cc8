"""ROC distributed logging, sending side: structured JSON log records through the broker.

Wire format: ``[b"log.<LEVELNAME>.<logger.name>", json(record)]``, where ``record`` holds the
:class:`logging.LogRecord` attributes with the message already formatted (``msg``, ``args``
empty), ``exc_text`` preformatted, plus ``host`` and ``nodeId``. Receivers rebuild records with
:func:`logging.makeLogRecord`.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

import zmq

from ..endpoints import Endpoints
from ..protocol import LOG_PREFIX, dumps
from ..topics import log_topic
from .publisher import Publisher

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


class RocLogger(logging.Handler):
    """Handles python log messages by sending them over a zmq PUB socket (thread-safe).

    Records emitted while this handler is itself emitting (on the same thread) are dropped, so a
    logger used by ZeroMQ code underneath can never recurse through the handler.
    """

    def __init__(self, nodeId: str, destination: Endpoints | str | None,
                 ctx: zmq.SyncContext | None = None, level: int = logging.NOTSET) -> None:
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
            topic = log_topic(record.levelname, record.name)
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
    ctx: zmq.SyncContext | None = None,
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
