"""Compatibility path for status updates.

The receiving side (``StatusTree``, ``statusUpdateIterator``, ...) lives in
:mod:`pytest_robofixtures.roc.client.status`, topics and ``subscriptions_for`` in
:mod:`pytest_robofixtures.roc.topics`; ``RocStatusUpdater`` (server side, in
:mod:`pytest_robofixtures.roc.server.status`) is imported only on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .client.status import (
    StatusTree,
    deep_merge,
    filter_update,
    nest,
    parse_status_topic,
    status_feed,
    statusUpdateIterator,
    wait_for_status,
)
from .topics import status_topic, subscriptions_for

if TYPE_CHECKING:
    from .server.status import RocStatusUpdater

__all__ = ["RocStatusUpdater", "StatusTree", "deep_merge", "filter_update", "nest",
           "parse_status_topic", "status_feed", "status_topic", "statusUpdateIterator",
           "subscriptions_for", "wait_for_status"]


def __getattr__(name: str) -> Any:
    if name == "RocStatusUpdater":
        from .server.status import RocStatusUpdater

        return RocStatusUpdater
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
