"""Exceptions seen while recording, stored under stable recorded names and raised again in replay.

A recording names an exception type by a *recorded name* from :data:`EXCEPTION_NAMES`
(``"rerobots.BusyWorkspaceDeployment"``, ``"roc.RocTimeout"``, ``"socket.timeout"``,
``"paramiko.SSHException"``, ``"builtins.TimeoutError"``...), never by where the class lives
today: moving a module changes only the table, and a test resolves every name in it. Recordings
written before the table name types by module path; :data:`LEGACY_NAMES` (frozen, never derived
from the current code) maps those. A name in neither table is a :class:`RecordingCorrupt`, not a
silent ``RuntimeError``. Classes are imported only when a recorded exception is raised again, so
this module imports no client package.
"""

from __future__ import annotations

import builtins
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import RecordingCorrupt

_FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "socket": ("socket", ("timeout", "gaierror", "herror")),
    "paramiko": ("paramiko.ssh_exception", (
        "SSHException", "AuthenticationException", "BadAuthenticationType", "ChannelException",
        "ConfigParseError", "CouldNotCanonicalize", "IncompatiblePeer", "MessageOrderError",
        "NoValidConnectionsError", "PartialAuthentication", "PasswordRequiredException",
        "ProxyCommandFailure", "UnableToAuthenticate",
    )),
    "zmq": ("zmq.error", ("ZMQBaseError", "ZMQError", "ZMQBindError", "ZMQVersionError",
                          "NotDone")),
    "roc": ("pytest_robofixtures.roc.protocol", (
        "RocError", "RocTimeout", "RemoteError", "RocObjectNotFound", "RocRequestExpired",
        "RemoteAttributeError", "RemoteTypeError",
    )),
    "rerobots": ("pytest_robofixtures.rerobots.errors", (
        "Error", "BusyWorkspaceDeployment", "BusyWorkspaceInstance", "InstanceNotFound",
        "WrongAuthToken", "MissingAPIToken", "APIConnectionError", "InstanceNotReady",
        "InstanceInitFailed", "WaitTimeout", "SSHError", "HostKeyMismatch", "CommandTimeout",
    )),
    "rapyuta": ("pytest_robofixtures.rapyuta.errors", (
        "APIError", "BadRequestError", "UnauthorizedError", "ForbiddenError",
        "ResourceNotFoundError", "ConflictError", "InternalServerError", "RequestTimeout",
        "PackageNotFound", "ComponentNotFoundException", "PlanNotFound",
        "DeploymentNotRunningException", "RetriesExhausted", "InvalidParameterException",
        "OperationNotAllowedError", "ParameterMissingException", "DeviceNotFoundException",
        "ConfigNotFoundException", "LabelNotFoundException", "LogsUUIDNotFoundException",
        "DeploymentRunningException", "InvalidCommandException", "InvalidAuthTokenException",
        "UnknownTopicStatusException", "AliasNotProvidedException", "DuplicateAliasException",
    )),
}



def _from_message(cls: type[BaseException]) -> bool:
    try:
        cls("m")
    except Exception:
        return False
    return True


#: Recorded name -> ``module:qualname`` of the class it stands for now. Builtin exceptions that
#: cannot be built from a message alone (UnicodeDecodeError, ExceptionGroup) are recorded as
#: their nearest base class.
EXCEPTION_NAMES: dict[str, str] = {
    f"builtins.{name}": f"builtins:{name}"
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, Exception) and obj.__name__ == name
    and _from_message(obj)
}
EXCEPTION_NAMES.update({
    f"{family}.{name}": f"{module}:{name}"
    for family, (module, names) in _FAMILIES.items() for name in names
})

