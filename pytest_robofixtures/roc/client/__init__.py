"""ROC client side: proxies, the transport (broker and direct path), status and log subscribers.

Imports only the shared wire modules (:mod:`~pytest_robofixtures.roc.protocol`,
:mod:`~pytest_robofixtures.roc.endpoints`, :mod:`~pytest_robofixtures.roc.topics`), never the
server side.
"""

from __future__ import annotations

from ..topics import log_subscriptions, subscriptions_for
from .feed import SubscriberFeed
from .logs import log_feed, logRecordIterator, to_log_record
from .proxy import RemoteMethod, RocClient, RocProxy
from .status import StatusTree, status_feed, statusUpdateIterator, wait_for_status
from .transport import ZmqRocTransport

__all__ = [
    "RemoteMethod",
    "RocClient",
    "RocProxy",
    "StatusTree",
    "SubscriberFeed",
    "ZmqRocTransport",
    "log_feed",
    "log_subscriptions",
    "logRecordIterator",
    "status_feed",
    "statusUpdateIterator",
    "subscriptions_for",
    "to_log_record",
    "wait_for_status",
]
