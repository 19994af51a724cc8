"""Routed networks: the ROS communication plane between deployments (catalog ``/routednetwork``)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from ..common.polling import Backoff
from ._model import ObjDict, require_str
from ._poll import OnChange, poll_till_ready
from .common_models import InternalDeploymentStatus
from .errors import InvalidParameterException

if TYPE_CHECKING:
    from ._rest import Rest


class Limits:
    """CPU cores and memory (MB) of a routed network."""

    def __init__(self, cpu: float, memory: int) -> None:
        if isinstance(cpu, bool) or not isinstance(cpu, (int, float)) or cpu <= 0:
            raise InvalidParameterException(f"cpu must be a positive number; got {cpu!r}")
        if isinstance(memory, bool) or not isinstance(memory, int) or memory <= 0:
            raise InvalidParameterException(f"memory must be a positive int (MB); got {memory!r}")
        self.cpu = cpu
        self.memory = memory

    def to_dict(self) -> dict[str, Any]:
        """The wire form ``{"cpu": …, "memory": …}``."""
        return {"cpu": self.cpu, "memory": self.memory}

    def __repr__(self) -> str:
        return f"Limits(cpu={self.cpu!r}, memory={self.memory!r})"


class RoutedNetworkLimits(enum.Enum):
    """Size presets: SMALL (1 core, 4 GB), MEDIUM (2 cores, 8 GB), LARGE (4 cores, 16 GB)."""

    SMALL = (1, 4096)
    MEDIUM = (2, 8192)
    LARGE = (4, 16384)

    @property
    def cpu(self) -> int:
        """CPU cores."""
        return int(self.value[0])

    @property
    def memory(self) -> int:
        """Memory in MB."""
        return int(self.value[1])

    def to_dict(self) -> dict[str, Any]:
        """The wire form ``{"cpu": …, "memory": …}``."""
        return {"cpu": self.cpu, "memory": self.memory}


class Parameters:
    """Parameters of a cloud routed network: its resource ``limits``."""

    def __init__(self, limits: Limits | RoutedNetworkLimits | None = None) -> None:
        if limits is not None and not isinstance(limits, (Limits, RoutedNetworkLimits)):
            raise InvalidParameterException(
                "limits must be a RoutedNetworkLimits (SMALL/MEDIUM/LARGE) or a "
                f"Limits(cpu, memory); got {limits!r}")
        self.limits = limits

    def to_dict(self) -> dict[str, Any]:
        """The wire form ``{"limits": {…} | null}``."""
        return {"limits": self.limits.to_dict() if self.limits is not None else None}


def _status_of(body: dict[str, Any]) -> InternalDeploymentStatus:
    status = InternalDeploymentStatus(dict(body.get("internalDeploymentStatus") or {}))
    status["errors"] = list(status.error_code)
    return status


class RoutedNetwork(ObjDict):
    """A routed network; its keys are the server's fields (guid, name, runtime, phase, …)."""

    def __init__(self, data: dict[str, Any], rest: Rest, *, partial: bool = False) -> None:
        super().__init__()
        self._rest = rest
        self._absorb(data)
        self.is_partial = partial

    def _absorb(self, data: dict[str, Any]) -> None:
        self.update(data)
        raw = dict(data.get("internalDeploymentStatus") or {})
        status = InternalDeploymentStatus(raw)
        self["internalDeploymentStatus"] = status
        self["phase"] = status.get("phase")
        if "status" in raw:  # list entries carry only the phase
            self["status"] = status.get("status")
        self["error_code"] = status.get("error_code") or []

    def _get(self) -> dict[str, Any]:
        guid = require_str(self.get("guid"), "routed network guid")
        body = self._rest.catalog("GET", f"/routednetwork/{guid}")
        if not isinstance(body, dict):
            raise InvalidParameterException(f"unexpected routed network body: {body!r}")
        return body

    def refresh(self) -> RoutedNetwork:
        """Fetch the network again and update this object (phase and status included)."""
        self._absorb(self._get())
        self.is_partial = False
        return self

    def get_status(self) -> InternalDeploymentStatus:
        """``internalDeploymentStatus`` (phase, status, error_code) plus ``errors``."""
        return _status_of(self._get())

    def get_error_code(self) -> list[str]:
        """``internalDeploymentStatus.error_code`` of the last fetched state."""
        status = self.get("internalDeploymentStatus")
        return list(status.get("error_code") or []) if isinstance(status, dict) else []

    def delete(self) -> bool:
        """Delete the network; clears this object."""
        guid = require_str(self.get("guid"), "routed network guid")
        self._rest.catalog("DELETE", f"/routednetwork/{guid}")
        self.clear()
        return True

    def poll_routed_network_till_ready(
        self,
        retry_count: int = 120,
        sleep_interval: float = 5,
        *,
        timeout: float | None = None,
        on_change: OnChange | None = None,
        hint: float | None = None,
        backoff: Backoff | None = None,
    ) -> RoutedNetwork:
        """Wait until phase Succeeded and status Running; adaptive, bounded by ``timeout``.

        ``sleep_interval`` is the SDK's interval the schedule is made from (0, as the SDK
        allows, means 50 ms), ``hint`` the expected time-to-ready, if known, and
        ``retry_count * sleep_interval`` the default timeout. Unlike the SDK the object is
        refreshed with the final state.
        """
        name = self.get("name") or self.get("guid")
        status = poll_till_ready(
            self.get_status, what=f"routed network {name!r} ({self.get('guid')})",
            retry_count=retry_count, sleep_interval=sleep_interval, timeout=timeout,
            clock=self._rest.clock, on_change=on_change, hint=hint, backoff=backoff,
        )
        self["internalDeploymentStatus"] = InternalDeploymentStatus(
            {k: v for k, v in status.items() if k != "errors"})
        self["phase"], self["status"] = status.get("phase"), status.get("status")
        self["error_code"] = status.get("errors") or []
        return self
