"""Mirror of ``rapyuta_io.rio_client``."""

from __future__ import annotations

from .client import Client

__all__ = ["Client"]
