"""Package manifests: load (JSON or YAML) and validate before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .enums import DeviceArch, Runtime
from .errors import InvalidParameterException


def _fail(field: str, problem: str) -> InvalidParameterException:
    return InvalidParameterException(f"invalid package manifest: {field} {problem}")


def _require_str(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        got = "is missing" if key not in obj else f"must be a non-empty string, got {value!r}"
        raise _fail(f"{where}{key}", got)
    return value


def _require_list(obj: dict[str, Any], key: str, where: str, *, non_empty: bool) -> list[Any]:
    if key not in obj:
        if non_empty:
            raise _fail(f"{where}{key}", "is missing")
        return []
    value = obj[key]
    if not isinstance(value, list) or (non_empty and not value):
        raise _fail(f"{where}{key}", f"must be a non-empty list, got {value!r}")
    return value


def _validate_component(comp: Any, where: str) -> str:
    if not isinstance(comp, dict):
        raise _fail(where.rstrip("."), f"must be an object, got {comp!r}")
    name = _require_str(comp, "name", where)
    runtimes = [r.value for r in Runtime]
    if "requiredRuntime" not in comp:
        raise _fail(f"{where}requiredRuntime", f"is missing (one of {runtimes})")
    if comp["requiredRuntime"] not in runtimes:
        raise _fail(f"{where}requiredRuntime",
                    f"must be one of {runtimes}, got {comp['requiredRuntime']!r}")
    arches = [a.value for a in DeviceArch]
    if "architecture" in comp and comp["architecture"] not in arches:
        raise _fail(f"{where}architecture",
                    f"must be one of {arches}, got {comp['architecture']!r}")
    if comp["requiredRuntime"] == Runtime.DEVICE.value and "architecture" not in comp:
        raise _fail(f"{where}architecture", f"is missing (device components need one of {arches})")
    exe_names: set[str] = set()
    for i, exe in enumerate(_require_list(comp, "executables", where, non_empty=True)):
        ewhere = f"{where}executables[{i}]."
        if not isinstance(exe, dict):
            raise _fail(ewhere.rstrip("."), f"must be an object, got {exe!r}")
        exe_name = _require_str(exe, "name", ewhere)
        if exe_name in exe_names:
            raise _fail(f"{ewhere}name", f"{exe_name!r} is used twice in the component")
        exe_names.add(exe_name)
        cmd = exe.get("cmd", [])
        if not (isinstance(cmd, list) and all(isinstance(c, str) for c in cmd)):
            raise _fail(f"{ewhere}cmd", f"must be a list of strings, got {cmd!r}")
        is_docker = any(exe.get(k) for k in ("docker", "gitExecutable", "buildGUID"))
        if comp["requiredRuntime"] == Runtime.CLOUD.value and not is_docker:
            raise _fail(f"{ewhere}docker", "is missing (cloud executables run a docker image)")
        if not is_docker and not cmd:
            raise _fail(f"{ewhere}cmd", "is missing (an executable needs a cmd or a docker image)")
    for i, param in enumerate(_require_list(comp, "parameters", where, non_empty=False)):
        pwhere = f"{where}parameters[{i}]."
        if not isinstance(param, dict):
            raise _fail(pwhere.rstrip("."), f"must be an object, got {param!r}")
        _require_str(param, "name", pwhere)
    ros = comp.get("ros", {})
    if not isinstance(ros, dict):
        raise _fail(f"{where}ros", f"must be an object, got {ros!r}")
    if "isROS" in ros and not isinstance(ros["isROS"], bool):
        raise _fail(f"{where}ros.isROS", f"must be true or false, got {ros['isROS']!r}")
    return name


def validate_manifest(manifest: Any) -> dict[str, Any]:
    """Check the fields the catalog needs; InvalidParameterException names the bad field."""
    if not isinstance(manifest, dict):
        raise InvalidParameterException(
            f"manifest must be a dict (a package manifest); got {type(manifest).__name__}")
    _require_str(manifest, "name", "")
    _require_str(manifest, "packageVersion", "")
    plan_names: set[str] = set()
    for p, plan in enumerate(_require_list(manifest, "plans", "", non_empty=True)):
        where = f"plans[{p}]."
        if not isinstance(plan, dict):
            raise _fail(f"plans[{p}]", f"must be an object, got {plan!r}")
        plan_name = _require_str(plan, "name", where)
        if plan_name in plan_names:
            raise _fail(f"{where}name", f"{plan_name!r} is used by two plans")
        plan_names.add(plan_name)
        if "singleton" in plan and not isinstance(plan["singleton"], bool):
            raise _fail(f"{where}singleton", f"must be true or false, got {plan['singleton']!r}")
        seen: set[str] = set()
        for c, comp in enumerate(_require_list(plan, "components", where, non_empty=True)):
            name = _validate_component(comp, f"{where}components[{c}].")
            if name in seen:
                raise _fail(f"{where}components[{c}].name", f"{name!r} is used twice in the plan")
            seen.add(name)
    return manifest


def load_manifest(path: str | Path) -> dict[str, Any]:
    """Read a manifest file: JSON, or YAML when it ends ``.yaml``/``.yml``; then validate it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidParameterException(
            f"cannot read package manifest file {str(p)!r}: {exc.strerror or exc}") from exc
    try:
        if p.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        kind = "YAML" if p.suffix.lower() in (".yaml", ".yml") else "JSON"
        raise InvalidParameterException(
            f"package manifest file {str(p)!r} is not valid {kind}: {exc}") from exc
    return validate_manifest(data)
