"""ROC (remote object call over ZeroMQ): broker, object servers, clients, logs, status tree.

Usable without pytest. Wire protocol and conventions: :mod:`pytest_robofixtures.roc.protocol`.

The package is split in three:

* shared wire: :mod:`.protocol` (MDP constants, JSON-RPC conventions, errors, JSON codec),
  :mod:`.endpoints`, :mod:`.topics` (log/status topics and subscriptions);
* client side: :mod:`.client` (``RocClient``, ``RocProxy``, ``ZmqRocTransport``,
  ``SubscriberFeed``, ``StatusTree``, status and log iterators);
* server side: :mod:`.server` (``RocBroker``, ``RocServer``, ``RocStatusUpdater``,
  ``RocLogger``, the log dump, the ``rocbroker``/``roclogdump`` CLI).

Every public name is re-exported here lazily, so ``import pytest_robofixtures.roc.server``
(what the sandbox does) never imports the client side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.lazy import lazy_exports

if TYPE_CHECKING:  # the real imports happen lazily in __getattr__
    from .client import (
        RemoteMethod,
        RocClient,
        RocProxy,
        StatusTree,
        SubscriberFeed,
        ZmqRocTransport,
        log_feed,
        logRecordIterator,
        status_feed,
        statusUpdateIterator,
        to_log_record,
        wait_for_status,
    )
    from .endpoints import Endpoints, find_free_base_port
    from .protocol import (
        RemoteAttributeError,
        RemoteError,
        RemoteTypeError,
        RocError,
        RocObjectNotFound,
        RocRequestExpired,
        RocTimeout,
    )
    from .server import (
        LogDump,
        ObjectDispatcher,
        Publisher,
        RocBroker,
        RocLogger,
        RocServer,
        RocStatusUpdater,
        dump_logs,
        initRocLogging,
        run_simple_server,
        runSimpleServer,
        start_broker,
    )
    from .topics import log_subscriptions, subscriptions_for

_WHERE = {
    # shared wire
    "Endpoints": ".endpoints", "find_free_base_port": ".endpoints",
    "RemoteAttributeError": ".protocol", "RemoteError": ".protocol", "RemoteTypeError": ".protocol",
    "RocError": ".protocol", "RocObjectNotFound": ".protocol", "RocRequestExpired": ".protocol",
    "RocTimeout": ".protocol",
    "log_subscriptions": ".topics", "subscriptions_for": ".topics",
    # client side
    "RemoteMethod": ".client", "RocClient": ".client", "RocProxy": ".client",
    "StatusTree": ".client", "SubscriberFeed": ".client", "ZmqRocTransport": ".client",
    "log_feed": ".client", "logRecordIterator": ".client", "status_feed": ".client",
    "statusUpdateIterator": ".client", "to_log_record": ".client", "wait_for_status": ".client",
    # server side
    "LogDump": ".server", "ObjectDispatcher": ".server", "Publisher": ".server",
    "RocBroker": ".server", "RocLogger": ".server", "RocServer": ".server",
    "RocStatusUpdater": ".server", "dump_logs": ".server", "initRocLogging": ".server",
    "runSimpleServer": ".server", "run_simple_server": ".server", "start_broker": ".server",
}

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
    "logRecordIterator",
    "log_feed",
    "log_subscriptions",
    "runSimpleServer",
    "run_simple_server",
    "start_broker",
    "statusUpdateIterator",
    "status_feed",
    "subscriptions_for",
    "to_log_record",
    "wait_for_status",
]


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
