"""The six resource markers: their allowed arguments, and validation into plain dicts.

Each marker configures the fixture of the same name for one test, like ``django_db``. Unknown
keywords or positional arguments raise ``pytest.UsageError`` listing what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class MarkerSpec:
    """One marker: its keyword arguments and the line ``pytest --markers`` shows."""

    name: str
    keywords: tuple[str, ...]
    help: str
    positional: str | None = None  # the keyword a single positional argument stands for

    @property
    def line(self) -> str:
        args = ", ".join(self.keywords)
        return f"{self.name}({args}): {self.help}"


MARKERS: dict[str, MarkerSpec] = {
    spec.name: spec
    for spec in (
        MarkerSpec(
            "routed_network",
            ("name", "ros_distro", "shared", "runtime", "limits", "device", "network_interface",
             "timeout"),
            "configure the routed_network fixture (rapyuta.io routed network).",
            positional="name",
        ),
        MarkerSpec(
            "deployed_package",
            ("manifest", "package_id", "package_name", "plan", "name", "parameters", "labels",
             "restart_policy", "aliases", "timeout"),
            "configure the deployed_package fixture (rapyuta.io deployment).",
            positional="manifest",
        ),
        MarkerSpec(
            "online_device",
            ("name", "labels", "arch"),
            "select the rapyuta.io device online_device yields; no match skips the test.",
            positional="name",
        ),
        MarkerSpec(
            "rerobots_instance",
            ("workspace_types", "wdeployment_id", "addons", "duration", "vpn", "timeout",
             "shared"),
            "configure the rerobots_instance fixture (rented rerobots workspace); shared=True "
            "rents one per xdist worker for all tests asking for the same configuration.",
            positional="workspace_types",
        ),
        MarkerSpec(
            "roc_broker",
            ("base_port",),
            "configure the roc_broker fixture (ROC broker endpoints).",
            positional="base_port",
        ),
        MarkerSpec(
            "roc_object",
            ("object_id", "timeout"),
            "configure the roc_object fixture (proxy to a shared ROC object).",
            positional="object_id",
        ),
    )
}

_TYPES: dict[str, tuple[type, ...]] = {
    "timeout": (int, float),
    "shared": (bool,),
    "vpn": (bool,),
    "base_port": (int,),
    "duration": (int,),
    "labels": (dict, list),
    "parameters": (dict,),
    "aliases": (dict,),
    "addons": (list, tuple),
    "workspace_types": (list, tuple, str),
    "manifest": (dict, str),
    "arch": (str, list, tuple),
}


def marker_kwargs(item: pytest.Item, name: str) -> dict[str, Any]:
    """The validated keyword arguments of the closest ``name`` marker on ``item`` ({} if none)."""
    marker = item.get_closest_marker(name)
    if marker is None:
        return {}
    return validate(name, marker.args, marker.kwargs, where=item.nodeid)


def validate(
    name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any], where: str = ""
) -> dict[str, Any]:
    """Check a marker's arguments; return them as one dict or raise ``pytest.UsageError``."""
    spec = MARKERS[name]
    prefix = f"{where}: " if where else ""
    result = dict(kwargs)
    if args:
        if len(args) > 1 or spec.positional is None:
            raise pytest.UsageError(
                f"{prefix}@pytest.mark.{name} takes at most one positional argument "
                f"({spec.positional}); pass the others by keyword: {', '.join(spec.keywords)}"
            )
        if spec.positional in result:
            raise pytest.UsageError(
                f"{prefix}@pytest.mark.{name} got {spec.positional!r} twice"
            )
        result[spec.positional] = args[0]
    unknown = sorted(set(result) - set(spec.keywords))
    if unknown:
        raise pytest.UsageError(
            f"{prefix}@pytest.mark.{name} got unknown argument(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(spec.keywords)}"
        )
    for key, value in result.items():
        expected = _TYPES.get(key)
        if expected and value is not None and not isinstance(value, expected):
            names = " or ".join(t.__name__ for t in expected)
            raise pytest.UsageError(
                f"{prefix}@pytest.mark.{name}: {key} must be {names}, got {value!r}"
            )
        if key == "timeout" and value is not None and value <= 0:
            raise pytest.UsageError(f"{prefix}@pytest.mark.{name}: timeout must be > 0")
    return result
