"""Client of the rerobots API: rented robot workspaces, with ssh and camera helpers.

API-compatible with the official ``rerobots`` 0.11.0 (``APIClient``, ``Instance`` and the
exceptions of ``rerobots.api``), plus waiting, ssh exec with exit status, decoded camera frames
and host-key-pinned SSH with an in-memory private key. Usable without pytest.
"""

from __future__ import annotations

from ..common.transports import CommandFailed, ExecResult
from .api import CAPABILITIES, DEFAULT_BASE_URI, FIREWALL_ACTIONS, APIClient
from .camera import Camera, Frame
from .errors import (
    TOKEN_ENV,
    APIConnectionError,
    BusyWorkspaceDeployment,
    BusyWorkspaceInstance,
    CommandTimeout,
    Error,
    HostKeyMismatch,
    InstanceInitFailed,
    InstanceNotFound,
    InstanceNotReady,
    MissingAPIToken,
    SSHError,
    WaitTimeout,
    WrongAuthToken,
)
from .instance import (
    ADDONS,
    INIT,
    INIT_FAIL,
    READY,
    STATUSES,
    TERMINATED,
    TERMINATING,
    Instance,
    addon_ready,
)
from .ssh import ParamikoSSHSession, SSHFactory, hostkey_fingerprint, paramiko_ssh_factory
from .ssh_helper import InstanceSSH

__all__ = [
    "ADDONS",
    "CAPABILITIES",
    "DEFAULT_BASE_URI",
    "FIREWALL_ACTIONS",
    "INIT",
    "INIT_FAIL",
    "READY",
    "STATUSES",
    "TERMINATED",
    "TERMINATING",
    "TOKEN_ENV",
    "APIClient",
    "APIConnectionError",
    "BusyWorkspaceDeployment",
    "BusyWorkspaceInstance",
    "Camera",
    "CommandFailed",
    "CommandTimeout",
    "Error",
    "ExecResult",
    "Frame",
    "HostKeyMismatch",
    "Instance",
    "InstanceInitFailed",
    "InstanceNotFound",
    "InstanceNotReady",
    "InstanceSSH",
    "MissingAPIToken",
    "ParamikoSSHSession",
    "SSHError",
    "SSHFactory",
    "WaitTimeout",
    "WrongAuthToken",
    "addon_ready",
    "hostkey_fingerprint",
    "paramiko_ssh_factory",
]
