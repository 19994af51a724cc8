"""Compatibility path: the log dump lives in :mod:`pytest_robofixtures.roc.server.logdump`."""

from __future__ import annotations

from .server.logdump import LogDump, dump_logs, format_record

__all__ = ["LogDump", "dump_logs", "format_record"]
