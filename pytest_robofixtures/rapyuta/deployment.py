"""Deployments: instances of a package plan (catalog ``/serviceinstance``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..common.polling import Backoff
from ._model import ObjDict, require_str
from ._poll import OnChange, poll_till_ready
from .errors import APIError, ServiceBindingError

if TYPE_CHECKING:
    from ._rest import Rest

VOLUME_PACKAGE_ID = "io-public-persistent-volume"
#: the binding id the SDK uses when none is given
BIND_ID = "bind-rio"


class DeploymentStatus(ObjDict):
    """The body of ``GET /serviceinstance/{id}``: phase, status, errors, componentInfo, etc."""


class Deployment(ObjDict):
    """A deployment; its keys are the server's fields (deploymentId, name, phase, status, …)."""

    def __init__(self, data: dict[str, Any], rest: Rest, *, partial: bool = False) -> None:
        super().__init__(data)
        self._rest = rest
        self.is_partial = partial

    @property
    def _id(self) -> str:
        return require_str(self.get("deploymentId"), "deploymentId")

    def get_status(self, retry_limit: int = 0) -> DeploymentStatus:
        """The deployment's current state (one GET)."""
        body = self._rest.catalog("GET", f"/serviceinstance/{self._id}")
        if not isinstance(body, dict):
            raise APIError(f"GET /serviceinstance/{self._id}: expected an object, got {body!r}")
        return DeploymentStatus(body)

    def refresh(self, retry_limit: int = 0) -> Deployment:
        """Fetch the deployment again and update this object."""
        self.update(self.get_status())
        self.is_partial = False
        return self

    def poll_deployment_till_ready(
        self,
        retry_count: int = 50,
        sleep_interval: float = 6,
        ready_phases: Iterable[str] | None = None,
        *,
        timeout: float | None = None,
        on_change: OnChange | None = None,
        hint: float | None = None,
        backoff: Backoff | None = None,
    ) -> DeploymentStatus:
        """Wait until phase Succeeded and status Running (or a phase in ``ready_phases``).

        Adaptive: polls start sooner and end under ``sleep_interval`` (0 means 50 ms); gives
        up after ``timeout`` (default ``retry_count * sleep_interval``) with RetriesExhausted,
        and raises DeploymentNotRunningException as soon as the deployment fails. Returns the
        last status and updates this object with it.
        """
        status: DeploymentStatus = poll_till_ready(
            self.get_status, what=f"deployment {self.get('name')!r} ({self._id})",
            retry_count=retry_count, sleep_interval=sleep_interval, timeout=timeout,
            clock=self._rest.clock, ready_phases=ready_phases or (), on_change=on_change,
            hint=hint, backoff=backoff,
        )
        self.update(status)
        return status

    def get_service_binding(self, binding_id: str | None = None,
                            retry_limit: int = 0) -> ObjDict:
        """The deployment's credentials (``PUT …/service_bindings/{binding_id}``).

        404 → ServiceBindingError, as in the SDK.
        """
        binding = binding_id or BIND_ID
        body = self._rest.catalog(
            "PUT", f"/v2/service_instances/{self._id}/service_bindings/{binding}",
            json_body={"service_id": self.get("packageId"), "plan_id": self.get("planId")},
            overrides={404: ServiceBindingError})
        if not isinstance(body, dict):
            raise APIError(f"PUT …/service_bindings/{binding}: expected an object, got {body!r}")
        return ObjDict(body)

    def get_component_instance_id(self, component_name: str) -> str | None:
        """The ``componentInstanceID`` of the component named ``component_name`` (None if absent).

        Reads ``componentInfo`` of this object; a partial one (from a list) is refreshed first,
        where the SDK would fail on the missing field.
        """
        if self.get("is_partial") and "componentInfo" not in self:
            self.refresh()
        for info in self.get("componentInfo") or []:
            if info.get("name") == component_name:
                value = info.get("componentInstanceID")
                return str(value) if value is not None else None
        return None

    def deprovision(self, retry_limit: int = 0) -> bool:
        """Delete the deployment (``DELETE /v2/service_instances/{id}``)."""
        params = {"plan_id": self.get("planId", ""), "service_id": self.get("packageId", ""),
                  "accepts_incomplete": "false"}
        self._rest.request("DELETE", f"{self._rest.catalog_host}/v2/service_instances/{self._id}",
                           params=params)
        return True
