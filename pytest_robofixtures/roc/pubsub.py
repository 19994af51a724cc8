"""Compatibility path for the log/status sockets.

``SubscriberFeed`` (client side) lives in :mod:`pytest_robofixtures.roc.client.feed`;
``Publisher`` (server side) in :mod:`pytest_robofixtures.roc.server.publisher` and is imported
only on first use, so this module does not pull in the server side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .client.feed import SubscriberFeed

if TYPE_CHECKING:
    from .server.publisher import Publisher

__all__ = ["Publisher", "SubscriberFeed"]


def __getattr__(name: str) -> Any:
    if name == "Publisher":
        from .server.publisher import Publisher

        return Publisher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
