"""Persistent volumes: the public volume package and its instances (catalog ``/disk``)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..common.polling import Backoff
from ._model import ObjDict, require_str
from ._poll import OnChange, poll_till_ready
from .deployment import VOLUME_PACKAGE_ID, Deployment
from .enums import _StrEnum
from .errors import APIError, InvalidParameterException
from .package import Plan

if TYPE_CHECKING:
    from ._rest import Rest

VOLUME_COMPONENT = "volumeComponent"


class DiskType(_StrEnum):
    """Disk types (``DEFAULT`` is ``SSD``, as in the SDK)."""

    SSD = "ssd"
    DEFAULT = "ssd"


class DiskCapacity(enum.IntEnum):
    """Disk sizes in GiB."""

    GiB_4 = 4
    GiB_8 = 8
    GiB_16 = 16
    GiB_32 = 32
    GiB_64 = 64
    GiB_128 = 128
    GiB_256 = 256
    GiB_512 = 512

    def __str__(self) -> str:
        return str(self.value)


class VolumeInstanceStatus(ObjDict):
    """The status of a volume instance: ``phase``, ``status``, ``errors``, ``componentInfo``, …."""


def _deployment_body(rest: Rest, deployment_id: str) -> dict[str, Any]:
    body = rest.catalog("GET", f"/serviceinstance/{deployment_id}")
    if not isinstance(body, dict):
        raise APIError(f"GET /serviceinstance/{deployment_id}: expected an object, got {body!r}")
    return body


def _disks(rest: Rest, deployment_ids: list[str] | None = None) -> list[dict[str, Any]]:
    params = {"deployment_guid": deployment_ids} if deployment_ids else None
    body = rest.catalog("GET", "/disk", params=params)
    return [d for d in body or [] if isinstance(d, dict)]


class VolumeInstance(Deployment):
    """A running persistent volume (a deployment of the volume package)."""

    def get_status(self, retry_limit: int = 0) -> VolumeInstanceStatus:  # type: ignore[override]
        """The volume's current state (``GET /serviceinstance/{deploymentId}``)."""
        # built from the Deployment's status, so it has the same (SDK-shaped) nested objects
        return VolumeInstanceStatus(super().get_status(retry_limit))

    def refresh(self, retry_limit: int = 0) -> VolumeInstance:
        """Fetch the volume again and update this object."""
        super().refresh(retry_limit)
        return self

    def poll_deployment_till_ready(  # type: ignore[override]
        self,
        retry_count: int = 50,
        sleep_interval: float = 6,
        ready_phases: Iterable[str] | None = None,
        *,
        timeout: float | None = None,
        on_change: OnChange | None = None,
        hint: float | None = None,
        backoff: Backoff | None = None,
    ) -> VolumeInstanceStatus:
        """Wait until the volume is ready (adaptive, bounded by ``timeout``; see Deployment)."""
        status: VolumeInstanceStatus = poll_till_ready(
            self.get_status, what=f"volume {self.get('name')!r} ({self._id})",
            retry_count=retry_count, sleep_interval=sleep_interval, timeout=timeout,
            clock=self._rest.clock, ready_phases=ready_phases or (), on_change=on_change,
            hint=hint, backoff=backoff)
        self.update(status)
        return status

    def destroy_volume_instance(self, retry_limit: int = 0) -> Any:
        """Delete the disk behind this volume (``DELETE /disk/{guid}``); the server's answer."""
        disks = _disks(self._rest, [self._id])
        if not disks:
            return None
        return self._rest.catalog("DELETE", f"/disk/{disks[0]['guid']}")


class PersistentVolumes(ObjDict):
    """The public persistent volume package; creates and lists volume instances."""

    def __init__(self, data: dict[str, Any], rest: Rest) -> None:
        super().__init__(data)
        self._rest = rest
        plans = self.get("plans") or []
        if not plans:
            raise APIError(f"the {VOLUME_PACKAGE_ID} package has no plan")
        self.plans = [Plan(plans[0])]

    def _volume(self, deployment_id: str) -> VolumeInstance:
        vol = VolumeInstance(_deployment_body(self._rest, deployment_id), self._rest)
        vol.is_partial = False
        return vol

    def create_volume_instance(self, name: str, capacity: DiskCapacity | int,
                               disk_type: DiskType | str = DiskType.DEFAULT,
                               retry_limit: int = 0, *,
                               on_created: Callable[[str], None] | None = None,
                               ) -> VolumeInstance:
        """Create a volume (``POST /disk``); ``on_created`` gets the volume's deployment id."""
        require_str(name, "name")
        if disk_type not in list(DiskType):
            raise InvalidParameterException(
                "disk_type must be of pytest_robofixtures.rapyuta.persistent_volumes.DiskType")
        if isinstance(capacity, bool) or not isinstance(capacity, int) \
                or capacity not in list(DiskCapacity):
            raise InvalidParameterException(
                "capacity must be one of pytest_robofixtures.rapyuta.persistent_volumes."
                f"DiskCapacity ({[c.value for c in DiskCapacity]} GiB); got {capacity!r}")
        payload = {"name": name, "runtime": "cloud", "capacity": int(capacity),
                   "diskType": str(DiskType(disk_type).value)}
        created = self._rest.catalog("POST", "/disk", json_body=payload)
        guid = created.get("guid") if isinstance(created, dict) else None
        if not isinstance(guid, str) or not guid:
            raise APIError(f"POST /disk: no guid in the answer {str(created)[:200]}")
        early = created.get("internalDeploymentGUID")
        if on_created is not None and isinstance(early, str) and early:
            on_created(early)  # before the reads below, so a failing read still tears down
        disk = self._rest.catalog("GET", f"/disk/{guid}")
        dep_id = disk.get("internalDeploymentGUID") if isinstance(disk, dict) else None
        if not isinstance(dep_id, str) or not dep_id:
            raise APIError(f"GET /disk/{guid}: no internalDeploymentGUID in {str(disk)[:200]}")
        if on_created is not None and dep_id != early:
            on_created(dep_id)
        return self._volume(dep_id)

    def get_volume_instance(self, volume_instance_id: str, retry_limit: int = 0) -> VolumeInstance:
        """A volume instance by its deployment id."""
        require_str(volume_instance_id, "volume_instance_id")
        return self._volume(volume_instance_id)

    def get_all_volume_instances(self, phases: list[Any] | None = None, retry_limit: int = 0,
                                 deploymentGUIDs: list[str] | None = None,  # noqa: N803
                                 ) -> list[VolumeInstance]:
        """The project's volume instances, optionally of some phases or deployment ids."""
        wanted = {str(p) for p in phases} if phases is not None else None
        out = []
        for disk in _disks(self._rest, deploymentGUIDs):
            vol = self._volume(str(disk["internalDeploymentGUID"]))
            if wanted is None or str(vol.get("phase")) in wanted:
                out.append(vol)
        return out
