"""ProvisionConfiguration: the body of a deployment request, built and checked client-side."""

from __future__ import annotations

import copy
from typing import Any

from ._model import AttrDict, require_str
from .deployment import VOLUME_PACKAGE_ID, Deployment
from .device import Device
from .enums import RestartPolicy, Runtime, coerce_enum
from .errors import (
    AliasNotProvidedException,
    DuplicateAliasException,
    InvalidParameterException,
    OperationNotAllowedError,
    ParameterMissingException,
)
from .native_network import NativeNetwork
from .package import Plan
from .rosbag import ROSBagJob
from .routed_network import RoutedNetwork
from .static_route import StaticRoute

INSTANCE_ID = "instanceId"
ORGANIZATION_GUID = "organizationGuid"
SPACE_GUID = "spaceGuid"


class ExecutableMount:
    """Where a volume is mounted inside one executable."""

    def __init__(self, exec_name: str, mount_path: str, sub_path: str | None = None,
                 uid: int | None = None, gid: int | None = None, perm: int | None = None) -> None:
        require_str(exec_name, "exec_name")
        require_str(mount_path, "mount_path")
        if sub_path is not None:
            require_str(sub_path, "sub_path")
        for name, value in (("uid", uid), ("gid", gid), ("perm", perm)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidParameterException(f"{name} must be an int; got {value!r}")
        self.exec_name, self.mount_path, self.sub_path = exec_name, mount_path, sub_path
        self.uid, self.gid, self.perm = uid, gid, perm


class ProvisionConfiguration(AttrDict):
    """The provision request; its keys are exactly the PUT body (no private keys leak)."""

    def __init__(self, package_id: str, plan: Plan) -> None:
        super().__init__()
        self._plan = plan
        self._devices: dict[str, dict[str, Any]] = {}
        self._dependency_seen_aliases: set[str] = set()
        self._is_provisioned = False
        self.service_id = package_id
        self.plan_id = plan.plan_id
        self.api_version = "1.0.0"
        self.instance_id = INSTANCE_ID
        self.organization_guid = ORGANIZATION_GUID
        self.space_guid = SPACE_GUID
        self.accepts_incomplete = True
        self.parameters: dict[str, dict[str, Any]] = {"global": {}}
        self.context: dict[str, Any] = {
            "component_context": {}, "labels": [], "dependentDeployments": [],
            "diskMountInfo": [], "routedNetworks": [], "nativeNetworks": []}
        for comp in plan.component_list:
            cid = plan.get_component_id(comp["name"])
            params: dict[str, Any] = {"component_id": cid}
            for p in comp.get("parameters") or []:
                params[p["name"]] = p.get("default") or None
            self.parameters[cid] = params
            self.set_component_alias(comp["name"])
            for job_def in comp.get("rosBagJobDefs") or []:
                self.add_rosbag_job(comp["name"], ROSBagJob.from_definition(job_def))

    @property
    def plan(self) -> Plan:
        """The plan being provisioned."""
        return self._plan

    @property
    def is_provisioned(self) -> bool:
        """Whether this configuration was already used for a deployment."""
        return self._is_provisioned

    def mark_provisioned(self) -> None:
        """Record that this configuration was sent (it cannot be reused)."""
        self._is_provisioned = True

    def _component(self, component_name: Any) -> tuple[dict[str, Any], str]:
        if not isinstance(component_name, str) or not component_name:
            raise InvalidParameterException(
                f"component_name must be a non-empty string; got {component_name!r}")
        comp = self._plan._component(component_name)
        return comp, self._plan.get_component_id(component_name)

    def _ctx(self, cid: str) -> dict[str, Any]:
        ctx: dict[str, Any] = self.context["component_context"].setdefault(cid, {})
        return ctx

    # -- parameters, labels, aliases --------------------------------------------------------
    def add_parameter(self, component_name: str, key: str, value: Any) -> ProvisionConfiguration:
        """Set a component parameter."""
        _, cid = self._component(component_name)
        if not isinstance(key, str) or not key:
            raise InvalidParameterException(f"key must be a non-empty string; got {key!r}")
        self.parameters[cid][key] = value
        return self

    def add_label(self, key: str, value: str) -> ProvisionConfiguration:
        """Label the deployment."""
        if not key or not value:
            raise ParameterMissingException(
                f"key or value of parameter is missing; got {key!r}={value!r}")
        self.context["labels"].append({"key": key, "value": value})
        return self

    def set_component_alias(self, component_name: str, alias: str = "",
                            set_ros_namespace: bool = False) -> ProvisionConfiguration:
        """Set the component's alias (default: its name) and the ROS_NAMESPACE flag."""
        _, cid = self._component(component_name)
        if not isinstance(alias, str):
            raise InvalidParameterException(f"alias must be a string; got {alias!r}")
        if not isinstance(set_ros_namespace, bool):
            raise InvalidParameterException("set_ros_namespace must be a boolean")
        self.parameters[cid]["bridge_params"] = {"alias": alias or component_name,
                                                 "setROSNamespace": set_ros_namespace}
        return self

    def add_restart_policy(self, component_name: str,
                           restart_policy: RestartPolicy | str) -> ProvisionConfiguration:
        """Set the component's restart policy."""
        policy = coerce_enum(RestartPolicy, restart_policy, "restart_policy")
        _, cid = self._component(component_name)
        self._ctx(cid).setdefault("component_override", {})["restart_policy"] = policy.value
        return self

    # -- devices ----------------------------------------------------------------------------
    def add_device(self, component_name: str, device: Device,
                   ignore_device_config: list[str] | None = None,
                   set_component_alias: bool = True) -> ProvisionConfiguration:
        """Deploy the component on ``device`` (fetches the device's config variables)."""
        comp, cid = self._component(component_name)
        if not isinstance(device, Device):
            raise InvalidParameterException(
                f"device must be a Device (from client.get_device()); got {type(device).__name__}")
        if comp.get("requiredRuntime") != Runtime.DEVICE.value:
            raise OperationNotAllowedError(
                f"component {component_name!r} has requiredRuntime "
                f"{comp.get('requiredRuntime')!r}; only device components take a device")
        ignore = list(ignore_device_config or [])
        configs = device.get_config_variables()
        docker, preinstalled = device.is_docker_enabled(), device.is_preinstalled_enabled()
        for exe in comp.get("executables") or []:
            is_docker = bool(exe.get("buildGUID") or exe.get("gitExecutable") or exe.get("docker"))
            if is_docker and not docker:
                raise OperationNotAllowedError(
                    f"Device must be a {Device.DOCKER_COMPOSE} device: executable "
                    f"{exe.get('name')!r} is a docker image and {device.get('name')!r} is not")
            if not is_docker and not preinstalled:
                raise OperationNotAllowedError(
                    f"Device must be a {Device.PRE_INSTALLED} device: executable "
                    f"{exe.get('name')!r} is preinstalled and {device.get('name')!r} is not")
        if not preinstalled and "ros_workspace" not in ignore:
            ignore.append("ros_workspace")
        if not docker and "rosbag_mount_path" not in ignore:
            ignore.append("rosbag_mount_path")
        params = self.parameters[cid]
        uuid = require_str(device.get("uuid") or device.get("deviceId"), "device uuid")
        params["device_id"] = uuid
        if set_component_alias:
            self.set_component_alias(component_name, str(device.get("name") or uuid))
        for cfg in configs:
            if cfg.get("key") not in ignore:
                params[cfg["key"]] = cfg.get("value")
        is_ros = bool((comp.get("ros") or {}).get("isROS"))
        if not is_ros:
            params.pop("ros_distro", None)
        if preinstalled:
            if "ros_workspace" not in ignore and not params.get("ros_workspace"):
                raise InvalidParameterException(
                    f"ros_workspace is not set on device {device.get('name')!r}: add the config "
                    "variable ros_workspace")
            if is_ros and not params.get("ros_distro"):
                raise InvalidParameterException(
                    f"ros_distro is not set on device {device.get('name')!r}")
        ids = self.parameters["global"].setdefault("device_ids", [])
        if uuid not in ids:
            ids.append(uuid)
        self._devices[uuid] = {"docker": docker, "preinstalled": preinstalled,
                               "runtime": device.get_runtime(), "name": device.get("name"),
                               "rosbag_mount_path": params.get("rosbag_mount_path")
                               or device._config_value("rosbag_mount_path")}
        return self

    # -- networks ---------------------------------------------------------------------------
    def _add_network(self, key: str, kind: str, guid: str, runtime: Any,
                     network_interface: str | None) -> None:
        if str(runtime) == Runtime.CLOUD.value and network_interface:
            raise OperationNotAllowedError(f"cloud {kind} does not bind to network interface")
        entries: list[dict[str, Any]] = self.context[key]
        entry = next((e for e in entries if e.get("guid") == guid), None)
        if entry is None:
            entry = {"guid": guid}
            entries.append(entry)
        if network_interface:
            entry["bindParameters"] = {"NETWORK_INTERFACE": network_interface}

    def add_routed_network(self, routed_network: RoutedNetwork,
                           network_interface: str | None = None) -> ProvisionConfiguration:
        """Bind the deployment to a routed network."""
        if not isinstance(routed_network, RoutedNetwork):
            raise InvalidParameterException("routed networks must be of type RoutedNetwork")
        guid = require_str(routed_network.get("guid"), "routed network guid")
        self._add_network("routedNetworks", "routed network", guid, routed_network.get("runtime"),
                          network_interface)
        return self

    def add_routed_networks(self, routed_networks: list[RoutedNetwork]) -> ProvisionConfiguration:
        """Bind the deployment to several routed networks."""
        for rn in routed_networks:
            self.add_routed_network(rn)
        return self

    def add_native_network(self, native_network: NativeNetwork,
                           network_interface: str | None = None) -> ProvisionConfiguration:
        """Bind the deployment to a native network."""
        if not isinstance(native_network, NativeNetwork):
            raise InvalidParameterException("native network must be of type NativeNetwork")
        guid = require_str(native_network.guid, "native network guid (create it first)")
        self._add_network("nativeNetworks", "native network", guid,
                          native_network.get("runtime"), network_interface)
        return self

    def add_native_networks(self, native_networks: list[NativeNetwork]) -> ProvisionConfiguration:
        """Bind the deployment to several native networks."""
        for nn in native_networks:
            self.add_native_network(nn)
        return self

    # -- rosbags, routes, volumes, dependencies ---------------------------------------------
    def add_rosbag_job(self, component_name: str, rosbag_job: ROSBagJob) -> ProvisionConfiguration:
        """Record a rosbag in a ROS component."""
        comp, cid = self._component(component_name)
        if not isinstance(rosbag_job, ROSBagJob):
            raise InvalidParameterException("rosbag_job needs to a ROSBagJob object")
        if not (comp.get("ros") or {}).get("isROS"):
            raise OperationNotAllowedError(
                f"rosbag job is only supported for ros components; {component_name!r} is not ROS")
        jobs = self._ctx(cid).setdefault("ros_bag_job_defs", [])
        if any(j["name"] == rosbag_job.name for j in jobs):
            raise OperationNotAllowedError(
                f"rosbag job with same name already exists: {rosbag_job.name!r}")
        jobs.append(rosbag_job.serialize())
        return self

    def remove_rosbag_job(self, component_name: str, job_name: str) -> ProvisionConfiguration:
        """Remove a rosbag job by name."""
        _, cid = self._component(component_name)
        ctx = self._ctx(cid)
        ctx["ros_bag_job_defs"] = [j for j in ctx.get("ros_bag_job_defs", [])
                                   if j["name"] != job_name]
        return self

    def add_static_route(self, component_name: str, endpoint_name: str,
                         static_route: StaticRoute) -> ProvisionConfiguration:
        """Expose ``endpoint_name`` of the component on a static route."""
        if not isinstance(static_route, StaticRoute):
            raise TypeError(f"{static_route!r} is not of type Static Route")
        _, cid = self._component(component_name)
        require_str(endpoint_name, "endpoint_name")
        self._ctx(cid).setdefault("static_route_config", {})[endpoint_name] = static_route.guid
        return self

    def mount_volume(self, component_name: str, volume: Deployment | None = None,
                     device: Device | None = None, mount_path: str | None = None,
                     executable_mounts: list[ExecutableMount] | None = None,
                     ) -> ProvisionConfiguration:
        """Mount a device path (``device``) or a persistent volume deployment (``volume``)."""
        if (volume is None) == (device is None):
            raise InvalidParameterException("give exactly one of volume= or device=")
        _, cid = self._component(component_name)
        mounts = executable_mounts
        if mounts is not None and (not isinstance(mounts, list)
                                   or not all(isinstance(m, ExecutableMount) for m in mounts)):
            raise InvalidParameterException("executable_mounts must be a list of ExecutableMount")
        if device is not None:
            if not isinstance(device, Device):
                raise InvalidParameterException("device must be of type Device")
            if not mounts:
                raise InvalidParameterException(
                    "executable_mounts (a list of ExecutableMount) is required for device volumes")
            uuid = device.get("uuid")
            if self.parameters[cid].get("device_id") != uuid:
                raise OperationNotAllowedError(
                    f"Device must be added to the component first: add_device({component_name!r},"
                    " device)")
            if not self._devices.get(str(uuid), {}).get("docker"):
                raise OperationNotAllowedError(f"Device must be a {Device.DOCKER_COMPOSE} device")
            self.context["diskMountInfo"].append({
                "diskResourceId": uuid, "applicableComponentId": cid,
                "config": {"mountPaths": {m.exec_name: {"mountPath": m.mount_path,
                                                        "subPath": m.sub_path or "/"}
                                          for m in mounts}}})
            return self
        assert volume is not None
        if not isinstance(volume, Deployment) or volume.get("packageId") != VOLUME_PACKAGE_ID:
            raise InvalidParameterException(
                f"volume must be a Deployment of the {VOLUME_PACKAGE_ID} package")
        if (mount_path is None) == (mounts is None):
            raise InvalidParameterException(
                "One of mount_path or executable_mounts should be present")
        if volume.get_status().get("phase") != "Succeeded":
            raise OperationNotAllowedError("Dependent deployment is not running")
        config: dict[str, Any] = {}
        if mount_path is not None:
            config["mountPath"] = mount_path
        else:
            config["mountPaths"] = {
                m.exec_name: {"mountPath": m.mount_path, **({"subPath": m.sub_path}
                                                           if m.sub_path else {})}
                for m in mounts or []}
        self.context["dependentDeployments"].append({
            "dependentDeploymentId": volume["deploymentId"], "applicableComponentId": cid,
            "config": config})
        return self

    def add_dependent_deployment(self, deployment: Deployment,
                                 ready_phases: list[str] | None = None) -> ProvisionConfiguration:
        """Depend on another deployment (refreshed first; it must be in ``ready_phases``)."""
        if not isinstance(deployment, Deployment):
            raise InvalidParameterException("deployment must be of type Deployment")
        phases = [str(p) for p in (ready_phases or ["Succeeded"])]
        deployment.refresh()
        if deployment.get("phase") not in phases:
            raise OperationNotAllowedError(
                f"dependent deployment is not ready: {deployment.get('name')!r} is in phase "
                f"{deployment.get('phase')!r}, not one of {phases}")
        for params in (deployment.get("parameters") or {}).values():
            alias = (params.get("bridge_params") or {}).get("alias") if isinstance(
                params, dict) else None
            if alias:
                self._dependency_seen_aliases.add(alias)
        self.context["dependentDeployments"].append({
            "dependentDeploymentId": deployment["deploymentId"], "applicableComponentId": "",
            "config": {}})
        return self

    # -- validation and body ----------------------------------------------------------------
    def validate(self) -> bool:
        """The SDK's pre-provision checks (devices, rosbag support, parameters, aliases)."""
        for comp in self._plan.component_list:
            cid = self._plan.get_component_id(comp["name"])
            params = self.parameters[cid]
            if comp.get("requiredRuntime") == Runtime.DEVICE.value:
                if not params.get("device_id"):
                    raise OperationNotAllowedError(
                        f"component is not mapped with the device: call "
                        f"add_device({comp['name']!r}, device) before provisioning")
                if self._ctx_get(cid, "ros_bag_job_defs"):
                    info = self._devices.get(params["device_id"], {})
                    if info.get("runtime") == Device.PRE_INSTALLED:
                        raise InvalidParameterException(
                            "ROSBag on Device does not support Preinstalled devices")
                    if not info.get("rosbag_mount_path"):
                        raise InvalidParameterException(
                            "This device does not have ROSBag components installed. Please "
                            "re-onboard the device to use ROSBag features")
            for p in comp.get("parameters") or []:
                if params.get(p["name"]) in (None, ""):
                    raise InvalidParameterException(
                        f"Provide the value for the parameter {p['name']} in component "
                        f"{comp['name']}: add_parameter({comp['name']!r}, {p['name']!r}, value)")
        self._validate_aliases()
        return True

    def _ctx_get(self, cid: str, key: str) -> Any:
        return self.context["component_context"].get(cid, {}).get(key)

    def _validate_aliases(self) -> None:
        needs = self._plan.needs_aliases() or bool(self._dependency_seen_aliases)
        if not needs:
            return
        seen = set(self._dependency_seen_aliases)
        for comp in self._plan.component_list:
            cid = self._plan.get_component_id(comp["name"])
            alias = (self.parameters[cid].get("bridge_params") or {}).get("alias")
            if not alias:
                raise AliasNotProvidedException(
                    f"component {comp['name']!r} needs an alias: set_component_alias()")
            if alias in seen:
                raise DuplicateAliasException(
                    f"alias {alias!r} of component {comp['name']!r} is already used; aliases must "
                    "be unique across components and dependent deployments")
            seen.add(alias)

    def request_body(self, deployment_name: str) -> dict[str, Any]:
        """Validate and return the PUT body (a deep copy) for ``deployment_name``."""
        self.validate()
        body = copy.deepcopy(dict(self))
        body["context"]["name"] = deployment_name
        if not (self._plan.needs_aliases() or self._dependency_seen_aliases):
            for key, params in body["parameters"].items():
                if key != "global" and isinstance(params, dict):
                    params.pop("bridge_params", None)
        self.context["name"] = deployment_name
        return body
