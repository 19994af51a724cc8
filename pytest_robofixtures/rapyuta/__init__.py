"""rapyuta.io client with the official SDK's surface, built on a session with timeouts and retries.

>>> from pytest_robofixtures.rapyuta import Client, ROSDistro
>>> client = Client("token", "project-guid")                      # doctest: +SKIP
>>> net = client.create_cloud_routed_network("net", ROSDistro.NOETIC, True)  # doctest: +SKIP
>>> net.poll_routed_network_till_ready(timeout=120)               # doctest: +SKIP
"""

from __future__ import annotations

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
from .errors import *  # noqa: F403
from .errors import BuildFailed, BuildOperationFailed, ROSBagBlobError
from .errors import __all__ as _errors
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
from .utils import error  # noqa: F401  (``from rapyuta_io import error``, as the SDK)

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
