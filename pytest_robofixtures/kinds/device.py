"""The ``online_device`` kind: a rapyuta.io device that is ONLINE and matches (nothing created)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .base import Kind, Param

if TYPE_CHECKING:
    from ..factory import Robo
    from ..rapyuta import Device


class OnlineDeviceKind(Kind["Device"]):
    """An ONLINE rapyuta.io Device matching @pytest.mark.online_device(name, labels, arch)."""

    name = "online_device"
    help = "select the rapyuta.io device online_device yields; no match skips the test."
    params = (Param("name", (str,)), Param("labels", (dict, list)),
              Param("arch", (str, list, tuple)))
    positional = "name"

    def fixture(self, robo: Robo, request: pytest.FixtureRequest,
                kwargs: dict[str, Any]) -> Device:
        device = find_device(robo, **kwargs)
        if device is None:
            wanted = ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) or "any"
            message = f"no ONLINE rapyuta.io device matches ({wanted})"
            if robo.settings.require_devices:
                pytest.fail(message + " and --robo-require-devices is set", pytrace=False)
            pytest.skip(message)
        return device

    def provision(self, robo: Robo, **kwargs: Any) -> Device:
        device = find_device(robo, **kwargs)
        if device is None:
            raise LookupError(f"no ONLINE rapyuta.io device matches {kwargs}")
        return device


def find_device(robo: Robo, name: str | None = None,
                labels: dict[str, str] | list[str] | None = None,
                arch: str | list[str] | tuple[str, ...] | None = None) -> Device | None:
    """The first ONLINE device matching name, labels and architecture, or None."""
    from ..rapyuta import DeviceArch

    arch_list = None
    if arch is not None:
        arches = [arch] if isinstance(arch, str) else list(arch)
        arch_list = [DeviceArch(a) for a in arches]
    for partial in robo.rapyuta.get_all_devices(online_device=True, arch_list=arch_list):
        if name is not None and partial.name != name:
            continue
        device = robo.rapyuta.get_device(partial.uuid)
        if labels and not _labels_match(device, labels):
            continue
        robo.devices.append(device)
        robo.record.resources.append(f"device {device.name}")
        robo.event(f"device {device.name}", f"selected ({device.uuid}, ONLINE)")
        return device
    return None


def _labels_match(device: Any, wanted: dict[str, str] | list[str]) -> bool:
    have = {}
    for label in getattr(device, "labels", None) or []:
        key = label.get("key") if isinstance(label, dict) else getattr(label, "key", None)
        value = label.get("value") if isinstance(label, dict) else getattr(label, "value", None)
        have[key] = value
    if isinstance(wanted, dict):
        return all(have.get(k) == v for k, v in wanted.items())
    return all(k in have for k in wanted)


KINDS = (OnlineDeviceKind(),)
