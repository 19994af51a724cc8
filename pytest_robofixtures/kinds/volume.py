"""The ``volume`` kind: a rapyuta.io persistent volume instance, ready, destroyed at teardown.

``deployed_package(volumes={"component": "/mount/path"})`` mounts the test's volume.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .base import Clients, Kind, Param, ResourceType, call_create

if TYPE_CHECKING:
    from ..factory import Robo
    from ..rapyuta import VolumeInstance

CAPACITIES = (4, 8, 16, 32, 64, 128, 256, 512)  # GiB, the platform's DiskCapacity values


def _delete(clients: Clients, ident: str, wait: bool, timeout: float) -> None:
    clients.rapyuta.get_volume_instance(ident).destroy_volume_instance()


def _find(clients: Clients, name: str, extra: Mapping[str, Any]) -> str | None:
    for volume in clients.rapyuta.get_persistent_volume().get_all_volume_instances():
        if volume.get("name") == name:
            return str(volume.get("deploymentId"))
    return None


def _gone() -> tuple[type[BaseException], ...]:
    from ..rapyuta.errors import ResourceNotFoundError

    return (ResourceNotFoundError,)


# After the deployments that mount it (order 0), which would make it refuse deletion.
VOLUME = ResourceType("rapyuta.volume_instance", "rapyuta", reap_order=1,
                      delete=_delete, find=_find, gone=_gone())


class VolumeKind(Kind["VolumeInstance"]):
    """A ready rapyuta.io persistent VolumeInstance, configured by @pytest.mark.volume(...)."""

    name = "volume"
    help = ("configure the volume fixture (rapyuta.io persistent volume; mount it with "
            "deployed_package(volumes={component: path})).")
    params = (
        Param("name", (str,)), Param("capacity", (int,), choices=CAPACITIES),
        Param("disk_type", (str,), choices=("ssd",)),
        Param("timeout", (int, float), positive=True),
    )
    positional = "name"
    resource_types = (VOLUME,)

    def provision(self, robo: Robo, **kwargs: Any) -> VolumeInstance:
        return create_volume(robo, **kwargs)


def create_volume(robo: Robo, name: str | None = None, capacity: int = 4,
                  disk_type: str = "ssd", timeout: float | None = None) -> VolumeInstance:
    """Create a persistent volume instance (``capacity`` GiB), wait until it is ready.

    It is destroyed at teardown, after the deployments mounting it were deprovisioned.
    """
    from ..rapyuta import DiskCapacity, DiskType

    client = robo.rapyuta
    full_name = robo.name(name or "vol")
    label = f"volume {full_name}"
    size, kind = DiskCapacity(capacity), DiskType(disk_type)
    package = client.get_persistent_volume()
    volume = robo.create(
        VOLUME, full_name, label,
        create=lambda on_created: call_create(package.create_volume_instance, on_created,
                                              lambda v: v.get("deploymentId"),
                                              full_name, size, kind),
        adopt=client.get_volume_instance,
    )
    with robo.waiting(label) as hint:
        volume.poll_deployment_till_ready(
            timeout=robo.timeout(timeout), on_change=robo.on_change(label), hint=hint
        )
    volume.refresh()
    robo.event(label, "ready")
    return volume


KINDS = (VolumeKind(),)
