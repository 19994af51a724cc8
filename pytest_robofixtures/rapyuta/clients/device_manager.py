"""Mirror of ``rapyuta_io.clients.device_manager`` (its public enum)."""

from __future__ import annotations

from ..enums import DeviceArch

__all__ = ["DeviceArch"]
