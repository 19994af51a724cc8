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

from . import (
    device,
    native_network,
    package,
    rerobots_instance,
    roc,
    rosbag,
    routed_network,
    volume,
)
from .base import SCOPE_PARAM, Clients, Kind, Param, Registry, ResourceType

_EXTRA: list[Kind[Any]] = []


def builtin_registry() -> Registry:
    """A registry of the built-in kinds plus those given to :func:`register`."""
    registry = Registry()
    for module in (device, routed_network, native_network, volume, package, rosbag,
                   rerobots_instance, roc):
        for kind in module.KINDS:
            registry.register(kind)
    for kind in _EXTRA:
        registry.register(kind)
    return registry


def register(kind: Kind[Any]) -> Kind[Any]:
    """Register ``kind`` for every run configured from now on (see the module docstring)."""
    _EXTRA[:] = [k for k in _EXTRA if k.name != kind.name]
    _EXTRA.append(kind)
    return kind


#: The registry of the built-in kinds (each pytest run configures its own copy).
REGISTRY = builtin_registry()


__all__ = ["REGISTRY", "SCOPE_PARAM", "Clients", "Kind", "Param", "Registry", "ResourceType",
           "builtin_registry", "register"]
