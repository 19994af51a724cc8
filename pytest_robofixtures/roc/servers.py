"""``run_simple_server`` where the seed imports it from (``runmacs.roc.servers``)."""

from __future__ import annotations

from .server.objects import run_simple_server

runSimpleServer = run_simple_server

__all__ = ["run_simple_server", "runSimpleServer"]
