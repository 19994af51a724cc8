"""The registry of resource kinds: one module per kind, read by markers, fixtures and reaper.

A :class:`~.base.Kind` is a fixture and a marker of the same name: its marker spec (keywords,
types, allowed values, what is required), how the fixture provisions it, and the
:class:`~.base.ResourceType` s it creates (how each is deleted, looked up by name after a lost
reply, and in which order the reaper deletes it). Adding a kind is writing one such module and
calling :func:`register` (from a conftest or plugin, at import or in the
``pytest_robofixtures_configure`` hook): the plugin then offers its fixture and marker like the
built-in ones, and ``robo.<name>(...)`` provisions it.
"""

from __future__ import annotations

from typing import Any

from . import device, package, rerobots_instance, roc, routed_network
from .base import SCOPE_PARAM, Clients, Kind, Param, Registry, ResourceType

REGISTRY = Registry()
for _module in (device, routed_network, package, rerobots_instance, roc):
    for _kind in _module.KINDS:
        REGISTRY.register(_kind)


def register(kind: Kind[Any]) -> Kind[Any]:
    """Register ``kind`` in the plugin's registry (see the module docstring)."""
    return REGISTRY.register(kind)


__all__ = ["REGISTRY", "SCOPE_PARAM", "Clients", "Kind", "Param", "Registry", "ResourceType",
           "register"]
