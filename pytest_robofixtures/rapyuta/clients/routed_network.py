"""Mirror of ``rapyuta_io.clients.routed_network``."""

from __future__ import annotations

from ..routed_network import Parameters, RoutedNetwork

__all__ = ["Parameters", "RoutedNetwork"]
