"""Mirror of ``rapyuta_io.clients.plan``."""

from __future__ import annotations

from ..package import Plan

__all__ = ["Plan"]
