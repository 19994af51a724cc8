"""Small shared helpers: recording and re-raising exceptions seen while recording."""

from __future__ import annotations

import builtins
import importlib
from typing import Any

_REPLAYABLE_MODULES = ("builtins", "socket", "pytest_robofixtures", "paramiko", "zmq")


def exception_record(exc: BaseException) -> dict[str, Any]:
    """What to store about an exception a transport raised while recording."""
    cls = type(exc)
    return {"type": f"{cls.__module__}.{cls.__qualname__}", "message": str(exc)}


def exception_from_record(info: dict[str, Any]) -> BaseException:
    """Rebuild a recorded exception (its class when importable and safe, else RuntimeError)."""
    type_name = str(info.get("type", "builtins.RuntimeError"))
    message = str(info.get("message", ""))
    module_name, _, qualname = type_name.rpartition(".")
    cls: Any = None
    if module_name.startswith(_REPLAYABLE_MODULES) and "." not in qualname:
        try:
            module = builtins if module_name == "builtins" else importlib.import_module(module_name)
            cls = getattr(module, qualname, None)
        except ImportError:
            cls = None
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except Exception:
            pass
    return RuntimeError(f"{type_name}: {message} (recorded)")
