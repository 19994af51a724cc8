"""rapyuta.io client with the official SDK's surface, built on a session with timeouts and retries.

>>> from pytest_robofixtures.rapyuta import Client, ROSDistro
>>> client = Client("token", "project-guid")                      # doctest: +SKIP
>>> net = client.create_cloud_routed_network("net", ROSDistro.NOETIC, True)  # doctest: +SKIP
>>> net.poll_routed_network_till_ready(timeout=120)               # doctest: +SKIP

Every public name is re-exported lazily: importing one module of the package (the plugin
imports only what it uses) does not import the others (ssh, camera, NumPy, Pillow...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.lazy import lazy_exports
from .errors import *  # noqa: F403
from .errors import __all__ as _errors
from .utils import error  # noqa: F401  (``from rapyuta_io import error``, as the SDK)

if TYPE_CHECKING:  # the real imports happen lazily in __getattr__
    from ._model import ObjDict, to_dict, to_objdict
    from .build import (
        Build,
        BuildOperation,
        BuildOperationInfo,
        BuildOptions,
        BuildStatus,
        CatkinOption,
        GithubWebhook,
        SimulationOptions,
        StrategyType,
    )
    from .client import DEFAULT_HOSTS, Client
    from .common_models import InternalDeploymentStatus
    from .deployment import Deployment, DeploymentStatus
    from .device import Device, OnboardScript
    from .device_models import (
        Command,
        DeviceConfig,
        Label,
        LogsUploadRequest,
        LogUploads,
        LogUploadStatus,
        Metric,
        SharedURL,
        TopicsStatus,
    )
    from .enums import (
        DeploymentPhaseConstants,
        DeploymentStatusConstants,
        DeviceArch,
        DevicePythonVersion,
        DeviceRuntime,
        DeviceRuntimeKeys,
        DeviceStatus,
        QoS,
        RestartPolicy,
        ROSDistro,
        Runtime,
        SystemMetric,
        TopicKind,
        TopicQOS,
    )
    from .errors import BuildFailed, BuildOperationFailed, ROSBagBlobError
    from .manifest import load_manifest, validate_manifest
    from .native_network import NativeNetwork
    from .package import Package, Plan
    from .persistent_volumes import (
        DiskCapacity,
        DiskType,
        PersistentVolumes,
        VolumeInstance,
        VolumeInstanceStatus,
    )
    from .provision import ExecutableMount, ProvisionConfiguration
    from .rosbag import (
        ComponentType,
        OverrideOptions,
        ROSBagBlob,
        ROSBagBlobStatus,
        ROSBagCompression,
        ROSBagInfo,
        ROSBagJob,
        ROSBagJobStatus,
        ROSBagOnDemandUploadOptions,
        ROSBagOptions,
        ROSBagTimeRange,
        ROSBagUploadTypes,
        TopicOverrideInfo,
        UploadOptions,
    )
    from .routed_network import Limits, Parameters, RoutedNetwork, RoutedNetworkLimits
    from .secret import Secret, SecretConfigDocker, SecretType
    from .static_route import StaticRoute

_WHERE: dict[str, str] = {
    'ObjDict': '._model',
    'to_dict': '._model',
    'to_objdict': '._model',
    'Build': '.build',
    'BuildOperation': '.build',
    'BuildOperationInfo': '.build',
    'BuildOptions': '.build',
    'BuildStatus': '.build',
    'CatkinOption': '.build',
    'GithubWebhook': '.build',
    'SimulationOptions': '.build',
    'StrategyType': '.build',
    'DEFAULT_HOSTS': '.client',
    'Client': '.client',
    'InternalDeploymentStatus': '.common_models',
    'Deployment': '.deployment',
    'DeploymentStatus': '.deployment',
    'Device': '.device',
    'OnboardScript': '.device',
    'Command': '.device_models',
    'DeviceConfig': '.device_models',
    'Label': '.device_models',
    'LogsUploadRequest': '.device_models',
    'LogUploads': '.device_models',
    'LogUploadStatus': '.device_models',
    'Metric': '.device_models',
    'SharedURL': '.device_models',
    'TopicsStatus': '.device_models',
    'DeploymentPhaseConstants': '.enums',
    'DeploymentStatusConstants': '.enums',
    'DeviceArch': '.enums',
    'DevicePythonVersion': '.enums',
    'DeviceRuntime': '.enums',
    'DeviceRuntimeKeys': '.enums',
    'DeviceStatus': '.enums',
    'QoS': '.enums',
    'RestartPolicy': '.enums',
    'ROSDistro': '.enums',
    'Runtime': '.enums',
    'SystemMetric': '.enums',
    'TopicKind': '.enums',
    'TopicQOS': '.enums',
    'BuildFailed': '.errors',
    'BuildOperationFailed': '.errors',
    'ROSBagBlobError': '.errors',
    'load_manifest': '.manifest',
    'validate_manifest': '.manifest',
    'NativeNetwork': '.native_network',
    'Package': '.package',
    'Plan': '.package',
    'DiskCapacity': '.persistent_volumes',
    'DiskType': '.persistent_volumes',
    'PersistentVolumes': '.persistent_volumes',
    'VolumeInstance': '.persistent_volumes',
    'VolumeInstanceStatus': '.persistent_volumes',
    'ExecutableMount': '.provision',
    'ProvisionConfiguration': '.provision',
    'ComponentType': '.rosbag',
    'OverrideOptions': '.rosbag',
    'ROSBagBlob': '.rosbag',
    'ROSBagBlobStatus': '.rosbag',
    'ROSBagCompression': '.rosbag',
    'ROSBagInfo': '.rosbag',
    'ROSBagJob': '.rosbag',
    'ROSBagJobStatus': '.rosbag',
    'ROSBagOnDemandUploadOptions': '.rosbag',
    'ROSBagOptions': '.rosbag',
    'ROSBagTimeRange': '.rosbag',
    'ROSBagUploadTypes': '.rosbag',
    'TopicOverrideInfo': '.rosbag',
    'UploadOptions': '.rosbag',
    'Limits': '.routed_network',
    'Parameters': '.routed_network',
    'RoutedNetwork': '.routed_network',
    'RoutedNetworkLimits': '.routed_network',
    'Secret': '.secret',
    'SecretConfigDocker': '.secret',
    'SecretType': '.secret',
    'StaticRoute': '.static_route',
}

__all__ = [
    "Client", "DEFAULT_HOSTS", "Deployment", "DeploymentStatus", "Device", "Command",
    "DeviceConfig", "Label", "LogsUploadRequest", "LogUploads", "LogUploadStatus", "Metric",
    "SharedURL", "TopicsStatus", "DeploymentPhaseConstants", "DeploymentStatusConstants",
    "DeviceArch", "DeviceRuntime", "DeviceStatus", "QoS", "RestartPolicy", "ROSDistro", "Runtime",
    "SystemMetric", "TopicKind", "TopicQOS", "load_manifest", "validate_manifest", "Package",
    "Plan", "ExecutableMount", "NativeNetwork", "ProvisionConfiguration", "StaticRoute",
    "OverrideOptions", "ROSBagCompression", "ROSBagJob", "ROSBagOnDemandUploadOptions",
    "ROSBagOptions", "ROSBagTimeRange", "ROSBagUploadTypes", "TopicOverrideInfo", "UploadOptions",
    "Limits", "Parameters", "RoutedNetwork", "RoutedNetworkLimits", *_errors,
    "DiskCapacity", "DiskType", "PersistentVolumes", "VolumeInstance",
    "VolumeInstanceStatus", "ComponentType", "ROSBagBlob", "ROSBagBlobError", "ROSBagBlobStatus",
    "ROSBagInfo", "ROSBagJobStatus", "Secret", "SecretConfigDocker", "SecretType", "Build",
    "BuildFailed", "BuildOperation", "BuildOperationFailed", "BuildOperationInfo", "BuildOptions",
    "BuildStatus", "CatkinOption", "GithubWebhook", "SimulationOptions", "StrategyType",
    "Limits", "Parameters", "RoutedNetwork", "RoutedNetworkLimits", "InternalDeploymentStatus",
    "OnboardScript", "DevicePythonVersion", "DeviceRuntimeKeys", "ObjDict", "to_dict",
    "to_objdict",
]


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
