"""Packages and their plans (catalog ``/serviceclass``, ``/v2/catalog``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._model import ObjDict, require_str
from .deployment import Deployment
from .enums import DeploymentPhaseConstants, coerce_enum
from .errors import (
    APIError,
    ComponentNotFoundException,
    InvalidParameterException,
    PlanNotFound,
)

if TYPE_CHECKING:
    from ._rest import Rest
    from .provision import ProvisionConfiguration

_ROS_KINDS = ("topics", "services", "actions")


def _flag(value: Any) -> bool:
    """A scoped/targeted flag: True, or the string ``"true"`` (as manifests may carry it)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


class Plan(ObjDict):
    """A plan of a package: its components and their ids (``planId`` always set, as the SDK)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "planId" not in self and "id" in self:
            self["planId"] = self["id"]

    @property
    def plan_id(self) -> str:
        """The plan id (``planId``, or ``id`` in list answers)."""
        return str(self.get("planId") or self.get("id") or "")

    @property
    def component_list(self) -> list[dict[str, Any]]:
        """The component definitions."""
        comps = self.get("components") or []
        if isinstance(comps, dict):
            comps = comps.get("components") or []
        return list(comps)

    def _component(self, component_name: str) -> ObjDict:
        for comp in self.component_list:
            if comp.get("name") == component_name:
                return comp if isinstance(comp, ObjDict) else ObjDict(comp)
        known = [c.get("name") for c in self.component_list]
        raise ComponentNotFoundException(
            f"Component {component_name} is not found in plan {self.plan_id!r} "
            f"(components: {known})")

    def get_component_by_name(self, component_name: str) -> ObjDict | None:
        """The component named ``component_name``, or None (as the SDK)."""
        try:
            return self._component(component_name)
        except ComponentNotFoundException:
            return None

    def get_component_id(self, component_name: str) -> str:
        """The server-side id of the component; ComponentNotFoundException when unknown."""
        for internal in self.get("internalComponents") or []:
            if internal.get("componentName") == component_name:
                return str(internal["componentId"])
        comp = self._component(component_name)
        cid = comp.get("componentId") or comp.get("id")
        if not cid:
            raise ComponentNotFoundException(
                f"Internal components not found for the plan {self.plan_id!r}")
        return str(cid)

    def needs_aliases(self) -> bool:
        """Whether a component has scoped or targeted ROS interfaces (aliases are then needed)."""
        entries: list[Any] = []
        for comp in self.component_list:
            ros = comp.get("ros") or {}
            for kind in _ROS_KINDS:
                entries.extend(ros.get(kind) or [])
        inbound = self.get("inboundROSInterfaces") or {}
        if isinstance(inbound, dict) and isinstance(inbound.get("inboundROSInterfaces"), dict):
            inbound = inbound["inboundROSInterfaces"]  # the catalog nests it once more
        if isinstance(inbound, dict):
            if inbound.get("anyIncomingScopedOrTargetedRosConfig"):
                return True
            for kind in _ROS_KINDS:
                entries.extend(inbound.get(kind) or [])
        return any(isinstance(e, dict) and (_flag(e.get("scoped")) or _flag(e.get("targeted")))
                   for e in entries)

    def needs_alias(self) -> bool:
        """Alias of :meth:`needs_aliases` (the earlier name)."""
        return self.needs_aliases()


class Package(ObjDict):
    """A package; full objects (``get_package``) carry ``plans``; list entries are partial."""

    def __init__(self, data: dict[str, Any], rest: Rest, *, partial: bool = False) -> None:
        super().__init__(data)
        self._rest = rest
        self.is_partial = partial
        self["plans"] = [Plan(p) for p in data.get("plans") or []]

    @property
    def _id(self) -> str:
        return require_str(self.get("packageId"), "packageId")

    def refresh(self) -> Package:
        """Fetch the full package (``GET /serviceclass/status``) and update this object."""
        from .client import fetch_package_info

        info = fetch_package_info(self._rest, self._id)
        self.update(info)
        self["plans"] = [Plan(p) for p in info.get("plans") or []]
        self.is_partial = False
        return self

    def delete(self) -> None:
        """Delete the package."""
        self._rest.catalog("DELETE", "/serviceclass/delete", params={"package_uid": self._id})

    def deployments(self, phases: list[Any] | None = None,
                    retry_limit: int = 0) -> list[Deployment]:
        """The package's deployments, filtered server-side by phase."""
        params: dict[str, Any] = {"package_uid": self._id}
        if phases:
            params["phase"] = [
                coerce_enum(DeploymentPhaseConstants, p, "phase").value for p in phases]
        body = self._rest.catalog("GET", "/deployment/list", params=params)
        return [Deployment(d, self._rest, partial=True) for d in body or []]

    def get_plan_by_id(self, plan_id: str) -> Plan:
        """The plan ``plan_id``; PlanNotFound when the package has no such plan."""
        require_str(plan_id, "plan_id")
        return self.get_plan(plan_id)

    def get_plan(self, plan_id: str | None = None) -> Plan:
        """The plan ``plan_id`` (default: the first); the earlier name of get_plan_by_id."""
        if self.is_partial:
            self.refresh()
        plans: list[Plan] = self.get("plans") or []
        if not plans:
            raise PlanNotFound()
        if plan_id is None:
            return plans[0]
        for plan in plans:
            if plan.plan_id == plan_id:
                return plan
        raise PlanNotFound(plan_id)

    def get_provision_configuration(self, plan_id: str | None = None) -> ProvisionConfiguration:
        """A ProvisionConfiguration for ``plan_id`` (default: the first plan)."""
        from .provision import ProvisionConfiguration

        return ProvisionConfiguration(self._id, self.get_plan(plan_id))

    def provision(self, deployment_name: str, provision_configuration: ProvisionConfiguration,
                  retry_limit: int = 0, *,
                  on_created: Callable[[str], None] | None = None) -> Deployment:
        """Deploy the package (``PUT /v2/service_instances/instanceId``); returns the Deployment.

        ``on_created(deploymentId)`` is called as soon as the PUT answered, before the GET of
        the new deployment (so a failing read still leaves the id known).
        """
        from .provision import ProvisionConfiguration

        if not isinstance(deployment_name, str) or not deployment_name:
            raise InvalidParameterException(
                f"deployment_name must be a non-empty string; got {deployment_name!r}")
        if not isinstance(provision_configuration, ProvisionConfiguration):
            raise InvalidParameterException(
                "provision_configuration must be of type ProvisionConfiguration "
                "(use package.get_provision_configuration())")
        if provision_configuration.is_provisioned:
            raise InvalidParameterException(
                "cannot reuse this ProvisionConfiguration for provisioning; get a new one "
                "from package.get_provision_configuration()")
        if provision_configuration["service_id"] != self._id:
            raise InvalidParameterException(
                f"this ProvisionConfiguration is for package "
                f"{provision_configuration['service_id']!r}, not {self._id!r}")
        if self.is_partial:
            self.refresh()
        body = provision_configuration.request_body(deployment_name)
        answer = self._rest.catalog("PUT", "/v2/service_instances/instanceId", json_body=body)
        provision_configuration.mark_provisioned()
        if not isinstance(answer, dict) or not answer.get("operation"):
            raise APIError(f"PUT /v2/service_instances/instanceId: no operation in {answer!r}")
        if on_created is not None:
            on_created(str(answer["operation"]))
        status = self._rest.catalog("GET", f"/serviceinstance/{answer['operation']}")
        return Deployment(status, self._rest)
