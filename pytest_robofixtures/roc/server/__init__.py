"""ROC server side: the broker, object servers, the status updater, the logger, the log dump.

Imports only the shared wire modules (:mod:`~pytest_robofixtures.roc.protocol`,
:mod:`~pytest_robofixtures.roc.endpoints`, :mod:`~pytest_robofixtures.roc.topics`), never the
client side, so the sandbox can serve objects without importing any client code.
"""

from __future__ import annotations

from .broker import DEFAULT_MAX_FRAME_SIZE, RocBroker, start_broker
from .dispatch import ObjectDispatcher
from .logdump import LogDump, dump_logs
from .logger import RocLogger, initRocLogging
from .objects import RocServer, run_simple_server
from .publisher import Publisher
from .status import RocStatusUpdater

runSimpleServer = run_simple_server

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "LogDump",
    "ObjectDispatcher",
    "Publisher",
    "RocBroker",
    "RocLogger",
    "RocServer",
    "RocStatusUpdater",
    "dump_logs",
    "initRocLogging",
    "runSimpleServer",
    "run_simple_server",
    "start_broker",
]