#: Module paths recordings wrote before recorded names (frozen: add an entry, never derive one).
LEGACY_NAMES: dict[str, str] = {
    **{f"paramiko.ssh_exception.{n}": f"paramiko.{n}" for n in _FAMILIES["paramiko"][1]},
    **{f"zmq.error.{n}": f"zmq.{n}" for n in _FAMILIES["zmq"][1]},
    **{f"pytest_robofixtures.roc.protocol.{n}": f"roc.{n}" for n in _FAMILIES["roc"][1]},
    **{f"pytest_robofixtures.rerobots.errors.{n}": f"rerobots.{n}"
       for n in _FAMILIES["rerobots"][1]},
    **{f"pytest_robofixtures.rapyuta.errors.{n}": f"rapyuta.{n}"
       for n in _FAMILIES["rapyuta"][1]},
    "socket.timeout": "socket.timeout",
    "socket.gaierror": "socket.gaierror",
    "socket.herror": "socket.herror",
}

# Recording looks classes up by where they live, so it imports nothing either.
_NAME_OF_TARGET: dict[str, str] = {}
for _name, _target in EXCEPTION_NAMES.items():
    _NAME_OF_TARGET.setdefault(_target, _name)
_classes: dict[str, type[BaseException]] = {}


def recorded_name(cls: type[BaseException]) -> str:
    """The recorded name of ``cls``, or of its nearest registered base class."""
    for klass in cls.__mro__:
        name = _NAME_OF_TARGET.get(f"{klass.__module__}:{klass.__qualname__}")
        if name is not None:
            return name
    return "builtins.Exception"  # only for BaseException subclasses outside Exception


def canonical_name(type_name: str) -> str | None:
    """The current recorded name for a name read from a recording (None: unknown)."""
    if type_name in EXCEPTION_NAMES:
        return type_name
    return LEGACY_NAMES.get(type_name)


def resolve(name: str) -> type[BaseException]:
    """The class a recorded name stands for (imported on first use)."""
    cls = _classes.get(name)
    if cls is None:
        module_name, _, qualname = EXCEPTION_NAMES[name].partition(":")
        found = getattr(importlib.import_module(module_name), qualname)
        if not (isinstance(found, type) and issubclass(found, BaseException)):
            raise TypeError(f"{EXCEPTION_NAMES[name]} is not an exception class")
        cls = _classes[name] = found
    return cls


def exception_record(exc: BaseException) -> dict[str, Any]:
    """What to store about an exception a transport raised while recording."""
    cls = type(exc)
    record: dict[str, Any] = {"type": recorded_name(cls), "message": str(exc)}
    if f"{cls.__module__}:{cls.__qualname__}" not in _NAME_OF_TARGET:
        record["class"] = f"{cls.__module__}.{cls.__qualname__}"  # for people; replay ignores it
    return record


def instantiate(cls: type[BaseException], message: str) -> BaseException:
    """An instance of ``cls`` whose text is ``message`` (constructors differ in signature)."""
    attempts: tuple[Callable[[], BaseException], ...] = (
        lambda: cls(message), lambda: cls(None, message))
    for attempt in attempts:
        try:
            exc = attempt()
            if message in str(exc):
                return exc
        except Exception:
            continue
    exc = cls.__new__(cls)
    BaseException.__init__(exc, message)
    str(exc)  # a class whose __str__ needs constructor state fails here, in the registry test
    return exc


def exception_from_record(
    info: dict[str, Any], recording: Path | None = None, rerecord_command: str = ""
) -> BaseException:
    """Rebuild a recorded exception; an unknown recorded name is :class:`RecordingCorrupt`."""
    type_name = str(info.get("type", ""))
    name = canonical_name(type_name)
    if name is None:
        raise unknown_type(type_name, recording, rerecord_command)
    return instantiate(resolve(name), str(info.get("message", "")))


def unknown_type(
    type_name: str, recording: Path | None, rerecord_command: str = ""
) -> RecordingCorrupt:
    """The error for an exception type name that no table knows."""
    return RecordingCorrupt(
        recording or Path("(recording)"),
        f"recorded exception type {type_name!r} is not a known recorded name (see "
        "pytest_robofixtures.recording._util.EXCEPTION_NAMES)",
        rerecord_command or "re-record the test",
    )
