"""Client of the rerobots API: rented robot workspaces, with ssh and camera helpers.

API-compatible with the official ``rerobots`` 0.11.0 (``APIClient``, ``Instance`` and the
exceptions of ``rerobots.api``), plus waiting, ssh exec with exit status, decoded camera frames
and host-key-pinned SSH with an in-memory private key. Usable without pytest.

Every public name is re-exported lazily: importing one module of the package (the plugin
imports only what it uses) does not import the others (ssh, camera, NumPy, Pillow...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.lazy import lazy_exports

if TYPE_CHECKING:  # the real imports happen lazily in __getattr__
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

_WHERE: dict[str, str] = {
    'CommandFailed': '..common.transports',
    'ExecResult': '..common.transports',
    'CAPABILITIES': '.api',
    'DEFAULT_BASE_URI': '.api',
    'FIREWALL_ACTIONS': '.api',
    'APIClient': '.api',
    'Camera': '.camera',
    'Frame': '.camera',
    'TOKEN_ENV': '.errors',
    'APIConnectionError': '.errors',
    'BusyWorkspaceDeployment': '.errors',
    'BusyWorkspaceInstance': '.errors',
    'CommandTimeout': '.errors',
    'Error': '.errors',
    'HostKeyMismatch': '.errors',
    'InstanceInitFailed': '.errors',
    'InstanceNotFound': '.errors',
    'InstanceNotReady': '.errors',
    'MissingAPIToken': '.errors',
    'SSHError': '.errors',
    'WaitTimeout': '.errors',
    'WrongAuthToken': '.errors',
    'ADDONS': '.instance',
    'INIT': '.instance',
    'INIT_FAIL': '.instance',
    'READY': '.instance',
    'STATUSES': '.instance',
    'TERMINATED': '.instance',
    'TERMINATING': '.instance',
    'Instance': '.instance',
    'addon_ready': '.instance',
    'ParamikoSSHSession': '.ssh',
    'SSHFactory': '.ssh',
    'hostkey_fingerprint': '.ssh',
    'paramiko_ssh_factory': '.ssh',
    'InstanceSSH': '.ssh_helper',
}

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


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
