"""Compatibility path: the broker lives in :mod:`pytest_robofixtures.roc.server.broker`."""

from __future__ import annotations

from .server.broker import DEFAULT_MAX_FRAME_SIZE, RocBroker, start_broker

__all__ = ["DEFAULT_MAX_FRAME_SIZE", "RocBroker", "start_broker"]
