"""Mirror of ``rapyuta_io.clients.static_route``."""

from __future__ import annotations

from ..static_route import StaticRoute

__all__ = ["StaticRoute"]
