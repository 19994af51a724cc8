"""Compatibility path for distributed logging.

The receiving side (``log_feed``, ``logRecordIterator``, ``to_log_record``) lives in
:mod:`pytest_robofixtures.roc.client.logs`, ``log_subscriptions`` in
:mod:`pytest_robofixtures.roc.topics`; ``RocLogger`` and ``initRocLogging`` (server side, in
:mod:`pytest_robofixtures.roc.server.logger`) are imported only on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .client.logs import log_feed, logRecordIterator, to_log_record
from .topics import log_subscriptions

if TYPE_CHECKING:
    from .server.logger import RocLogger, initRocLogging, record_to_dict

__all__ = ["RocLogger", "initRocLogging", "log_feed", "logRecordIterator", "log_subscriptions",
           "record_to_dict", "to_log_record"]


def __getattr__(name: str) -> Any:
    if name in ("RocLogger", "initRocLogging", "record_to_dict"):
        from .server import logger

        return getattr(logger, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
