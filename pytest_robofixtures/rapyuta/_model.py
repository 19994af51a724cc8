"""Attribute-access dicts (the SDK's ObjDict feel) and small input checks."""

from __future__ import annotations

from typing import Any

from .errors import InvalidParameterException


class ObjDict(dict[str, Any]):
    """A dict whose keys are also attributes; names starting with ``_`` stay private attributes."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            try:
                del self[name]
            except KeyError:
                raise AttributeError(name) from None


def require_str(value: Any, what: str) -> str:
    """``value`` if it is a non-empty string, else InvalidParameterException naming ``what``."""
    if not isinstance(value, str) or not value:
        raise InvalidParameterException(f"{what} must be a non-empty string; got {value!r}")
    return value


def drop_empty(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` without keys whose value is None or ``''`` (as the SDK sends device bodies)."""
    return {k: v for k, v in payload.items() if v is not None and v != ""}
