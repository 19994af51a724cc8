"""ROC (remote object call over ZeroMQ): broker, object servers, clients, logs, status tree.

Usable without pytest. Wire protocol and conventions: :mod:`pytest_robofixtures.roc.protocol`.
"""

from __future__ import annotations

from .broker import RocBroker, start_broker
from .client import RemoteMethod, RocClient, RocProxy, ZmqRocTransport
from .endpoints import Endpoints, find_free_base_port
from .logdump import LogDump, dump_logs
from .logs import RocLogger, initRocLogging, log_feed, logRecordIterator, to_log_record
from .protocol import (
    RemoteAttributeError,
    RemoteError,
    RemoteTypeError,
    RocError,
    RocObjectNotFound,
    RocRequestExpired,
    RocTimeout,
)
from .pubsub import Publisher, SubscriberFeed
from .server import ObjectDispatcher, RocServer, run_simple_server
from .status import (
    RocStatusUpdater,
    StatusTree,
    status_feed,
    statusUpdateIterator,
    subscriptions_for,
    wait_for_status,
)

runSimpleServer = run_simple_server

__all__ = [
    "Endpoints",
    "LogDump",
    "ObjectDispatcher",
    "Publisher",
    "RemoteAttributeError",
    "RemoteError",
    "RemoteMethod",
    "RemoteTypeError",
    "RocBroker",
    "RocClient",
    "RocError",
    "RocLogger",
    "RocObjectNotFound",
    "RocProxy",
    "RocRequestExpired",
    "RocServer",
    "RocStatusUpdater",
    "RocTimeout",
    "StatusTree",
    "SubscriberFeed",
    "ZmqRocTransport",
    "dump_logs",
    "find_free_base_port",
    "initRocLogging",
    "log_feed",
    "logRecordIterator",
    "runSimpleServer",
    "run_simple_server",
    "start_broker",
    "status_feed",
    "statusUpdateIterator",
    "subscriptions_for",
    "to_log_record",
    "wait_for_status",
]
