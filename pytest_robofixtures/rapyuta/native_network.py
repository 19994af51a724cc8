"""Native networks: ROS 2-style peer networks without a broker (catalog ``/nativenetwork``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..common.polling import Backoff
from ._model import ObjDict
from ._poll import OnChange, poll_till_ready
from .common_models import InternalDeploymentStatus
from .enums import (
    DeploymentPhaseConstants,
    DeploymentStatusConstants,
    RestartPolicy,
    ROSDistro,
    Runtime,
    coerce_enum,
)
from .errors import APIError, InvalidParameterException, OperationNotAllowedError

if TYPE_CHECKING:
    from ._rest import Rest

NATIVE_NETWORK_PATH = "nativenetwork"


def _maybe_enum(enum_cls: Any, value: Any) -> Any:
    """The enum member whose value is ``value``, else ``value`` unchanged (the SDK's enum_field)."""
    for member in enum_cls:
        if value == member.value:
            return member
    return value


def _status(data: dict[str, Any] | None) -> InternalDeploymentStatus | None:
    """The wire ``internalDeploymentStatus`` with phase and status as enums (None stays None)."""
    if data is None:
        return None
    return InternalDeploymentStatus(_maybe_enum(DeploymentPhaseConstants, data.get("phase")),
                                    _maybe_enum(DeploymentStatusConstants, data.get("status")),
                                    data.get("error_code"))


class NativeNetworkLimits(ObjDict):
    """CPU and memory (MB) of a cloud native network (the SDK's ``common_models.Limits``)."""

    def __init__(self, cpu: float, memory: int) -> None:
        super().__init__()
        if isinstance(cpu, bool) or not isinstance(cpu, (int, float)):
            raise InvalidParameterException("cpu must be a float or integer")
        if cpu <= 0:
            raise InvalidParameterException("cpu must be a positive number")
        if isinstance(memory, bool) or not isinstance(memory, int) or memory <= 0:
            raise InvalidParameterException("memory must be a positive integer")
        self.cpu, self.memory = cpu, memory


class Parameters(ObjDict):
    """Parameters of a native network: cloud ``limits``, or the device, interface and policy."""

    def __init__(self, limits: Any = None, device: Any = None,
                 network_interface: str | None = None,
                 restart_policy: RestartPolicy | str | None = None) -> None:
        super().__init__()
        if device is not None:
            if not hasattr(device, "get") or not device.get("uuid"):
                raise InvalidParameterException(
                    "device must be a Device with a uuid (from client.get_device())")
            interfaces = list((device.get("ip_interfaces") or {}).keys())
            if not interfaces:
                raise InvalidParameterException(
                    "ip_interfaces field must be present in the Device object: use the full "
                    "object of client.get_device()")
            if network_interface not in interfaces:
                raise InvalidParameterException(f"NETWORK_INTERFACE should be in {interfaces}")
        if restart_policy is not None:
            restart_policy = coerce_enum(RestartPolicy, restart_policy, "restart_policy")
        self.limits = limits
        self.device_id = device.get("uuid") if device is not None else None
        self.network_interface = network_interface
        self.restart_policy = restart_policy

    def serialize(self) -> dict[str, Any]:
        """The wire form (None fields left out, as the SDK)."""
        limits = self.limits
        if limits is not None and hasattr(limits, "cpu"):
            limits = {"cpu": limits.cpu, "memory": limits.memory}
        out = {"limits": limits, "device_id": self.device_id,
               "NETWORK_INTERFACE": self.network_interface,
               "restart_policy": self.restart_policy.value
               if isinstance(self.restart_policy, RestartPolicy) else self.restart_policy}
        return {k: v for k, v in out.items() if v is not None}

    @classmethod
    def deserialize(cls, data: dict[str, Any] | None) -> Parameters | None:
        """From the wire ``parameters`` (None stays None)."""
        if data is None:
            return None
        obj = cls.__new__(cls)
        limits = data.get("limits")
        obj.limits = ObjDict(limits) if isinstance(limits, dict) else limits
        obj.device_id = data.get("device_id")
        obj.network_interface = data.get("NETWORK_INTERFACE")
        obj.restart_policy = _maybe_enum(RestartPolicy, data.get("restart_policy"))
        return obj


class NativeNetwork(ObjDict):
    """A native network: ``NativeNetwork(name, runtime, ros_distro, parameters=None)``.

    After ``client.create_native_network`` or ``get_native_network`` it also carries ``guid``,
    ``owner_project``, ``creator``, ``internal_deployment_guid``, ``internal_deployment_status``
    (an :class:`InternalDeploymentStatus`), ``created_at`` and ``updated_at``.
    """

    NATIVE_NETWORK_PATH = NATIVE_NETWORK_PATH
    name: Any
    guid: str | None
    internal_deployment_status: InternalDeploymentStatus | None

    def __init__(self, name: str, runtime: Runtime | str, ros_distro: ROSDistro | str,
                 parameters: Parameters | None = None) -> None:
        super().__init__()
        self.validate(name, runtime, ros_distro, parameters)
        self._rest: Rest | None = None
        self.is_partial = False
        self.name = name
        self.runtime = coerce_enum(Runtime, runtime, "runtime")
        self.ros_distro = coerce_enum(ROSDistro, ros_distro, "ros_distro")
        self.parameters = parameters
        self.created_at = self.updated_at = self.guid = None
        self.owner_project = self.creator = self.internal_deployment_guid = None
        self.internal_deployment_status = None

    @staticmethod
    def validate(name: Any, runtime: Any, ros_distro: Any, parameters: Any = None) -> None:
        """The SDK's checks of a new native network."""
        if not name or not isinstance(name, str):
            raise InvalidParameterException("name must be a non-empty string")
        distro = coerce_enum(ROSDistro, ros_distro, "ros_distro")
        rt = coerce_enum(Runtime, runtime, "runtime")
        if distro == ROSDistro.NOETIC and rt == Runtime.DEVICE:
            raise InvalidParameterException("device runtime does not support noetic ros_distro yet")
        if parameters is not None and not isinstance(parameters, Parameters):
            raise InvalidParameterException(
                "parameters must be of type pytest_robofixtures.rapyuta.native_network.Parameters")
        if rt == Runtime.DEVICE:
            if parameters is None:
                raise InvalidParameterException("parameters must be present for device runtime")
            if not parameters.device_id:
                raise InvalidParameterException(
                    "device_id field must be present in Parameters for device runtime")
            if not parameters.network_interface:
                raise InvalidParameterException(
                    "network_interface must be present in Parameters for device runtime")

    def serialize(self) -> dict[str, Any]:
        """The POST body: ``name``, ``runtime``, ``rosDistro`` and ``parameters``."""
        body: dict[str, Any] = {"name": self.name, "runtime": str(self.runtime),
                                "rosDistro": str(self.ros_distro)}
        if self.parameters is not None:
            body["parameters"] = self.parameters.serialize()
        return body

    @classmethod
    def deserialize(cls, data: dict[str, Any], rest: Rest | None = None,
                    obj: NativeNetwork | None = None) -> NativeNetwork:
        """A NativeNetwork from a wire object (into ``obj`` when given)."""
        if obj is None:
            obj = cls.__new__(cls)
            obj._rest = rest
            obj.is_partial = True
        obj.name = data.get("name")
        obj.guid = data.get("guid")
        obj.owner_project = data.get("ownerProject")
        obj.creator = data.get("creator")
        obj.runtime = _maybe_enum(Runtime, data.get("runtime"))
        obj.ros_distro = _maybe_enum(ROSDistro, data.get("rosDistro"))
        obj.internal_deployment_guid = data.get("internalDeploymentGUID")
        obj.internal_deployment_status = _status(data.get("internalDeploymentStatus"))
        obj.parameters = Parameters.deserialize(data.get("parameters"))
        obj.created_at = data.get("CreatedAt")
        obj.updated_at = data.get("UpdatedAt")
        return obj

    # -- calls ------------------------------------------------------------------------------
    def _client(self) -> Rest:
        if self._rest is None or not self.guid:
            raise OperationNotAllowedError(
                "resource has not been created: use client.create_native_network(network)")
        return self._rest

    def _get_full_resource(self) -> dict[str, Any]:
        rest = self._client()
        body = rest.catalog("GET", f"/{NATIVE_NETWORK_PATH}/{self.guid}")
        if not isinstance(body, dict):
            raise APIError(f"GET /{NATIVE_NETWORK_PATH}/{self.guid}: expected an object, "
                           f"got {str(body)[:200]}")
        return body

    def get_status(self) -> InternalDeploymentStatus:
        """The current ``internal_deployment_status`` (one GET); ``errors`` holds the codes."""
        fresh = NativeNetwork.deserialize(self._get_full_resource())
        status = fresh.internal_deployment_status or InternalDeploymentStatus()
        status.errors = status.error_code or []
        return status

    def refresh(self) -> NativeNetwork:
        """Fetch the network again and update this object."""
        NativeNetwork.deserialize(self._get_full_resource(), obj=self)
        self.is_partial = False
        return self

    def get_error_code(self) -> list[str]:
        """The error codes of the internal deployment (empty when none)."""
        status = self.internal_deployment_status
        return list(getattr(status, "error_code", None) or [])

    def poll_native_network_till_ready(
        self, retry_count: int = 120, sleep_interval: float = 5, *,
        timeout: float | None = None, on_change: OnChange | None = None,
        hint: float | None = None, backoff: Backoff | None = None,
    ) -> NativeNetwork:
        """Wait until phase Succeeded and status Running; returns this object, refreshed.

        Adaptive like every poller here: ``sleep_interval`` shapes the schedule and
        ``retry_count * sleep_interval`` is the default ``timeout``. Raises
        DeploymentNotRunningException as soon as the network fails, RetriesExhausted on timeout.
        """
        status = poll_till_ready(
            self.get_status, what=f"native network {self.name!r} ({self.guid})",
            retry_count=retry_count, sleep_interval=sleep_interval, timeout=timeout,
            clock=self._client().clock, on_change=on_change, hint=hint, backoff=backoff)
        self.internal_deployment_status = InternalDeploymentStatus(
            status.phase, status.status, status.error_code)
        return self

    def delete(self) -> bool:
        """Delete the network (``DELETE /nativenetwork/{guid}``)."""
        self._client().catalog("DELETE", f"/{NATIVE_NETWORK_PATH}/{self.guid}")
        return True
